"""The administrator's commands, run through Flask's CLI runner as `flask <command>` would."""
import re

import pytest
import time_machine
from sqlalchemy import func, select

from tests import factories
from tracker import create_app
from tracker.config import TestConfig
from tracker.extensions import db
from tracker.models import AuditEvent, Role, Ticket, TicketStatus, Unit, UnitKind, User
from tracker.services import clock, deadlines, demo

ONE_TIME = re.compile(r"one-time password: (\S+)")


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def invoke(runner):
    def run(*args):
        return runner.invoke(args=list(args))
    return run


@pytest.fixture
def root(app):
    p = factories.unit("62", "甘肃省", UnitKind.PROVINCE)
    office = factories.unit("62-DD", "省政府教育督导办", UnitKind.OFFICE, p)
    db.session.commit()
    return office


def login(client, username, password):
    return client.post("/login", data={"username": username, "password": password})


def units_count() -> int:
    return db.session.scalar(select(func.count(Unit.id)))


# --- create-unit, create-user ---------------------------------------------------------

def test_create_unit_builds_the_tree_from_the_root(invoke):
    assert invoke("create-unit", "--code", "62", "--name", "甘肃省", "--kind", "province").exit_code == 0
    result = invoke("create-unit", "--code", "6206", "--name", "武威市", "--kind", "city",
                    "--parent", "62")
    assert result.exit_code == 0, result.output
    city = db.session.scalar(select(Unit).where(Unit.code == "6206"))
    assert city.parent.code == "62" and city.depth == 1


def test_create_unit_with_an_unknown_parent_fails_with_a_clear_message(invoke):
    result = invoke("create-unit", "--code", "6206", "--name", "武威市", "--kind", "city",
                    "--parent", "99")
    assert result.exit_code == 1
    assert "no unit with code '99'" in result.output
    assert units_count() == 0


def test_create_user_prints_a_one_time_password_that_must_be_changed_at_login(
        invoke, root, client):
    result = invoke("create-user", "--username", "chief", "--name", "王主任",
                    "--unit", "62-DD")
    assert result.exit_code == 0, result.output
    password = ONE_TIME.search(result.output).group(1)
    response = login(client, "chief", password)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account")
    assert db.session.scalar(select(User).where(User.username == "chief")).must_change_password


def test_create_user_for_an_office_without_scope_is_refused_at_the_field(invoke, root):
    result = invoke("create-user", "--username", "o1", "--name", "督导办", "--role", "office",
                    "--unit", "62-DD")
    assert result.exit_code == 1
    assert "scope_unit_id" in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_create_user_with_a_taken_name_is_refused(invoke, root):
    invoke("create-user", "--username", "chief", "--name", "王主任", "--unit", "62-DD")
    result = invoke("create-user", "--username", "chief", "--name", "李主任", "--unit", "62-DD")
    assert result.exit_code == 1
    assert "username" in result.output


# --- reset-password, deactivate-user, activate-user, list-users ------------------------

@pytest.fixture
def chief(invoke, root):
    result = invoke("create-user", "--username", "chief", "--name", "王主任", "--unit", "62-DD")
    return ONE_TIME.search(result.output).group(1)


def test_reset_password_prints_a_new_one_time_password_and_the_old_one_stops_working(
        invoke, chief, client):
    result = invoke("reset-password", "chief")
    assert result.exit_code == 0, result.output
    new = ONE_TIME.search(result.output).group(1)
    assert new != chief
    assert login(client, "chief", chief).status_code == 200  # the form again, with an error
    response = login(client, "chief", new)
    assert response.status_code == 302 and response.headers["Location"].endswith("/account")


def test_reset_password_is_audited(invoke, chief):
    invoke("reset-password", "chief")
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "user.reset_password")) == 1


def test_deactivated_user_cannot_log_in_until_activated_again(invoke, chief, client):
    assert invoke("deactivate-user", "chief").exit_code == 0
    assert login(client, "chief", chief).status_code == 200
    assert invoke("activate-user", "chief").exit_code == 0
    assert login(client, "chief", chief).status_code == 302


@pytest.mark.parametrize("command", ["reset-password", "deactivate-user", "activate-user"])
def test_an_unknown_user_name_is_reported(invoke, command):
    result = invoke(command, "nobody")
    assert result.exit_code == 1
    assert "no user named 'nobody'" in result.output


def test_list_users_shows_role_state_unit_and_scope(invoke, chief, root):
    invoke("create-user", "--username", "ofc", "--name", "督导办", "--role", "office",
           "--unit", "62-DD", "--scope", "62")
    invoke("deactivate-user", "ofc")
    result = invoke("list-users")
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.output.splitlines()[:-1]}
    assert "admin" in lines["chief"] and "must change password" in lines["chief"]
    assert "office" in lines["ofc"] and "inactive" in lines["ofc"]
    assert "scope: 62 甘肃省" in lines["ofc"] and "62-DD 省政府教育督导办" in lines["ofc"]
    assert result.output.splitlines()[-1] == "2 users"


def test_list_users_filters_by_role(invoke, chief):
    invoke("create-user", "--username", "ofc", "--name", "督导办", "--role", "office",
           "--unit", "62-DD", "--scope", "62")
    output = invoke("list-users", "--role", "office").output
    assert "ofc" in output and "chief" not in output


# --- load-demo ----------------------------------------------------------------------------

def test_load_demo_if_empty_twice_loads_once(invoke):
    first = invoke("load-demo", "--if-empty")
    assert first.exit_code == 0, first.output
    assert f"password for all: {demo.DEMO_PASSWORD}" in first.output
    tickets = db.session.scalar(select(func.count(Ticket.id)))
    second = invoke("load-demo", "--if-empty")
    assert second.exit_code == 0
    assert "not loaded" in second.output
    assert db.session.scalar(select(func.count(Ticket.id))) == tickets > 0


def test_load_demo_refuses_a_database_that_holds_data(invoke, root):
    result = invoke("load-demo")
    assert result.exit_code == 1
    assert "only loaded into an empty database" in result.output
    assert units_count() == 2
    assert not demo.is_demo_database()


def test_load_demo_is_refused_in_production(app, invoke, monkeypatch):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    result = invoke("load-demo")
    assert result.exit_code == 1
    assert "production" in result.output
    assert units_count() == 0


@pytest.mark.parametrize("day", [
    "2026-02-20T02:00:00+00:00",  # the Spring Festival holiday: history folds onto workdays
    "2026-12-31T16:30:00+00:00",  # New Year's Day in Shanghai, still 31 December in UTC
])
def test_load_demo_works_on_any_day_with_the_same_states(invoke, app, day):
    with time_machine.travel(day, tick=False):
        result = invoke("load-demo")
        assert result.exit_code == 0, result.output
        today = clock.today()
        assert db.session.scalar(select(func.count(Ticket.id)).where(
            deadlines.closed_late())) == 1
        assert db.session.scalar(select(func.count(Ticket.id)).where(
            deadlines.overdue(today))) >= 3
        assert db.session.scalar(select(func.count(Ticket.id)).where(
            deadlines.near_due(today, app.config["NEAR_DUE_DAYS"]))) >= 3
        statuses = set(db.session.scalars(select(Ticket.status)))
        assert statuses == set(TicketStatus)


def test_demo_accounts_are_not_listed_on_the_login_page_of_a_non_demo_database(root, client):
    for username in demo.DEMO_USERNAMES:
        factories.user(username, Role.ADMIN, root)
    db.session.commit()
    assert demo.demo_accounts_present() == []
    page = client.get("/login").get_data(as_text=True)
    assert "<code>admin</code>" not in page and demo.DEMO_PASSWORD not in page


# --- init-db and help ------------------------------------------------------------------

def test_init_db_builds_the_schema_from_the_migrations(tmp_path):
    class Config(TestConfig):  # its own SQLite file, whatever database the suite runs on
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    fresh = create_app(Config)
    with fresh.app_context():
        result = fresh.test_cli_runner().invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        tables = set(db.inspect(db.engine).get_table_names())
        again = fresh.test_cli_runner().invoke(args=["init-db"])
        db.session.remove()
        db.engine.dispose()
    assert {"alembic_version", "users", "tickets"} <= tables
    assert again.exit_code == 0


@pytest.mark.parametrize("command", [
    "init-db", "load-demo", "create-user", "create-unit", "reset-password",
    "deactivate-user", "activate-user", "list-users"])
def test_every_command_explains_itself(invoke, command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output and len(result.output.splitlines()) > 4
