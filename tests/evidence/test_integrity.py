"""The file and its row succeed or fail together; check-evidence finds what went wrong;
two uploads at once to one ticket."""
import os
import threading
import time

import pytest
from sqlalchemy import event, select

from tests.evidence import samples
from tests.evidence.conftest import evidence_count, multipart, stored_files
from tracker.extensions import db
from tracker.models import AuditEvent, Evidence
from tracker.services import evidence


@pytest.fixture
def failing_commit(app):
    """Make the next commit fail, the way a lost connection or a constraint would."""
    def install(how: str):
        def before_commit(session):
            if how == "raise":
                raise RuntimeError("commit refused by the test")
            # A row the database refuses: the flush inside commit fails at the database.
            session.add(AuditEvent(action=None, object_type="x", object_id=0))

        event.listen(db.session, "before_commit", before_commit)
        return before_commit

    installed = []
    yield lambda how: installed.append(install(how))
    for listener in installed:
        event.remove(db.session, "before_commit", listener)


@pytest.mark.parametrize("how", ["raise", "database"])
def test_failed_commit_after_the_file_was_written_leaves_no_file(world, store, api,
                                                                  failing_commit, how):
    caller = api("unit_k1")
    failing_commit(how)
    response = caller.post(f"/api/v1/tickets/{world.t1.id}/evidence",
                           **multipart({"file": (samples.pdf(), "报告.pdf")}))
    assert response.status_code == 500
    assert stored_files(store) == []
    assert evidence_count() == 0


def test_failed_write_after_the_row_was_added_leaves_no_row(world, store, post_file, monkeypatch):
    def disk_full(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    response = post_file("unit_k1", world.t1.id)
    assert response.status_code == 503
    assert response.get_json()["error"] == "storage_unavailable"
    monkeypatch.undo()
    assert evidence_count() == 0
    assert stored_files(store) == []  # the temporary file is gone too


def test_failed_fsync_stores_nothing(world, store, post_file, monkeypatch):
    def broken(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken)
    response = post_file("unit_k1", world.t1.id)
    monkeypatch.undo()
    assert response.status_code == 503
    assert evidence_count() == 0 and stored_files(store) == []


def test_rollback_in_a_service_caller_removes_the_file(world, store):
    import io

    evidence.upload(world.unit_k1, world.t1.id,
                    evidence.Upload(stream=io.BytesIO(samples.pdf()), filename="a.pdf"))
    assert len(stored_files(store)) == 1
    db.session.rollback()
    assert stored_files(store) == []


def test_committed_file_is_kept(world, store):
    import io

    evidence.upload(world.unit_k1, world.t1.id,
                    evidence.Upload(stream=io.BytesIO(samples.pdf()), filename="a.pdf"))
    db.session.commit()
    db.session.rollback()  # a later rollback must not touch a committed file
    assert len(stored_files(store)) == 1


# --- check-evidence -------------------------------------------------------------------------

def run_check(app, *args):
    return app.test_cli_runner().invoke(args=["check-evidence", *args])


def test_check_evidence_passes_when_every_file_matches(app, world, store, post_file):
    post_file("unit_k1", world.t1.id)
    post_file("unit_k1", world.t1.id, samples.png(), "照片.png")
    result = run_check(app)
    assert result.exit_code == 0, result.output
    assert "checked 2 files" in result.output and "0 missing, 0 corrupt, 0 orphan" in result.output


def test_check_evidence_reports_a_missing_file(app, world, store, post_file):
    evidence_id = post_file("unit_k1", world.t1.id).get_json()["id"]
    stored_files(store)[0].unlink()
    result = run_check(app)
    assert result.exit_code == 1
    assert f"MISSING  evidence {evidence_id}" in result.output


def test_check_evidence_reports_a_corrupt_file(app, world, store, post_file):
    evidence_id = post_file("unit_k1", world.t1.id).get_json()["id"]
    path = stored_files(store)[0]
    data = bytearray(path.read_bytes())
    data[20] ^= 0xFF  # same size, different content
    path.write_bytes(bytes(data))
    result = run_check(app)
    assert result.exit_code == 1
    assert f"CORRUPT  evidence {evidence_id}" in result.output and "sha256" in result.output


def test_check_evidence_reports_an_orphan_file(app, world, store, post_file):
    post_file("unit_k1", world.t1.id)
    orphan = store.root / str(world.t1.id) / "999-0123456789abcdef"
    orphan.write_bytes(b"left over")
    old = time.time() - 2 * 3600
    os.utime(orphan, (old, old))
    result = run_check(app)
    assert result.exit_code == 1
    assert f"ORPHAN   {world.t1.id}/999-0123456789abcdef" in result.output


def test_check_evidence_leaves_uploads_in_flight_alone(app, world, store, post_file):
    post_file("unit_k1", world.t1.id)
    in_flight = store.root / str(world.t1.id) / "998-0123456789abcdef"
    in_flight.write_bytes(b"being committed")
    recent = time.time() - 600  # ten minutes ago, on the test's clock
    os.utime(in_flight, (recent, recent))
    assert run_check(app).exit_code == 0
    assert run_check(app, "--grace-minutes", "0").exit_code == 1


# --- two uploads at once --------------------------------------------------------------------

@pytest.fixture
def concurrent(app, tmp_path, frozen_today):
    """(application, ticket id, token of unit_k1) for requests from several threads. Threads
    need connections of their own: an in-memory SQLite database has only one, so on SQLite
    this runs against a database file."""
    from tests import factories
    from tracker import create_app
    from tracker.config import TestConfig
    from tracker.services import accounts

    url = db.engine.url
    in_memory = url.drivername.startswith("sqlite") and url.database in (None, "", ":memory:")
    if in_memory:
        class FileConfig(TestConfig):
            SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'concurrent.sqlite3'}"
            UPLOAD_FOLDER = str(tmp_path / "uploads")

        target = create_app(FileConfig)
        context = target.app_context()
        context.push()
        db.create_all()
    else:
        target = app
    world = factories.build_world()
    token, _row = accounts.issue_token(world.unit_k1)
    ticket_id = world.t1.id
    db.session.commit()
    yield target, ticket_id, token
    if in_memory:
        db.session.remove()
        db.engine.dispose()
        context.pop()


def test_two_uploads_at_once_to_one_ticket_are_both_handled(concurrent, store, monkeypatch):
    target, ticket_id, token = concurrent
    monkeypatch.setitem(target.extensions, "evidence_storage", store)
    barrier = threading.Barrier(4)
    results = []

    def send(data, name):
        client = target.test_client()
        barrier.wait()
        response = client.post(f"/api/v1/tickets/{ticket_id}/evidence",
                               headers={"Authorization": f"Bearer {token}"},
                               **multipart({"file": (data, name)}))
        results.append((name, response.status_code, response.get_json()))

    same = samples.pdf("同一份")
    threads = [threading.Thread(target=send, args=args) for args in [
        (same, "一.pdf"), (same, "二.pdf"), (samples.png(), "三.png"), (samples.jpeg(), "四.jpg")]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # Different files are both stored; the same content twice is stored once and reported.
    assert sorted(code for _name, code, _body in results) == [201, 201, 201, 409], results
    duplicate = next(body for _name, code, body in results if code == 409)
    assert duplicate["error"] == "duplicate"
    db.session.rollback()  # end this session's own snapshot (MariaDB: repeatable read)
    rows = db.session.scalars(select(Evidence).where(Evidence.ticket_id == ticket_id)).all()
    assert len(rows) == 3 and len({r.id for r in rows}) == 3
    assert {r.storage_key for r in rows} == {
        p.relative_to(store.root).as_posix() for p in stored_files(store)}
