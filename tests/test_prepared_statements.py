"""Prepared statements on PostgreSQL (tracker/prepared_statements.py): only the statements that
ask are prepared, and read-only requests end with COMMIT so that they outlive the request;
a transaction that wrote anything is still rolled back unless the request committed it."""
import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from tracker import create_app
from tracker.config import TestConfig
from tracker.extensions import db
from tracker.models import Category
from tracker.prepared_statements import end_read_only, prepared
from tests import factories

pytestmark = pytest.mark.skipif(
    not TestConfig.SQLALCHEMY_DATABASE_URI.startswith("postgresql"),
    reason="PostgreSQL only: psycopg's prepared statements are what is kept")

#: More runs than psycopg's default threshold for preparing a statement by itself (5).
RUNS = 8


def _prepared(connection) -> list[str]:
    return list(connection.exec_driver_sql(
        "SELECT statement FROM pg_prepared_statements").scalars())


def _run_in_read_only_transactions(statement) -> list[str]:
    """Runs the statement RUNS times, each in a transaction ended as a request ends; the
    statements then prepared on the connection."""
    with db.engine.connect() as connection:
        for _ in range(RUNS):
            session = Session(bind=connection)
            session.scalars(statement).all()
            assert end_read_only(session)
            session.close()  # what the end of a request does: a rollback
        return _prepared(connection)


def test_a_statement_that_asks_stays_prepared_across_read_only_transactions(app):
    found = _run_in_read_only_transactions(
        prepared(select(Category).where(Category.code == "funding")))
    assert any("FROM categories" in statement for statement in found)


def test_a_statement_that_does_not_ask_is_never_prepared(app):
    found = _run_in_read_only_transactions(select(Category).where(Category.code == "funding"))
    assert not any("FROM categories" in statement for statement in found)


@pytest.mark.parametrize("write", [
    lambda s: (s.add(Category(code="c", name="类别", sort_order=1)), s.flush()),
    lambda s: s.execute(insert(Category).values(code="c", name="类别", sort_order=1)),
    lambda s: s.execute(text("INSERT INTO categories (code, name, sort_order, is_active) "
                             "VALUES ('c', '类别', 1, true)")),
], ids=["orm flush", "core insert", "textual insert"])
def test_a_transaction_that_wrote_is_rolled_back_not_committed(app, write):
    with db.engine.connect() as connection:
        session = Session(bind=connection)
        session.scalars(select(Category)).all()
        write(session)
        assert not end_read_only(session)
        session.close()
        assert connection.exec_driver_sql("SELECT count(*) FROM categories").scalar() == 0


def test_a_write_after_a_commit_in_the_same_request_is_rolled_back(app):
    with db.engine.connect() as connection:
        session = Session(bind=connection)
        session.add(Category(code="kept", name="已提交", sort_order=1))
        session.commit()
        session.execute(update(Category).values(name="未提交"))
        assert not end_read_only(session)
        session.close()
        assert connection.exec_driver_sql("SELECT name FROM categories").scalar() == "已提交"


def _ticket_page_statements_kept(world, setting: bool) -> list[str]:
    """The statements prepared on a one-connection application's connection after it has
    shown the ticket page RUNS times."""
    class OneConnection(TestConfig):
        SQLALCHEMY_ENGINE_OPTIONS = {**TestConfig.SQLALCHEMY_ENGINE_OPTIONS,
                                     "pool_size": 1, "max_overflow": 0}
        PREPARED_STATEMENTS = setting

    other = create_app(OneConnection)  # its requests push their own application context
    client = other.test_client()
    assert client.post("/login", data={"username": "office", "password": factories.PASSWORD}
                       ).status_code == 302
    for _ in range(RUNS):
        assert client.get(f"/tickets/{world.t1.id}").status_code == 200
    with other.app_context():
        try:
            found = _prepared(db.session.connection())
        finally:
            db.session.remove()
            db.engine.dispose()
    return found


def test_the_ticket_page_keeps_its_prepared_statements_from_request_to_request(world):
    found = _ticket_page_statements_kept(world, True)
    assert any("pending_extension" in statement for statement in found)  # the ticket's own


def test_with_prepared_statements_off_nothing_is_kept(world):
    assert _ticket_page_statements_kept(world, False) == []
