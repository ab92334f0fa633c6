"""Fixtures: an application on the test database (SQLite in memory by default,
TEST_DATABASE_URL for PostgreSQL or MariaDB), emptied after each test, and a small world."""
import os
from datetime import date

import pytest
import time_machine
from sqlalchemy import delete, text

from tracker import create_app
from tracker.config import TestConfig
from tracker.extensions import db
from tests import factories


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
