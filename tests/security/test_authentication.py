"""Authentication: password rules, throttling in the database, forced change of one-time
passwords, and sessions that start fresh and end everywhere (ASVS 6, 7, 11.4.2)."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.security.conftest import copy_session_cookie, fresh
from tracker.extensions import db
from tracker.auth import prune_login_attempts
from tracker.models import ApiToken, LoginAttempt
from tracker.services import accounts, clock
from tracker.services.errors import ValidationFailed

PASSWORD = factories.PASSWORD


def post_login(client, username, password, **kwargs):
    return client.post("/login", data={"username": username, "password": password}, **kwargs)


# --- passwords --------------------------------------------------------------------------

def test_password_is_stored_as_salted_scrypt_hash(world):
    accounts.change_password(world.unit_k1, PASSWORD, "a long and new passphrase")
    other = world.unit_k2
    accounts.change_password(other, PASSWORD, "a long and new passphrase")
    db.session.flush()
    assert world.unit_k1.password_hash.startswith("scrypt:")
    assert "a long and new passphrase" not in world.unit_k1.password_hash
    assert world.unit_k1.password_hash != other.password_hash  # salted


@pytest.mark.parametrize("password", ["abcd123", "short", ""])
def test_password_shorter_than_8_characters_is_refused(password):
    with pytest.raises(ValidationFailed) as error:
        accounts.check_password_rules(password)
    assert "password" in error.value.fields


def test_passwords_of_8_and_of_128_characters_are_accepted_without_composition_rules(app):
    with app.test_request_context():
        accounts.check_password_rules("zebrafog")          # letters only, 8 characters
        accounts.check_password_rules("风" * 64)           # Chinese, 64 characters
        accounts.check_password_rules("x" * 57 + " y z w" + "v" * 65)  # 128 characters


def test_password_longer_than_128_characters_is_refused(app):
    with app.test_request_context(), pytest.raises(ValidationFailed):
        accounts.check_password_rules("x" * 129)


def test_long_password_is_never_truncated(world, client):
    long_password = "correct horse battery staple " * 4  # 116 characters
    accounts.change_password(world.unit_k1, PASSWORD, long_password)
    db.session.commit()
    assert post_login(client, "unit_k1", long_password[:72]).status_code == 200
    assert post_login(client, "unit_k1", long_password).status_code == 302


@pytest.mark.parametrize("password", ["qwertyuiop", "1q2w3e4r5t", "woaini1314", "Password123",
                                      "iloveyou", "sunshine"])
def test_common_passwords_are_refused(app, password):
    from flask_babel import gettext

    with app.test_request_context():
        with pytest.raises(ValidationFailed) as error:
            accounts.check_password_rules(password)
        too_common = gettext("This password is too common; choose another.")
        assert [str(m) for m in error.value.fields["password"]] == [too_common]


def test_common_password_list_holds_about_ten_thousand_entries():
    assert len(accounts.COMMON_PASSWORDS) >= 10_000
    assert not any(p.startswith("#") for p in accounts.COMMON_PASSWORDS)


def test_changing_a_password_needs_the_current_one(world):
    with pytest.raises(ValidationFailed) as error:
        accounts.change_password(world.unit_k1, "not the password", "a brand new passphrase")
    assert "current_password" in error.value.fields
    db.session.rollback()
    assert fresh(world.unit_k1).check_password(PASSWORD)


def test_account_page_refuses_a_change_without_the_right_current_password(world, login):
    client = login("unit_k1")
    response = client.post("/account", data={"current_password": "wrong one",
                                             "new_password": "a brand new passphrase"})
    assert response.status_code == 200
    assert fresh(world.unit_k1).check_password(PASSWORD)


# --- throttling ---------------------------------------------------------------------------

def fail(client, username, times, addr="10.0.0.1"):
    for _ in range(times):
        response = post_login(client, username, "wrong password",
                              environ_base={"REMOTE_ADDR": addr})
        assert response.status_code == 200


def test_ten_failures_for_an_account_refuse_even_the_right_password_with_429(world, client):
    fail(client, "unit_k1", 10)
    response = post_login(client, "unit_k1", PASSWORD, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == 429
    assert "15" in response.get_data(as_text=True)  # the message names the wait


def test_throttled_api_token_request_answers_429(world, client):
    fail(client, "unit_k1", 10)
    response = client.post("/api/v1/auth/token", json={"username": "unit_k1",
                                                       "password": PASSWORD})
    assert response.status_code == 429
    assert response.get_json()["error"] == "throttled"


def test_nine_failures_still_let_the_user_in(world, client):
    fail(client, "unit_k1", 9)
    assert post_login(client, "unit_k1", PASSWORD).status_code == 302


def test_ten_failures_from_one_address_refuse_other_accounts_from_that_address(world, client):
    for name in ("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"):
        fail(client, name, 1, addr="10.0.0.7")
    assert post_login(client, "unit_k2", PASSWORD,
                      environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 429
    assert post_login(client, "unit_k2", PASSWORD,
                      environ_base={"REMOTE_ADDR": "10.0.0.8"}).status_code == 302


def test_throttling_is_kept_in_the_database_for_every_worker(world, app):
    first, second = app.test_client(), app.test_client()  # two workers, two cookie jars
    fail(first, "unit_k1", 10)
    assert db.session.scalar(select(func.count(LoginAttempt.id)).where(
        LoginAttempt.username == "unit_k1", LoginAttempt.is_success.is_(False))) == 10
    assert post_login(second, "unit_k1", PASSWORD).status_code == 429


def test_real_user_logs_in_after_the_window_although_the_attacker_keeps_trying(
        world, client, frozen_today):
    fail(client, "unit_k1", 10)
    for _ in range(14):  # the attacker goes on once a minute: refused and not counted
        frozen_today.shift(timedelta(minutes=1))
        assert post_login(client, "unit_k1", "guess",
                          environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 429
    frozen_today.shift(timedelta(minutes=1, seconds=1))
    response = post_login(client, "unit_k1", PASSWORD, environ_base={"REMOTE_ADDR": "10.5.5.5"})
    assert response.status_code == 302


# --- pruning old attempts ---------------------------------------------------------------

def attempts_at(*ages_in_minutes: float) -> None:
    now = clock.now_utc()
    for age in ages_in_minutes:
        db.session.add(LoginAttempt(username="unit_k1", remote_addr="10.0.0.1", is_success=False,
                                    created_at=now - timedelta(minutes=age)))
    db.session.commit()


def attempt_ages() -> list[int]:
    now = clock.now_utc()
    db.session.rollback()  # a fresh snapshot (MariaDB's REPEATABLE READ) of other sessions' work
    return sorted(round((now - at).total_seconds() / 60)
                  for at in db.session.scalars(select(LoginAttempt.created_at)))


def test_login_attempts_older_than_the_window_are_pruned(world, frozen_today):
    attempts_at(60 * 24 * 30, 16, 14, 1)
    assert prune_login_attempts() == 2
    db.session.commit()
    assert attempt_ages() == [1, 14]


def test_pruning_never_removes_an_attempt_that_still_counts(world, client, frozen_today):
    attempts_at(*[14] * 10)
    assert prune_login_attempts(keep=timedelta(minutes=1)) == 0  # raised to the window
    db.session.commit()
    assert post_login(client, "unit_k1", PASSWORD,
                      environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 429


def test_the_scheduler_prunes_old_login_attempts_every_quarter_hour(app, world, frozen_today):
    from tracker.scheduler import ReminderScheduler

    attempts_at(20, 5)
    jobs = ReminderScheduler(app)
    assert jobs.scheduler.get_job("housekeeping").trigger.interval == timedelta(minutes=15)
    assert jobs.housekeeping() == 0 and attempt_ages() == [5, 20]  # not the lease holder
    assert jobs.heartbeat()
    assert jobs.housekeeping() == 1
    assert attempt_ages() == [5]
    jobs.shutdown()


def test_prune_login_attempts_command(app, world, frozen_today):
    attempts_at(90, 30, 2)
    result = app.test_cli_runner().invoke(args=["prune-login-attempts", "--keep-minutes", "60"])
    assert result.exit_code == 0, result.output
    assert "1 old login attempts removed" in result.output
    assert attempt_ages() == [2, 30]
    result = app.test_cli_runner().invoke(args=["prune-login-attempts"])
    assert result.exit_code == 0 and attempt_ages() == [2]


# --- first login ------------------------------------------------------------------------

def one_time_user(world):
    one_time = accounts.reset_password(None, world.unit_k1.id)
    db.session.commit()
    return one_time


def test_one_time_password_sends_every_page_to_the_account_page(world, client):
    one_time = one_time_user(world)
    response = post_login(client, "unit_k1", one_time)
    assert response.status_code == 302 and response.location.endswith("/account")
    for path in ("/", "/tickets", f"/tickets/{world.t1.id}"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.location.endswith("/account"), path
    assert client.get("/account").status_code == 200


def test_one_time_password_blocks_forms_posted_elsewhere(world, client):
    one_time = one_time_user(world)
    post_login(client, "unit_k1", one_time)
    response = client.post(f"/tickets/{world.t1.id}/acknowledge", data={})
    assert response.status_code == 302 and response.location.endswith("/account")


def test_after_the_change_the_user_reaches_the_pages(world, client):
    one_time = one_time_user(world)
    post_login(client, "unit_k1", one_time)
    response = client.post("/account", data={"current_password": one_time,
                                              "new_password": "my own passphrase 2026"})
    assert response.status_code == 302
    assert not fresh(world.unit_k1).must_change_password
    post_login(client, "unit_k1", "my own passphrase 2026")
    assert client.get("/tickets").status_code == 200


def test_one_time_password_gets_no_api_token(world, client):
    one_time = one_time_user(world)
    response = client.post("/api/v1/auth/token", json={"username": "unit_k1",
                                                       "password": one_time})
    assert response.status_code == 403


# --- sessions -----------------------------------------------------------------------------

def test_login_starts_a_new_session(world, client):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    before = client.get_cookie("session").value
    assert post_login(client, "unit_k1", PASSWORD).status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
    assert client.get_cookie("session").value != before


def test_wrong_password_on_the_login_page_says_so_without_telling_which(world, client):
    unknown = post_login(client, "nobody", "whatever pass").get_data(as_text=True)
    wrong = post_login(client, "unit_k1", "whatever pass").get_data(as_text=True)
    assert "Wrong user name or password" in unknown or "用户名或密码" in unknown
    assert unknown.count("invalid-feedback") == wrong.count("invalid-feedback")


def test_logout_ends_every_session_and_a_copied_cookie_is_refused(world, app, login):
    client = login("unit_k1")
    thief = app.test_client()
    copy_session_cookie(client, thief)
    assert thief.get("/tickets").status_code == 200
    client.post("/logout")
    response = thief.get("/tickets")
    assert response.status_code == 302 and "/login" in response.location


def test_password_change_ends_every_other_session_and_api_token(world, app, login, api):
    caller = api("unit_k1")
    client = login("unit_k1")
    other = app.test_client()
    copy_session_cookie(client, other)
    client.post("/account", data={"current_password": PASSWORD,
                                  "new_password": "a completely new one 7"})
    assert other.get("/tickets").status_code == 302
    assert caller.get("/api/v1/tickets").status_code == 401
    assert db.session.scalar(select(func.count(ApiToken.id)).where(
        ApiToken.revoked_at.is_(None))) == 0


def test_deactivation_ends_every_session_and_api_token(world, app, login, api):
    caller = api("unit_k1")
    client = login("unit_k1")
    accounts.set_active(None, world.unit_k1.id, False)
    db.session.commit()
    assert client.get("/tickets").status_code == 302
    assert caller.get("/api/v1/tickets").status_code == 401
    assert post_login(app.test_client(), "unit_k1", PASSWORD).status_code == 200


def test_session_ends_after_the_idle_timeout(world, login, frozen_today, app):
    client = login("unit_k1")
    idle = app.config["PERMANENT_SESSION_LIFETIME"]
    frozen_today.shift(idle - timedelta(minutes=1))
    assert client.get("/tickets").status_code == 200  # activity renews the idle clock
    frozen_today.shift(idle - timedelta(minutes=1))
    assert client.get("/tickets").status_code == 200
    frozen_today.shift(idle + timedelta(seconds=1))
    response = client.get("/tickets")
    assert response.status_code == 302 and "/login" in response.location


def test_idle_timeout_is_configurable(world, login, frozen_today, config_override):
    config_override(PERMANENT_SESSION_LIFETIME=timedelta(minutes=5))
    client = login("unit_k1")
    frozen_today.shift(timedelta(minutes=5, seconds=1))
    assert client.get("/tickets").status_code == 302


def test_session_ends_after_the_absolute_lifetime_however_active(
        world, login, frozen_today, config_override):
    config_override(SESSION_ABSOLUTE_HOURS=2)
    client = login("unit_k1")
    for _ in range(7):  # active every 17 minutes: never idle
        frozen_today.shift(timedelta(minutes=17))
        assert client.get("/tickets").status_code == 200
    frozen_today.shift(timedelta(minutes=17))  # 2 h 16 min after login
    response = client.get("/tickets")
    assert response.status_code == 302 and "/login" in response.location


def test_session_cookie_is_httponly_and_samesite_lax(world, client):
    response = post_login(client, "unit_k1", PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_is_secure_when_configured(world, client, config_override):
    config_override(SESSION_COOKIE_SECURE=True)
    response = post_login(client, "unit_k1", PASSWORD, base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]
