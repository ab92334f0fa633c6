"""Prepared statements on PostgreSQL: the lookups by key that every ticket page and every
request make are planned once per connection, not once per request.

Planning can cost the server more than running: the ticket page's statement joins ten
tables to read one ticket, and took 1.6 ms to plan and 0.5 ms to run. A prepared statement
lets the server plan it once for any value. That is right only for a statement whose best
plan does not depend on its values, such as a row looked up by its id; a list's best plan
depends on the scope, the filter and the page asked for, and one plan made for all of them
was seen to take 790 ms where the statement's own takes about 20. So nothing is prepared unless
it asks to be (`prepared(statement)`, or `PREPARED` as execution options): psycopg's own
preparing of any statement run five times is turned off.

And psycopg forgets every prepared statement on a ROLLBACK (it cannot tell what a
rolled-back transaction changed), while every request ends with one: closing the session
rolls back. A transaction that ran nothing but SELECT statements has nothing to undo, so
COMMIT ends it as well and keeps the prepared statements. After each request whose
current transaction ran only SELECTs, the connection is committed under the session; the
session's own rollback then finds no transaction and does nothing. Any other statement
(INSERT, UPDATE, DELETE, SAVEPOINT, a CTE, DDL), or a request that ended with an error,
leaves the transaction to the session's rollback as before: nothing written and not
committed by the request itself is ever kept.

Only PostgreSQL (psycopg) is concerned; elsewhere, or with PREPARED_STATEMENTS=off,
`prepared` changes nothing.
"""
import psycopg
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from tracker.extensions import db

#: Execution options of a statement to prepare (`session.get(…, execution_options=…)`).
PREPARED = {"prepare": True}
#: psycopg prepares a statement on its own once it has run this many times on a
#: connection: never, here (None would also refuse the statements that ask).
_NEVER_BY_ITSELF = 2**31
#: Set on a connection by the first statement of its transaction that is not a SELECT.
_WROTE = "transaction_wrote"


def prepared(statement):
    """The statement, to be prepared on PostgreSQL: only for one whose best plan is the same
    whatever its values (a lookup by key)."""
    return statement.execution_options(**PREPARED)


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql" or not app.config["PREPARED_STATEMENTS"]:
        return
    event.listen(engine, "connect", _connected)
    event.listen(engine, "do_execute", _execute, retval=True)
    event.listen(engine, "begin", _transaction_begun)
    event.listen(engine, "before_cursor_execute", _statement_run)

    @app.teardown_appcontext
    def commit_read_only(error: BaseException | None) -> None:
        # Registered after Flask-SQLAlchemy's teardown, so it runs before it (Flask runs
        # them in reverse), while the session still holds its connection.
        if error is None:
            end_read_only(db.session())


def end_read_only(session) -> bool:
    """COMMIT the session's transaction if it ran only SELECT statements; True if it did.
    The session's own bookkeeping is left as it is: its rollback then finds nothing to do."""
    if not session.in_transaction() or not session.is_active:
        return False  # nothing begun, or a failed flush waiting for its rollback
    try:
        connection = session.connection()
        if connection.info.get(_WROTE, True):
            return False
        connection.connection.dbapi_connection.commit()
    except (SQLAlchemyError, psycopg.Error):
        return False  # a broken connection: the session's rollback deals with it
    return True


def _connected(dbapi_connection, record) -> None:
    dbapi_connection.prepare_threshold = _NEVER_BY_ITSELF


def _execute(cursor, statement: str, parameters, context) -> bool | None:
    if context.execution_options.get("prepare"):
        cursor.execute(statement, parameters, prepare=True)
        return True
    return None  # SQLAlchemy executes it as usual


def _transaction_begun(connection: Connection) -> None:
    connection.info[_WROTE] = False


def _statement_run(connection: Connection, cursor, statement: str, parameters, context,
                   executemany: bool) -> None:
    if not statement.startswith("SELECT"):
        connection.info[_WROTE] = True
