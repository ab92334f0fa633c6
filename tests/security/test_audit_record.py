"""The audit record cannot be rewritten: the database refuses UPDATE and DELETE, and the
hash chain shows any change made around the triggers (ASVS 16.4.2)."""
import threading

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from tracker import create_app
from tracker.config import TestConfig, engine_options
from tracker.db_guards import audit_guards_installed, audit_guards_lifted
from tracker.extensions import db
from tracker.models import AuditChain, AuditEvent, Ticket
from tracker.services import audit, workflow

EVENTS = AuditEvent.__table__


def events():
    return db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()


def tamper(statement):
    """Change the table as an intruder with the owner's rights would: triggers dropped."""
    connection = db.session.connection()
    with audit_guards_lifted(connection):
        connection.execute(statement)
    db.session.commit()


def run_cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_every_event_carries_the_hash_of_the_event_before_it(world):
    rows = events()
    assert len(rows) >= 3
    assert rows[0].prev_hash == audit.GENESIS
    for before, after in zip(rows, rows[1:]):
        assert after.prev_hash == before.hash
    assert all(row.hash == audit.compute_hash(row) for row in rows)
    head = db.session.get(AuditChain, audit.HEAD_ID)
    assert head.last_hash == rows[-1].hash and head.event_count == len(rows)


def test_the_database_has_the_append_only_triggers(world):
    assert audit_guards_installed(db.session.connection())


def test_the_database_refuses_to_update_an_event(world):
    first = events()[0].id
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(update(AuditEvent).where(AuditEvent.id == first)
                           .values(note="rewritten"))
    db.session.rollback()


def test_the_database_refuses_to_delete_an_event(world):
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(delete(AuditEvent))
    db.session.rollback()
    assert db.session.scalar(select(func.count(AuditEvent.id))) >= 3


def test_the_database_refuses_even_a_raw_sql_update(world):
    with pytest.raises(DBAPIError):
        db.session.execute(text("UPDATE audit_events SET action = 'x'"))
    db.session.rollback()


def test_verify_audit_passes_on_an_untouched_record(world, app):
    result = run_cli(app, "verify-audit")
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_verify_audit_detects_a_changed_event(world, app):
    target = events()[1].id
    tamper(update(EVENTS).where(EVENTS.c.id == target).values(note="nothing happened"))
    result = run_cli(app, "verify-audit")
    assert result.exit_code == 1
    assert f"event {target}: content changed" in result.output


def test_verify_audit_detects_a_changed_date(world, app):
    target = events()[0]
    tamper(update(EVENTS).where(EVENTS.c.id == target.id).values(
        created_at=target.created_at.replace(year=2020)))
    assert run_cli(app, "verify-audit").exit_code == 1


def test_verify_audit_detects_a_removed_event(world, app):
    rows = events()
    tamper(delete(EVENTS).where(EVENTS.c.id == rows[1].id))
    result = run_cli(app, "verify-audit")
    assert result.exit_code == 1
    assert f"event {rows[2].id}: does not follow" in result.output


def test_verify_audit_detects_a_removed_last_event(world, app):
    last = events()[-1].id
    tamper(delete(EVENTS).where(EVENTS.c.id == last))
    result = run_cli(app, "verify-audit")
    assert result.exit_code == 1
    assert "head" in result.output


def test_verify_audit_detects_a_rehashed_event(world, app):
    """Rewriting an event and its own hash still breaks the link to the next one."""
    rows = events()
    victim = rows[1]
    victim.note = "forged"
    forged_hash = audit.compute_hash(victim)
    db.session.expire_all()
    tamper(update(EVENTS).where(EVENTS.c.id == victim.id).values(note="forged",
                                                                 hash=forged_hash))
    result = run_cli(app, "verify-audit")
    assert result.exit_code == 1
    assert f"event {rows[2].id}: does not follow" in result.output


def test_a_rolled_back_change_leaves_the_chain_intact(world):
    workflow.acknowledge(world.unit_k1, world.t1.id, version=world.t1.version)
    db.session.flush()
    db.session.rollback()
    workflow.acknowledge(world.unit_k1, world.t1.id, version=world.t1.version)
    db.session.commit()
    assert audit.verify().ok


def test_events_recorded_while_replaying_history_are_chained(world):
    from datetime import datetime, timezone

    from tracker.services.clock import replaying_at

    with replaying_at(datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)):
        audit.record(world.admin, "user.update", "user", world.unit_k1.id, note="replayed")
        db.session.flush()
    db.session.commit()
    row = events()[-1]
    assert row.created_at == datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    assert audit.verify().ok


def test_concurrent_writers_extend_one_chain(app, tmp_path):
    """Eight threads, each with its own connection, write events at once: one chain."""
    import os

    # SQLite in memory cannot be shared by threads: a file, as in production.
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'chain.sqlite3'}"

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS = engine_options(url)
        UPLOAD_FOLDER = str(tmp_path / "uploads")

    other = create_app(Config)  # its own engine and connections, as another worker
    if not os.environ.get("TEST_DATABASE_URL"):
        with other.app_context():
            db.create_all()
    errors = []

    def writer(n):
        try:
            with other.app_context():
                for i in range(10):
                    audit.record(None, "test.write", "thread", n, note=f"{n}-{i}")
                    db.session.commit()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with other.app_context():
        result = audit.verify()
        db.session.remove()
        db.engine.dispose()
    assert errors == []
    assert result.ok, result.problems
    assert result.events == 80


#: Rows the application may delete, each with its reason; everything else the record
#: depends on is cancelled, withdrawn, superseded or deactivated, never deleted.
DELETABLE = {
    "Holiday": "the office's working-day calendar, configuration rather than record",
    "RollupSnapshot": "today's snapshot is replaced by a fresh count of the same day",
    "DashboardFigures": "kept dashboard figures, a copy of counts the tickets give again; "
                        "dropped when no one reads them or their reader lost the scope",
    "UnitClosure": "the closure table is derived from the unit tree when a unit moves",
    "LoginAttempt": "throttling counters, meaningless once older than the window; every "
                    "attempt is also in the security log",
}


def test_the_application_never_hard_deletes_what_the_record_depends_on():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "tracker"
    found = set()
    for path in root.rglob("*.py"):
        source = path.read_text("utf-8")
        found.update(re.findall(r"[^_.\w]delete\(([A-Z]\w+)", source))
        for match in re.finditer(r"session\.delete\((\w+)\)", source):
            # session.delete(row): the model is named where the row was read.
            window = source[max(0, match.start() - 600):match.start()]
            models = re.findall(r"\b([A-Z]\w+)\b", window)
            found.add(next((m for m in reversed(models) if m in DELETABLE), "unknown"))
    assert found <= set(DELETABLE), found - set(DELETABLE)


def test_no_page_or_api_route_deletes_a_record(app):
    deleting = [rule.rule for rule in app.url_map.iter_rules() if "DELETE" in rule.methods]
    assert deleting == ["/api/v1/auth/token"]  # revokes the caller's own token (a row kept)


def test_a_deactivated_unit_is_restored_by_the_admin_with_its_tickets(world, login):
    from tracker.models import Unit

    client = login("admin")
    tickets = db.session.scalar(select(func.count(Ticket.id)).where(
        Ticket.lead_unit_id == world.k1.id))
    assert tickets
    for active in ("0", "1"):
        assert client.post(f"/admin/units/{world.k1.id}/active",
                           data={"active": active}).status_code == 302
        db.session.expire_all()
        assert db.session.get(Unit, world.k1.id).is_active is (active == "1")
        assert db.session.scalar(select(func.count(Ticket.id)).where(
            Ticket.lead_unit_id == world.k1.id)) == tickets
