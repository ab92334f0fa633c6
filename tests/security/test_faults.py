"""Faults: the disk filling during an upload, SQLite under several workers, PostgreSQL
restarting under the running application. Nothing half-written, the next request works
(ASVS 16.5.3, 2.3.3).

The tests marked `faults` start servers of their own (gunicorn, a PostgreSQL cluster) and
run only under `make test-faults` (RUN_FAULT_TESTS=1)."""
import errno
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tests import factories
from tests.evidence import samples
from tracker import create_app
from tracker.config import TestConfig, engine_options
from tracker.extensions import db
from tracker.models import Evidence, Ticket
from tracker.services import accounts, audit, workflow
from tracker.services.storage import LocalStorage, StorageError

ROOT = Path(__file__).resolve().parents[2]


# --- the disk fills during an upload ------------------------------------------------------

class FullDisk(LocalStorage):
    """A backend whose disk fills halfway through writing the file: part of it lands
    under the final key, then the write fails."""

    def put(self, source: Path, key: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = Path(source).read_bytes()
        target.write_bytes(data[: len(data) // 2])
        raise StorageError(f"could not store {key}: "
                           f"{OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))}")


@pytest.fixture
def full_disk(app, tmp_path, monkeypatch):
    backend = FullDisk(tmp_path / "uploads")
    monkeypatch.setitem(app.extensions, "evidence_storage", backend)
    return backend


def stored(backend: LocalStorage) -> list[Path]:
    return [p for p in backend.root.rglob("*") if p.is_file()] if backend.root.exists() else []


def evidence_rows() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Evidence.id)))


def test_disk_full_during_an_api_upload_leaves_no_file_and_no_row(world, api, full_disk):
    events = db.session.scalar(select(func.count()).select_from(audit.AuditEvent))
    response = api("unit_k1").post(
        f"/api/v1/tickets/{world.t1.id}/evidence", content_type="multipart/form-data",
        data={"file": (io.BytesIO(samples.pdf() * 20), "整改报告.pdf")})
    assert response.status_code == 503
    assert response.get_json()["error"] == "storage_unavailable"
    assert evidence_rows() == 0
    assert stored(full_disk) == []
    assert db.session.scalar(select(func.count()).select_from(audit.AuditEvent)) == events
    assert audit.verify().ok


def test_disk_full_during_a_page_upload_shows_a_clear_message(world, login, full_disk):
    client = login("unit_k1")
    response = client.post(f"/tickets/{world.t1.id}/evidence", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(samples.png(64, 64)), "现场照片.png")},
                           follow_redirects=True)
    assert response.status_code in (200, 503)
    page = response.get_data(as_text=True)
    assert "could not be stored" in page or "无法保存" in page or "未能保存" in page \
        or "存储" in page
    assert evidence_rows() == 0 and stored(full_disk) == []


def test_after_the_disk_has_room_again_the_same_upload_succeeds(world, api, full_disk, app,
                                                                 monkeypatch):
    caller = api("unit_k1")
    data = samples.pdf("第二次")
    assert caller.post(f"/api/v1/tickets/{world.t1.id}/evidence",
                       content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), "报告.pdf")}).status_code == 503
    monkeypatch.setitem(app.extensions, "evidence_storage", LocalStorage(full_disk.root))
    response = caller.post(f"/api/v1/tickets/{world.t1.id}/evidence",
                           content_type="multipart/form-data",
                           data={"file": (io.BytesIO(data), "报告.pdf")})
    assert response.status_code == 201
    assert evidence_rows() == 1


# --- SQLite connections -------------------------------------------------------------------

def test_sqlite_connections_use_wal_and_wait_for_other_writers(tmp_path):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'wal.sqlite3'}"
        SQLALCHEMY_ENGINE_OPTIONS = engine_options(SQLALCHEMY_DATABASE_URI)

    other = create_app(Config)
    with other.app_context():
        try:
            with db.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
        finally:
            db.engine.dispose()


# --- servers of our own ---------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on port {port}")


def seed(app, tickets: int) -> tuple[list[int], list[str]]:
    """A world with `tickets` extra tickets led by K1, and an API token per writer."""
    with app.app_context():
        db.create_all()
        world = factories.build_world()
        ids = [factories.ticket(world.office, world.finding, world.k1).id
               for _ in range(tickets)]
        tokens = [accounts.issue_token(world.unit_k1)[0] for _ in range(tickets)]
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return ids, tokens


@pytest.mark.faults
def test_sqlite_under_four_gunicorn_workers_never_reports_a_locked_database(tmp_path):
    import urllib.request
    import json

    database = tmp_path / "tracker.sqlite3"
    url = f"sqlite:///{database}"

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS = engine_options(url)
        UPLOAD_FOLDER = str(tmp_path / "uploads")

    ids, tokens = seed(create_app(Config), tickets=8)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "x" * 40,
           "UPLOAD_FOLDER": str(tmp_path / "uploads"), "TRACKER_ENV": "development"}
    log = open(tmp_path / "gunicorn.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "4", "-b",
                               f"127.0.0.1:{port}", "--timeout", "60", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    statuses: list[int] = []
    try:
        wait_for_port(port)

        def writer(ticket_id: int, token: str) -> None:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            get = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/tickets/{ticket_id}",
                                         headers=headers)
            with urllib.request.urlopen(get, timeout=60) as response:  # nosec B310 - loopback
                version = json.load(response)["version"]
            for n in range(15):
                body = json.dumps({"version": version, "text": f"进展 {n}"}).encode()
                post = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/v1/tickets/{ticket_id}/progress",
                    data=body, headers=headers, method="POST")
                try:
                    with urllib.request.urlopen(post, timeout=60) as response:  # nosec B310
                        version = json.load(response)["ticket"]["version"]
                        statuses.append(response.status)
                except urllib.error.HTTPError as error:
                    statuses.append(error.code)

        threads = [threading.Thread(target=writer, args=pair) for pair in zip(ids, tokens)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    output = (tmp_path / "gunicorn.log").read_text(errors="replace")
    assert "database is locked" not in output
    assert statuses and all(status == 201 for status in statuses), sorted(set(statuses))
    assert len(statuses) == 8 * 15


# --- PostgreSQL restarts under the running application --------------------------------------

def _pg_bin() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return candidates[-1].parent if candidates else None


class Cluster:
    """A PostgreSQL cluster of our own in a temporary folder, on a free port, run as the
    `postgres` system user when the tests run as root."""

    def __init__(self, base: Path):
        self.bin = _pg_bin()
        self.dir = base / "data"
        self.socket_dir = base / "socket"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None

    def run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=120)

    def init(self) -> None:
        self.dir.parent.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if self.user:
            shutil.chown(self.dir.parent, self.user)
            shutil.chown(self.socket_dir, self.user)
        self.log = self.dir.parent / "server.log"
        self.run("initdb", "-D", str(self.dir), "-U", "postgres", "--auth=trust",
                 "--encoding=UTF8", "--no-sync")

    def pg_ctl(self, *args: str) -> None:
        options = (f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
                   f"-c fsync=off")
        # The server's output goes to a log file: a pipe would be held open by it.
        self.run("pg_ctl", "-D", str(self.dir), "-l", str(self.log), "-o", options, "-w",
                 "-t", "60", *args)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def cluster():
    if _pg_bin() is None:
        pytest.skip("PostgreSQL server binaries are not installed")
    base = Path(tempfile.mkdtemp(prefix="tracker-pg-"))
    os.chmod(base, 0o755)
    server = Cluster(base)
    server.init()
    server.pg_ctl("start")
    try:
        yield server
    finally:
        try:
            server.pg_ctl("stop", "-m", "immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.faults
def test_requests_recover_after_postgresql_restarts_and_nothing_is_half_written(
        cluster, tmp_path):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = cluster.url
        SQLALCHEMY_ENGINE_OPTIONS = engine_options(cluster.url)
        UPLOAD_FOLDER = str(tmp_path / "uploads")

    app = create_app(Config)
    ids, tokens = seed(app, tickets=1)
    client = app.test_client()  # each request has its own context, as under gunicorn
    headers = {"Authorization": f"Bearer {tokens[0]}"}
    url = f"/api/v1/tickets/{ids[0]}"
    assert client.get(url, headers=headers).status_code == 200

    cluster.pg_ctl("restart", "-m", "fast")
    # The pool's connections died with the server: pool_pre_ping replaces them.
    for _ in range(3):
        response = client.get(url, headers=headers)
        assert response.status_code == 200
    response = client.post(f"{url}/progress", headers=headers,
                           json={"version": response.get_json()["version"],
                                 "text": "重启后继续整改"})
    assert response.status_code == 201

    # A change in flight when the server dies is not half-written.
    with app.test_request_context():
        user = db.session.scalar(select(factories.User).where(
            factories.User.username == "unit_k1"))
        ticket = db.session.get(Ticket, ids[0])
        events_before = db.session.scalar(select(func.count()).select_from(audit.AuditEvent))
        workflow.add_progress(user, ticket.id, ticket.version, "写到一半", None, None)
        db.session.flush()
        cluster.pg_ctl("stop", "-m", "immediate")
        with pytest.raises(Exception):
            db.session.commit()
        db.session.rollback()
    cluster.pg_ctl("start")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(audit.AuditEvent)) == \
            events_before
        assert db.session.scalar(text("SELECT count(*) FROM progress_updates "
                                      "WHERE text = '写到一半'")) == 0
        assert audit.verify().ok
    assert client.get(url, headers=headers).status_code == 200
    with app.app_context():
        db.engine.dispose()


@pytest.mark.faults
def test_a_request_while_the_database_is_down_fails_closed_with_a_generic_error(
        cluster, tmp_path):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = cluster.url
        SQLALCHEMY_ENGINE_OPTIONS = engine_options(cluster.url)
        UPLOAD_FOLDER = str(tmp_path / "uploads")
        PROPAGATE_EXCEPTIONS = False

    app = create_app(Config)
    ids, tokens = seed(app, tickets=1)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens[0]}"}
    url = f"/api/v1/tickets/{ids[0]}"
    cluster.pg_ctl("stop", "-m", "fast")
    response = client.get(url, headers=headers)
    assert response.status_code in (500, 503)
    assert "psycopg" not in response.get_data(as_text=True)  # no internals shown
    cluster.pg_ctl("start")
    assert client.get(url, headers=headers).status_code == 200
    assert client.get(url).status_code == 401  # still closed to the anonymous
    with app.app_context():
        db.engine.dispose()
