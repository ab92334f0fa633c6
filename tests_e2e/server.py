"""The application as users meet it: a fresh SQLite database with the schema, the demo
world and the journeys' own data, served by gunicorn on a free loopback port.

`python -m tests_e2e.server` starts the same server by hand (for exploring the pages the
journeys visit) and prints its address and the accounts.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"


@dataclass
class Prepared:
    """What building the database found, reported at the end of the run."""

    workdir: Path
    env: dict[str, str]
    notes: list[str] = field(default_factory=list)
    demo_loaded: bool = False
    demo_output: str = ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def app_env(workdir: Path) -> dict[str, str]:
    """The environment of every process of the run: CLI, server and the test's own app."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TEST_DATABASE_URL", "SMTP_", "STORAGE_", "PUBLIC_BASE"))}
    env.update({
        "DATABASE_URL": f"sqlite:///{workdir / 'e2e.sqlite3'}",
        "UPLOAD_FOLDER": str(workdir / "uploads"),
        "MAIL_OUTBOX_DIR": str(workdir / "outbox"),
        "SECRET_KEY": "e2e-" + "x" * 40,
        "TRACKER_ENV": "development",
        "TRACKER_SCHEDULER": "off",
        # No scheduler recounts kept dashboard figures here: a view counts moved ones
        # itself, however slow a busy machine makes it, so journeys read exact figures.
        "DASHBOARD_WAIT_SECONDS": "60",
        "FLASK_APP": "wsgi",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _run(args: list[str], env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


#: Checks the migrated schema against the models; when tables or columns are missing,
#: prints them and builds the schema from the models instead (on an emptied database).
SCHEMA_CHECK = """
import sys
from sqlalchemy import inspect
from tracker import create_app
from tracker.extensions import db
app = create_app()
with app.app_context():
    upgraded = sys.argv[1] == "upgraded"
    gaps = []
    if upgraded:
        found = inspect(db.engine)
        names = set(found.get_table_names())
        for table in db.metadata.sorted_tables:
            if table.name not in names:
                gaps.append(table.name)
                continue
            have = {c["name"] for c in found.get_columns(table.name)}
            gaps += [f"{table.name}.{c.name}" for c in table.columns if c.name not in have]
    if gaps or not upgraded:
        db.drop_all()
        db.session.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        db.create_all()
    print(", ".join(gaps))
"""


def build_database(workdir: Path) -> Prepared:
    """Schema by `flask db upgrade`; when the migrations lag the models (engineers are
    still adding tables), by `db.create_all()` instead, noted in the report. Then the
    demo loader, as `make run` does."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = app_env(workdir)
    prepared = Prepared(workdir=workdir, env=env)
    flask = [PYTHON, "-m", "flask", "--app", "wsgi"]
    upgrade = _run(flask + ["db", "upgrade"], env)
    upgraded = upgrade.returncode == 0
    check = _run([PYTHON, "-c", SCHEMA_CHECK, "upgraded" if upgraded else "failed"], env)
    if check.returncode != 0:
        raise RuntimeError("could not build the schema:\n" + check.stderr[-3000:])
    gaps = check.stdout.strip()
    if upgraded and not gaps:
        prepared.notes.append("schema: flask db upgrade")
    else:
        why = (f"lags the models (missing {gaps})" if upgraded else "failed: " + (
            upgrade.stderr.strip().splitlines() or ["?"])[-1][:160])
        prepared.notes.append(f"schema: `flask db upgrade` {why}; built with "
                              "db.create_all() instead")
    demo = _run(flask + ["load-demo"], env)
    prepared.demo_loaded = demo.returncode == 0
    prepared.demo_output = (demo.stdout + demo.stderr)[-3000:]
    prepared.notes.append("demo data: loaded" if prepared.demo_loaded else
                          "demo data: `flask load-demo` FAILED (see test_demo_world_is_loaded)")
    return prepared


class LiveServer:
    """gunicorn serving wsgi:app on a free port of 127.0.0.1, as in production."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "LiveServer":
        self.launch()
        return self.wait_ready(timeout)

    def launch(self) -> None:
        log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "--workers", "2", "--threads", "4",
             "--bind", f"{HOST}:{self.port}", "--timeout", "120", "--graceful-timeout", "5",
             "--access-logfile", "-", "--error-logfile", "-", "wsgi:app"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def wait_ready(self, timeout: float = 60) -> "LiveServer":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the server stopped at start:\n" + self.log()[-3000:])
            try:
                with urllib.request.urlopen(self.url + "/login", timeout=5) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("the server did not answer in time:\n" + self.log()[-3000:])

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # gunicorn's master stops its workers
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def main() -> None:  # pragma: no cover - a developer's helper
    from tests_e2e import seed

    workdir = Path(os.environ.get("E2E_WORKDIR", "/tmp/tracker-e2e"))
    shutil.rmtree(workdir, ignore_errors=True)
    prepared = build_database(workdir)
    world = seed.seed(prepared.env)
    server = LiveServer(prepared.env, workdir / "server.log").start()
    print("\n".join(prepared.notes))
    print(json.dumps(world.accounts(), ensure_ascii=False, indent=1))
    print(f"serving on {server.url} (password for e2e accounts: {seed.PASSWORD}); Ctrl-C stops")
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
