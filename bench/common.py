"""What the generator, the measurements and the HTTP runs share: the application on a
benchmark database, the progress bar, and the names of the benchmark's users."""
import gc
import os
import sys
import time
from pathlib import Path

from tracker import create_app
from tracker.config import Config, engine_options

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench-data"
RESULTS_DIR = ROOT / "bench-results"
#: Every benchmark user has this password (one scrypt hash, computed once).
PASSWORD = "bench-password-2026"
#: A fixed key, so that a session cookie made in one process opens pages in gunicorn's.
SECRET_KEY = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"


def sqlite_url() -> str:
    return f"sqlite:///{DATA_DIR / 'bench.sqlite3'}"


def database_urls() -> dict[str, str]:
    """The databases to measure: SQLite always, PostgreSQL when BENCH_DATABASE_URL says."""
    urls = {"sqlite": os.environ.get("BENCH_SQLITE_URL") or sqlite_url()}
    pg = os.environ.get("BENCH_DATABASE_URL", "")
    if pg:
        urls["postgresql"] = pg
    return urls


def bench_config(url: str) -> type[Config]:
    class BenchConfig(Config):
        ENV_NAME = "bench"
        SECRET_KEY = globals()["SECRET_KEY"]
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS = engine_options(url)
        WTF_CSRF_ENABLED = False
        SCHEDULER = "off"
        UPLOAD_FOLDER = str(DATA_DIR / "uploads")
        MAIL_OUTBOX_DIR = str(DATA_DIR / "outbox")

    if url.startswith("sqlite"):
        # Several gunicorn workers read one file: wait for a writer rather than fail.
        BenchConfig.SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"timeout": 30}}
    return BenchConfig


def make_app(url: str):
    DATA_DIR.mkdir(exist_ok=True)
    ignore = DATA_DIR / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# generated benchmark data: never committed\n*\n")
    app = create_app(bench_config(url))
    gc.freeze()  # as the served application does (wsgi.py)
    return app


class Progress:
    """A one-line progress bar on stderr: what, how far, how fast, how long to go."""

    def __init__(self, label: str, total: int, width: int = 30):
        self.label, self.total, self.width = label, max(1, total), width
        self.done = 0
        self.started = time.perf_counter()
        self._shown = 0.0
        self.is_tty = sys.stderr.isatty()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self._shown >= (0.2 if self.is_tty else 5.0) or self.done >= self.total:
            self._shown = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        share = min(1.0, self.done / self.total)
        filled = int(self.width * share)
        elapsed = now - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        line = (f"{self.label:<18} [{'#' * filled}{'.' * (self.width - filled)}] "
                f"{share:6.1%} {self.done:>10,}/{self.total:,}  {rate:>9,.0f}/s  "
                f"{elapsed:6.1f}s elapsed, {left:5.0f}s left")
        end = "\r" if self.is_tty and self.done < self.total else "\n"
        sys.stderr.write(line + end)
        sys.stderr.flush()

    def close(self) -> None:
        if self.done < self.total:
            self.done = self.total
            self._draw(time.perf_counter())
