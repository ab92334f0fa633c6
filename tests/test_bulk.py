"""Bulk inserts (tracker/bulk.py): rows go in by COPY on PostgreSQL and by executemany
elsewhere, and read back exactly as an ORM insert of the same values would."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests import factories
from tracker.bulk import insert_rows
from tracker.config import TestConfig
from tracker.extensions import db
from tracker.models import Notification, NotificationKind, UnitKind
from tracker.prepared_statements import end_read_only

AT = datetime(2026, 11, 21, 8, 30, 15, tzinfo=timezone(timedelta(hours=8)))
#: Characters COPY's text format escapes, and Chinese.
AWKWARD = "【逾期提醒】城关区：\t制表符\\反斜杠\n换行 \\N 'quote\" ,comma"


def _row(user_id: int, key: str, **values) -> dict:
    return {"recipient_user_id": user_id, "recipient_unit_id": None,
            "kind": NotificationKind.OVERDUE, "ticket_id": None, "urging_id": None,
            "about_on": date(2026, 11, 20), "offset_days": 1, "dedup_key": key,
            "subject": AWKWARD, "body": AWKWARD * 3, "created_at": AT, **values}


def _read(key: str) -> tuple:
    n = db.session.scalars(select(Notification).where(Notification.dedup_key == key)).one()
    return (n.recipient_user_id, n.kind, n.about_on, n.offset_days, n.subject, n.body,
            n.created_at, n.read_at)


def test_rows_read_back_as_an_orm_insert_of_the_same_values(app):
    user = factories.user("office", "office", factories.unit("P", "省", UnitKind.PROVINCE))
    db.session.add(Notification(**_row(user.id, "orm")))
    insert_rows(db.session, Notification.__table__, [_row(user.id, "bulk")])
    db.session.commit()
    db.session.expunge_all()
    assert _read("bulk") == _read("orm")
    assert _read("bulk")[6] == AT  # aware, stored as UTC
    assert _read("bulk")[4] == AWKWARD


def test_a_key_written_already_fails_as_an_insert_would_and_leaves_nothing(app):
    user = factories.user("office", "office", factories.unit("P", "省", UnitKind.PROVINCE))
    insert_rows(db.session, Notification.__table__, [_row(user.id, "taken")])
    db.session.commit()
    with pytest.raises(IntegrityError):
        insert_rows(db.session, Notification.__table__,
                    [_row(user.id, "new"), _row(user.id, "taken")])
    db.session.rollback()
    assert db.session.scalars(select(Notification.dedup_key)).all() == ["taken"]


def test_pending_orm_changes_go_in_first(app):
    office = factories.unit("P", "省", UnitKind.PROVINCE)
    user = factories.user("office", "office", office)
    db.session.add(Notification(**_row(user.id, "pending")))  # not flushed
    insert_rows(db.session, Notification.__table__, [_row(user.id, "bulk")])
    ids = dict(db.session.execute(select(Notification.dedup_key, Notification.id)).all())
    assert ids["pending"] < ids["bulk"]


def test_the_rows_count_as_one_statement_to_the_engines_statement_events(app):
    user = factories.user("office", "office", factories.unit("P", "省", UnitKind.PROVINCE))
    db.session.flush()
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        insert_rows(db.session, Notification.__table__,
                    [_row(user.id, "one"), _row(user.id, "two")])
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(seen) == 1 and "notifications" in seen[0]


@pytest.mark.skipif(not TestConfig.SQLALCHEMY_DATABASE_URI.startswith("postgresql"),
                    reason="PostgreSQL only: read-only transactions are committed there")
def test_a_transaction_that_only_copied_rows_is_not_committed_at_its_end(app):
    user = factories.user("office", "office", factories.unit("P", "省", UnitKind.PROVINCE))
    db.session.commit()
    with db.engine.connect() as connection:
        session = Session(bind=connection)
        session.scalars(select(Notification)).all()
        insert_rows(session, Notification.__table__, [_row(user.id, "copied")])
        assert not end_read_only(session)
        session.close()  # the end of a request: a rollback
        assert connection.exec_driver_sql("SELECT count(*) FROM notifications").scalar() == 0
