"""The migrations build exactly the schema the models describe, on each database."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, make_url, text
from sqlalchemy.exc import DBAPIError

from tracker import create_app
from tracker.config import TestConfig
from tracker.db_guards import audit_guards_installed
from tracker.extensions import db


def _empty_database(url: str) -> str:
    """A new, empty database beside the configured test database, for this worker."""
    base = make_url(url)
    name = f"{base.database}_migrations"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if base.get_backend_name() == "postgresql":
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        else:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
            connection.execute(text(f"CREATE DATABASE `{name}` "
                                    "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def migrated_app(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL")
    target = _empty_database(url) if url else f"sqlite:///{tmp_path / 'migrated.sqlite3'}"

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = target

    app = create_app(Config)
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_upgrade_on_an_empty_database_matches_the_models(migrated_app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_downgrade_removes_every_table(migrated_app):
    downgrade(revision="base")
    engine = create_engine(migrated_app.config["SQLALCHEMY_DATABASE_URI"])
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_upgrade_installs_the_append_only_guards_of_the_audit_trail(migrated_app):
    with db.engine.connect() as connection:
        assert audit_guards_installed(connection)
        connection.execute(text(
            "INSERT INTO audit_events (created_at, action, object_type, object_id) "
            "VALUES (CURRENT_TIMESTAMP, 'test', 'test', 1)"))
        with pytest.raises(DBAPIError):
            connection.execute(text("UPDATE audit_events SET action = 'changed'"))
