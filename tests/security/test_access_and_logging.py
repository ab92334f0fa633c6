"""Fields a role may not set are ignored or refused (ASVS 8.2.3, 15.3.3); every
authentication event and refused access is logged with who, what, when and where, and
no one can forge a log line (ASVS 16.2, 16.3, 16.4.1)."""
import io
import logging
import re
from datetime import date

import pytest

from tests import factories
from tracker.extensions import db
from tracker.models import Role, Ticket, TicketStatus, User
from tracker.security import EscapeNewlines, SecurityFormatter


def ticket(t) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, t.id)


# --- fields a role may not set ------------------------------------------------------------

def test_progress_form_ignores_posted_status_owner_and_deadline(world, login):
    client = login("unit_k1")
    t = ticket(world.t1)
    deadline, lead = t.deadline, t.lead_unit_id
    response = client.post(f"/tickets/{t.id}/progress", data={
        "progress-version": t.version, "progress-text": "已召开专题会议",
        "progress-status": "closed", "status": "closed",
        "progress-lead_unit_id": world.k2.id, "lead_unit_id": world.k2.id,
        "progress-deadline": "2030-01-01", "deadline": "2030-01-01",
        "progress-version_id": 99, "approver_id": world.unit_k1.id})
    assert response.status_code in (302, 303), response.status_code
    t = ticket(world.t1)
    assert t.status == TicketStatus.IN_PROGRESS
    assert (t.lead_unit_id, t.deadline) == (lead, deadline)


def test_cooperating_unit_cannot_set_the_lead_units_percent_by_form(world, login):
    client = login("unit_d1")
    t = ticket(world.t1)
    client.post(f"/tickets/{t.id}/progress", data={
        "progress-version": t.version, "progress-text": "财政局已拨付资金",
        "progress-percent": 100, "progress-planned_completion_on": "2026-12-01"})
    t = ticket(world.t1)
    assert t.progress_percent != 100
    assert t.planned_completion_on != date(2026, 12, 1)


def test_api_refuses_a_posted_status_as_an_unknown_field(world, api):
    t = ticket(world.t1)
    response = api("unit_k1").post(f"/api/v1/tickets/{t.id}/progress", json={
        "version": t.version, "text": "整改中", "status": "closed"})
    assert response.status_code == 422
    assert "status" in response.get_json()["fields"]
    assert ticket(world.t1).status == TicketStatus.ASSIGNED


def test_api_patch_refuses_status_version_and_owner_fields(world, api):
    t = ticket(world.t1)
    caller = api("office")
    for field, value in (("status", "closed"), ("is_declined", True),
                         ("original_deadline", "2030-01-01"), ("finding_id", 1),
                         ("created_by_id", world.unit_k1.id)):
        response = caller.patch(f"/api/v1/tickets/{t.id}", json={"version": t.version,
                                                                  field: value})
        assert response.status_code == 422, field
        assert field in response.get_json()["fields"], field
    after = ticket(world.t1)
    assert (after.status, after.version) == (t.status, t.version)


def test_unit_user_cannot_change_what_only_the_office_may(world, api):
    t = ticket(world.t1)
    response = api("unit_k1").patch(f"/api/v1/tickets/{t.id}", json={
        "version": t.version, "deadline": "2030-01-01"})
    assert response.status_code in (403, 404)
    assert ticket(world.t1).deadline == t.deadline


def test_cooperating_unit_cannot_set_percent_through_the_api(world, api):
    t = ticket(world.t1)
    response = api("unit_d1").post(f"/api/v1/tickets/{t.id}/progress", json={
        "version": t.version, "text": "配合推进", "percent": 100})
    assert response.status_code in (403, 422)
    assert ticket(world.t1).progress_percent != 100


def test_account_page_ignores_posted_role_unit_and_state(world, login):
    client = login("unit_k1")
    client.post("/account", data={"current_password": factories.PASSWORD,
                                  "new_password": "another long phrase 9",
                                  "role": "admin", "unit_id": world.p.id,
                                  "scope_unit_id": world.p.id, "is_active": "1",
                                  "must_change_password": "0"})
    db.session.expire_all()
    user = db.session.get(User, world.unit_k1.id)
    assert user.role == Role.UNIT_USER
    assert user.unit_id == world.k1.id and user.scope_unit_id is None


def test_admin_user_form_cannot_choose_a_password(world, login):
    client = login("admin")
    target = world.unit_k2
    before = target.password_hash
    client.post(f"/admin/users/{target.id}", data={
        "full_name": "临夏市经办人", "role": "unit_user", "unit_id": world.k2.id,
        "password": "chosen by the admin 1", "password_hash": "x",
        "new_password": "chosen by the admin 1"})
    db.session.expire_all()
    assert db.session.get(User, target.id).password_hash == before


def test_unit_user_cannot_reach_admin_forms(world, login):
    client = login("unit_k1")
    response = client.post(f"/admin/users/{world.unit_k1.id}", data={
        "full_name": "x", "role": "admin", "unit_id": world.p.id})
    assert response.status_code in (403, 404)
    db.session.expire_all()
    assert db.session.get(User, world.unit_k1.id).role == Role.UNIT_USER


# --- the security log -------------------------------------------------------------------------

def security_records(caplog):
    return [r for r in caplog.records if r.name == "tracker.security"]


def messages(caplog):
    return [r.getMessage() for r in security_records(caplog)]


def test_successful_and_failed_logins_are_logged_with_user_and_address(world, client, caplog):
    caplog.set_level(logging.INFO, logger="tracker.security")
    client.post("/login", data={"username": "unit_k1", "password": "wrong one"},
                environ_base={"REMOTE_ADDR": "10.1.2.3"})
    client.post("/login", data={"username": "unit_k1", "password": factories.PASSWORD},
                environ_base={"REMOTE_ADDR": "10.1.2.3"})
    logged = messages(caplog)
    assert any(m.startswith("login.failure") and "username='unit_k1'" in m
               and "addr='10.1.2.3'" in m for m in logged)
    assert any(m.startswith("login.success") and "username='unit_k1'" in m for m in logged)


def test_throttled_login_logout_password_change_and_deactivation_are_logged(
        world, client, login, caplog):
    caplog.set_level(logging.INFO, logger="tracker.security")
    attacker = {"REMOTE_ADDR": "10.66.66.66"}
    for _ in range(11):
        client.post("/login", data={"username": "unit_k2", "password": "nope nope"},
                    environ_base=attacker)
    session = login("unit_k1")
    session.post("/account", data={"current_password": factories.PASSWORD,
                                   "new_password": "a fresh phrase for me"})
    session = login("unit_d1")
    session.post("/logout")
    from tracker.services import accounts
    accounts.set_active(world.admin, world.unit_d1.id, False)
    logged = " | ".join(messages(caplog))
    for what in ("login.throttled", "password.change", "logout", "user.deactivate"):
        assert what in logged, what


def test_refused_access_is_logged_with_who_and_where(world, login, api, caplog):
    caplog.set_level(logging.INFO, logger="tracker.security")
    client = login("unit_k1")
    client.get(f"/tickets/{world.t2.id}", environ_base={"REMOTE_ADDR": "10.7.7.7"})
    api("unit_k2").get(f"/api/v1/tickets/{world.t1.id}")
    refused = [r for r in security_records(caplog) if r.getMessage().startswith("refused")]
    assert any(r.sec_user == "unit_k1" and r.sec_addr == "10.7.7.7"
               and f"/tickets/{world.t2.id}" in r.getMessage() for r in refused)
    assert any(r.sec_user == "unit_k2" and "/api/v1/tickets/" in r.getMessage()
               for r in refused)


def test_api_call_without_a_token_is_logged_as_refused(world, client, caplog):
    caplog.set_level(logging.INFO, logger="tracker.security")
    client.get("/api/v1/tickets")
    assert any("unauthenticated" in m for m in messages(caplog))


#: At most 80 characters (the form's limit), so that it reaches the log.
FORGED = "x\r\n2026-11-21T02:00:00Z INFO tracker.security user=admin login.success"


def test_a_user_name_cannot_forge_a_log_line(world, client, caplog):
    caplog.set_level(logging.INFO, logger="tracker.security")
    client.post("/login", data={"username": FORGED, "password": "whatever 123"})
    for record in security_records(caplog):
        assert "\n" not in record.getMessage() and "\r" not in record.getMessage()
    assert any("\\r\\n2026-11-21" in m for m in messages(caplog))


def test_every_logger_of_the_process_is_escaped(app):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SecurityFormatter())
    library = logging.getLogger("some.library")
    library.addHandler(handler)
    try:
        library.warning("value %s", "a\nb\x1b[31mred")
        library.warning("plain\rtext")
    finally:
        library.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("value a\\nb\\x1b[31mred")
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ WARNING some\.library ", lines[0])


def test_a_traceback_cannot_pass_for_a_log_line(app):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SecurityFormatter())
    handler.addFilter(EscapeNewlines())
    logger = logging.getLogger("tracker.test_traceback")
    logger.addHandler(handler)
    try:
        raise ValueError("bad\n2026-11-21T02:00:00Z INFO forged")
    except ValueError:
        logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert re.match(r"^\d{4}-", lines[0])
    assert all(line.startswith("  | ") for line in lines[1:])


def test_log_times_are_utc(app):
    record = logging.LogRecord("tracker", logging.INFO, __file__, 1, "m", (), None)
    record.created = 0.0  # 1970-01-01T00:00:00Z, whatever the machine's zone
    assert SecurityFormatter().format(record).startswith("1970-01-01T00:00:00Z")


@pytest.mark.parametrize("value", ["\u2028", "\u2029", "\x00", "\x7f"])
def test_other_line_breaking_characters_are_escaped(value):
    from tracker.security import escape_controls
    assert value not in escape_controls(f"a{value}b")
