"""Backups are restorable: back up the demo data with evidence files, restore into a new
database and a new folder, and compare row counts, file hashes and the audit chain
([8.1.5 / 14.1.4])."""
import hashlib
import io
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from tests.evidence import samples
from tracker import create_app
from tracker.config import TestConfig, engine_options
from tracker.extensions import db
from tracker.models import Ticket, TicketStatus, User
from tracker.services import audit, backup, demo, evidence
from tracker.services.storage import LocalStorage


def row_counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t))
            for t in db.metadata.sorted_tables}


def file_hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and ".tmp" not in p.parts}


@pytest.fixture
def source_storage(app, tmp_path, monkeypatch):
    backend = LocalStorage(tmp_path / "source-uploads")
    monkeypatch.setitem(app.extensions, "evidence_storage", backend)
    return backend


def demo_with_evidence():
    demo.load_demo()
    db.session.flush()
    ticket = db.session.scalar(select(Ticket).where(
        Ticket.status == TicketStatus.IN_PROGRESS).order_by(Ticket.id).limit(1))
    lead = db.session.scalar(select(User).where(User.unit_id == ticket.lead_unit_id,
                                                User.is_active_user.is_(True)).limit(1))
    for name, data in (("整改报告（第一版）.pdf", samples.pdf("第一版")),
                       ("现场照片.png", samples.png(8, 8)),
                       ("整改台账.xlsx", samples.xlsx())):
        evidence.upload(lead, ticket.id, evidence.Upload(stream=io.BytesIO(data), filename=name))
    db.session.commit()


@pytest.fixture
def target_url(tmp_path):
    """A new, empty database on the same server as the test database (or a new file)."""
    source = os.environ.get("TEST_DATABASE_URL")
    if not source:
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    url = make_url(source)
    name = f"{url.database}_restore"
    admin = create_engine(url.set(database="postgres" if url.get_backend_name() == "postgresql"
                                  else ""), isolation_level="AUTOCOMMIT")
    quote = '"' if url.get_backend_name() == "postgresql" else "`"
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {quote}{name}{quote}"))
        connection.execute(text(f"CREATE DATABASE {quote}{name}{quote}"))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {quote}{name}{quote}"))
        admin.dispose()


def test_backup_restores_into_a_new_database_and_folder_with_equal_rows_and_files(
        app, source_storage, tmp_path, target_url):
    demo_with_evidence()
    expected_rows = row_counts()
    expected_files = file_hashes(source_storage.root)
    assert len(expected_files) >= 3 and expected_rows["audit_events"] > 50

    folder = tmp_path / "backup"
    result = app.test_cli_runner().invoke(args=["backup", str(folder)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert manifest["row_counts"] == {k: v for k, v in expected_rows.items()
                                      if k in manifest["row_counts"]}
    assert {f["key"]: f["sha256"] for f in manifest["files"]} == expected_files
    assert manifest["audit"]["intact"] is True

    class Fresh(TestConfig):
        SQLALCHEMY_DATABASE_URI = target_url
        SQLALCHEMY_ENGINE_OPTIONS = engine_options(target_url)
        UPLOAD_FOLDER = str(tmp_path / "restored-uploads")

    fresh = create_app(Fresh)
    try:
        with fresh.app_context():
            result = fresh.test_cli_runner().invoke(args=["restore", str(folder)])
            assert result.exit_code == 0, result.output
            assert row_counts() == expected_rows
            assert audit.verify().ok
            assert audit.verify().head_hash == manifest["audit"]["head_hash"]
            db.session.remove()
        assert file_hashes(tmp_path / "restored-uploads") == expected_files
    finally:
        with fresh.app_context():
            db.session.remove()
            db.engine.dispose()


def test_restore_refuses_a_database_that_already_holds_data(app, world, tmp_path,
                                                            source_storage):
    folder = tmp_path / "backup"
    backup.create_backup(folder)
    with pytest.raises(backup.BackupError, match="already has tables"):
        backup.restore_backup(folder)


def test_restore_refuses_a_damaged_backup_before_writing_anything(app, world, tmp_path,
                                                                  source_storage, target_url):
    evidence.upload(world.unit_k1, world.t1.id, evidence.Upload(
        stream=io.BytesIO(samples.pdf()), filename="报告.pdf"))
    db.session.commit()
    folder = tmp_path / "backup"
    backup.create_backup(folder)
    damaged = next((folder / "files").rglob("*-*"))
    damaged.write_bytes(damaged.read_bytes() + b"x")

    class Fresh(TestConfig):
        SQLALCHEMY_DATABASE_URI = target_url
        SQLALCHEMY_ENGINE_OPTIONS = engine_options(target_url)
        UPLOAD_FOLDER = str(tmp_path / "restored-uploads")

    fresh = create_app(Fresh)
    with fresh.app_context():
        try:
            with pytest.raises(backup.BackupError, match="damaged"):
                backup.restore_backup(folder)
            with db.engine.connect() as connection:
                assert inspect(connection).get_table_names() == []
        finally:
            db.session.remove()
            db.engine.dispose()


def test_backup_refuses_a_folder_that_is_not_empty(app, world, tmp_path, source_storage):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "something").write_text("x")
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.create_backup(tmp_path / "used")


def test_backup_writes_sums_that_sha256sum_can_check(app, world, tmp_path, source_storage):
    evidence.upload(world.unit_k1, world.t1.id, evidence.Upload(
        stream=io.BytesIO(samples.png()), filename="照片.png"))
    db.session.commit()
    folder = tmp_path / "backup"
    backup.create_backup(folder)
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
