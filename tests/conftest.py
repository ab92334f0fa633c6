"""Fixtures: an application on the test database (SQLite in memory by default,
TEST_DATABASE_URL for PostgreSQL or MariaDB), emptied after each test, and a small world."""
import os
from datetime import date

import pytest
import time_machine
from sqlalchemy import create_engine, delete, make_url, text


def _database_of_this_worker(url: str, worker: str) -> str:
    """Under pytest-xdist each worker gets its own database next to the configured one,
    created on first use, so parallel workers never see each other's rows."""
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if base.get_backend_name() == "postgresql":
            if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                     {"n": name}):
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        else:
            connection.execute(text(f"CREATE DATABASE IF NOT EXISTS `{name}` "
                                    "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


# Before the application's settings are imported: they read TEST_DATABASE_URL once.
if os.environ.get("TEST_DATABASE_URL") and os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["TEST_DATABASE_URL"] = _database_of_this_worker(
        os.environ["TEST_DATABASE_URL"], os.environ["PYTEST_XDIST_WORKER"])

from tracker import create_app  # noqa: E402
from tracker.config import TestConfig  # noqa: E402
from tracker.db_guards import audit_guards_lifted  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tests import factories  # noqa: E402


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    class Config(TestConfig):
        UPLOAD_FOLDER = str(tmp_path_factory.mktemp("uploads"))

    app = create_app(Config)
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        if os.environ.get("TEST_DATABASE_URL"):
            db.drop_all()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_db(app):
    with app.app_context():
        yield
        db.session.rollback()
        empty_tables()
        db.session.remove()


def empty_tables():
    dialect = db.engine.dialect.name
    tables = db.metadata.sorted_tables
    # DELETE, not TRUNCATE: on tables this small it is many times faster on PostgreSQL.
    # The audit trail is append-only in the database (tracker/db_guards.py): lifted here only.
    with audit_guards_lifted(db.session.connection()):
        if dialect == "mysql":
            db.session.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
        for table in reversed(tables):
            db.session.execute(delete(table))
        if dialect == "mysql":
            db.session.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
    db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def frozen_today():
    """A fixed clock: 2026-11-21 10:00 in Asia/Shanghai (02:00 UTC)."""
    with time_machine.travel("2026-11-21T02:00:00+00:00", tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(app, frozen_today):
    w = factories.build_world()
    db.session.commit()
    return w


@pytest.fixture
def login(client):
    def do(username, password=factories.PASSWORD):
        client.post("/logout")
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client
    return do


@pytest.fixture
def api(client):
    """Call the API as a user: api(username).get(url), .post(url, json=...)."""
    class Caller:
        def __init__(self, token):
            self.headers = {"Authorization": f"Bearer {token}"}

        def __getattr__(self, method):
            def call(url, **kwargs):
                headers = {**self.headers, **kwargs.pop("headers", {})}
                return getattr(client, method)(url, headers=headers, **kwargs)
            return call

    def for_user(username, password=factories.PASSWORD):
        response = client.post("/api/v1/auth/token",
                               json={"username": username, "password": password})
        assert response.status_code == 201, response.get_json()
        return Caller(response.get_json()["token"])
    return for_user


TODAY = date(2026, 11, 21)
