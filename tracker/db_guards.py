"""Guards kept by the database itself, whatever the application does.

1. The audit trail is append-only: UPDATE and DELETE on `audit_events` are refused by
   triggers on SQLite, PostgreSQL and MariaDB (and TRUNCATE on PostgreSQL).
   `install_audit_guards(connection)` emits the DDL for the connection's dialect; the
   migration calls it, and `create_all` (the tests) runs it through an `after_create`
   event on the table. `audit_guards_lifted(connection)` removes them for the span of a
   block (test clean-up, the tamper tests); nothing in the application uses it.
   The triggers stop the application and anyone using its connection; an administrator
   who owns the tables can still drop them, which the hash chain then reveals
   (`flask verify-audit`). For more, run the application as a role that does not own
   the table and hold only INSERT and SELECT on it.

2. SQLite: WAL journal and a busy timeout on every connection, so that several gunicorn
   workers wait for each other's writes instead of failing with "database is locked".
"""
from contextlib import contextmanager

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine


#: Milliseconds a SQLite connection waits for another writer before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000

# Plain literals (no formatting): the statements are constants.
_TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: changing or removing an "
        "event is refused'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: changing or removing an "
        "event is refused'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION USING MESSAGE = 'audit_events is append-only: changing or removing "
        "an event is refused: ' || TG_OP, ERRCODE = 'insufficient_privilege'; "
        "END $$",
        "DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events",
        "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
        "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
    ],
    "mysql": [  # MariaDB and MySQL
        "DROP TRIGGER IF EXISTS audit_events_no_update",
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events FOR EACH ROW "
        "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_events is append-only: changing "
        "or removing an event is refused'",
        "DROP TRIGGER IF EXISTS audit_events_no_delete",
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events FOR EACH ROW "
        "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_events is append-only: changing "
        "or removing an event is refused'",
    ],
}

_DROPS = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_events_no_update",
               "DROP TRIGGER IF EXISTS audit_events_no_delete"],
    "postgresql": ["DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events",
                   "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events"],
    "mysql": ["DROP TRIGGER IF EXISTS audit_events_no_update",
              "DROP TRIGGER IF EXISTS audit_events_no_delete"],
}


def _dialect(connection: Connection) -> str:
    name = connection.dialect.name
    if name not in _TRIGGERS:
        raise RuntimeError(f"no audit guards for the {name} database")
    return name


def install_audit_guards(connection: Connection) -> None:
    """Create the triggers that refuse UPDATE and DELETE on audit_events (idempotent)."""
    for statement in _TRIGGERS[_dialect(connection)]:
        connection.exec_driver_sql(statement)


def remove_audit_guards(connection: Connection) -> None:
    """Drop the triggers (the migration's downgrade; tests)."""
    for statement in _DROPS[_dialect(connection)]:
        connection.exec_driver_sql(statement)


def audit_guards_installed(connection: Connection) -> bool:
    name = _dialect(connection)
    if name == "sqlite":
        sql = ("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
               "AND name IN ('audit_events_no_update', 'audit_events_no_delete')")
        return connection.execute(text(sql)).scalar() == 2
    if name == "postgresql":
        sql = ("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass "
               "AND tgname IN ('audit_events_no_change', 'audit_events_no_truncate')")
        return connection.execute(text(sql)).scalar() == 2
    sql = ("SELECT count(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE() "
           "AND trigger_name IN ('audit_events_no_update', 'audit_events_no_delete')")
    return connection.execute(text(sql)).scalar() == 2


@contextmanager
def audit_guards_lifted(connection: Connection):
    """Without the triggers for the span of the block (only where they were installed),
    then with them again. For test clean-up and tamper tests, never the application."""
    installed = audit_guards_installed(connection)
    if installed:
        remove_audit_guards(connection)
    try:
        yield
    finally:
        if installed:
            install_audit_guards(connection)


def _after_create(target, connection, **kwargs) -> None:
    install_audit_guards(connection)


def register(table) -> None:
    """Install the guards whenever `create_all` creates the audit table."""
    if not event.contains(table, "after_create", _after_create):
        event.listen(table, "after_create", _after_create)


# --- SQLite connections ---------------------------------------------------------------------

@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """WAL and a busy timeout on every SQLite connection of every engine of the process."""
    module = type(dbapi_connection).__module__
    if not module.startswith(("sqlite3", "pysqlite2")):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode")
        mode = cursor.fetchone()[0]
        if mode not in ("wal", "memory"):  # an in-memory database has no journal file
            cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()
