"""The end-to-end run: one fresh database and one gunicorn on loopback for the whole run,
one headless Chromium (Debian's /usr/bin/chromium, never a downloaded browser), and each
journey in four variants: desktop (1366×768) and phone (390×844), Chinese and English.

Environment:
  E2E_SCREENSHOTS   folder for the README screenshots (`make screenshots`); unset: none
  E2E_WORKDIR       where the database, uploads and server log go (default: a temp dir)
  E2E_CHROMIUM      the browser (default /usr/bin/chromium)
  E2E_TEMPLATE      a developer's shortcut: keep the built database there and reuse it
  E2E_SKIP          a developer's switch: kinds of page problem not to report
                    (e.g. "untranslated" while catalogs are being merged); CI sets none
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import tempfile
import time
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests_e2e import seed as seeding
from tests_e2e import server as serving
from tests_e2e.browser import CHROMIUM, CHROMIUM_ARGS, VARIANTS, Session

#: Screenshots and HTML of the pages of a failed journey, and the server's log.
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "e2e"

#: The screenshots kept in docs/screenshots: (page, variant). The README shows some.
SHOTS = {
    ("login", "desktop-zh"), ("dashboard", "desktop-zh"), ("dashboard", "desktop-en"),
    ("tickets", "desktop-zh"), ("ticket", "desktop-zh"), ("ticket", "phone-zh"),
    ("inspection", "desktop-zh"), ("my-tickets", "phone-zh"), ("my-tickets", "desktop-en"),
    ("ticket-submitted", "phone-en"), ("finding-split", "desktop-zh"),
    ("dashboard-inspection", "phone-zh"), ("not-found", "phone-zh"),
    ("menu-open", "phone-zh"), ("ticket-list", "phone-en"),
}


class Screenshots:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def take(self, page, name: str, variant, *, full_page: bool = False, top: float = 0) -> None:
        if (name, variant.name) not in SHOTS:
            return
        path = str(self.folder / f"{name}-{variant.name}.png")
        if top:  # one screen's height of the page, from `top` down
            page.screenshot(path=path, full_page=True, animations="disabled", clip={
                "x": 0, "y": max(0, top - 8), "width": variant.width, "height": variant.height})
        else:
            page.screenshot(path=path, full_page=full_page, animations="disabled")


_report: dict = {"notes": [], "timings": {}, "pages": 0, "axe": 0}


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config):
    # CI's time limit sends SIGTERM: stop like Ctrl-C, so the server is shut down too.
    signal.signal(signal.SIGTERM, _interrupted)


@pytest.fixture(scope="session")
def workdir():
    chosen = os.environ.get("E2E_WORKDIR")
    if chosen:
        path = Path(chosen)
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        yield path
    else:
        path = Path(tempfile.mkdtemp(prefix="tracker-e2e-"))
        yield path
        shutil.rmtree(path, ignore_errors=True)


def _schema_fingerprint() -> str:
    from tracker.extensions import db
    import tracker.models  # noqa: F401 - every table on the metadata

    names = sorted(f"{t.name}.{c.name}" for t in db.metadata.sorted_tables for c in t.columns)
    return hashlib.sha1("\n".join(names).encode()).hexdigest()


def _template() -> Path | None:
    """E2E_TEMPLATE (a developer's shortcut): a folder keeping the built and seeded
    database of a first run, copied by later runs of the same day and schema instead of
    rebuilding. Another day, schema or seed builds it anew."""
    folder = os.environ.get("E2E_TEMPLATE")
    if not folder:
        return None
    path = Path(folder)
    seed_source = hashlib.sha1(Path(seeding.__file__).read_bytes()).hexdigest()
    stamp = f"{date.today().isoformat()} {_schema_fingerprint()} {seed_source}"
    if path.exists() and not (
            (path / "stamp").exists() and (path / "stamp").read_text() == stamp):
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / "stamp").write_text(stamp)
    return path


def _copy_database(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while the server has it open."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


@pytest.fixture(scope="session")
def prepared(workdir):
    started = time.monotonic()
    template = _template()
    if template is not None and (template / "world.json").exists():
        result = serving.Prepared(workdir=workdir, env=serving.app_env(workdir))
        _copy_database(template / "e2e.sqlite3", workdir / "e2e.sqlite3")
        result.notes = json.loads((template / "notes.json").read_text()) + [
            f"database copied from E2E_TEMPLATE={template}"]
        result.demo_loaded = "demo data: loaded" in result.notes
    else:
        result = serving.build_database(workdir)
    _report["notes"] += result.notes
    _report["timings"]["database and demo"] = time.monotonic() - started
    return result


@pytest.fixture(scope="session")
def services(prepared) -> seeding.Services:
    return seeding.Services(prepared.env)


@pytest.fixture(scope="session")
def _server_and_world(prepared, services, workdir):
    """gunicorn starts (imports take a while) while the journeys' data is written."""
    started = time.monotonic()
    server = serving.LiveServer(prepared.env, workdir / "server.log")
    server.launch()
    template = _template()
    if template is not None and (template / "world.json").exists():
        built = seeding.World.from_accounts(json.loads((template / "world.json").read_text()))
    else:
        built = seeding.seed_with(services)
        if template is not None:
            template.mkdir(parents=True, exist_ok=True)
            _copy_database(prepared.workdir / "e2e.sqlite3", template / "e2e.sqlite3")
            (template / "notes.json").write_text(json.dumps(prepared.notes))
            (template / "world.json").write_text(json.dumps(built.accounts()))
    _report["timings"]["journey data"] = time.monotonic() - started
    server.wait_ready()
    _report["timings"]["server ready"] = time.monotonic() - started
    yield server, built
    server.stop()
    errors = [line for line in server.log().splitlines() if " ERROR " in line]
    if errors:
        _report["notes"].append(f"server logged {len(errors)} errors; first: {errors[0][:200]}"
                                f" (log: {ARTIFACTS / 'server.log'})")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(server.log_path, ARTIFACTS / "server.log")


@pytest.fixture(scope="session")
def world(_server_and_world) -> seeding.World:
    return _server_and_world[1]


@pytest.fixture(scope="session")
def live_server(_server_and_world) -> serving.LiveServer:
    return _server_and_world[0]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshots():
    folder = os.environ.get("E2E_SCREENSHOTS")
    return Screenshots(Path(folder)) if folder else None


@pytest.fixture(params=VARIANTS, ids=[v.name for v in VARIANTS])
def variant(request):
    return request.param


@pytest.fixture
def mine(world, variant) -> seeding.VariantWorld:
    """This variant's county, accounts and tickets."""
    return world.variants[variant.name]


@pytest.fixture
def open_session(browser, live_server, variant, screenshots, request):
    """open_session(name, javascript=True) → a Session; all are closed at the end and the
    test fails if any page check, console error or outside request was found. A failed
    test leaves its pages in test-artifacts/e2e/."""
    sessions: list[Session] = []

    def open_(name: str = "", *, javascript: bool = True) -> Session:
        session = Session(browser, live_server.url, variant, screenshots=screenshots,
                          javascript=javascript, name=name)
        sessions.append(session)
        return session

    yield open_
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    problems = []
    for session in sessions:
        if failed:
            folder = ARTIFACTS
            folder.mkdir(parents=True, exist_ok=True)
            base = folder / f"{request.node.name}-{session.name or 'page'}"
            try:
                session.page.screenshot(path=f"{base}.png", full_page=True)
                Path(f"{base}.html").write_text(session.page.content())
            except Exception:  # noqa: BLE001 - the page may be gone; the failure is reported
                pass
        _report["pages"] += session.checks.pages_checked
        _report["axe"] += session.checks.axe_runs
        problems += [f"{session.name or 'page'} {p}" for p in session.close()]
    if problems and failed:
        print("also found on the journey's pages:\n  " + "\n  ".join(dict.fromkeys(problems)))
    elif problems:
        pytest.fail("problems found on the journey's pages:\n  " + "\n  ".join(
            dict.fromkeys(problems)), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


def pytest_terminal_summary(terminalreporter):
    if not (_report["notes"] or _report["timings"]):
        return
    terminalreporter.section("end-to-end setup")
    for note in _report["notes"]:
        terminalreporter.write_line(note)
    for name, seconds in _report["timings"].items():
        terminalreporter.write_line(f"{name}: {seconds:.1f}s")
    if _report["pages"]:
        terminalreporter.write_line(f"pages checked: {_report['pages']} "
                                    f"(axe-core on {_report['axe']})")


@pytest.fixture
def note():
    """note(text): a line for the run's closing summary."""
    return _report["notes"].append
