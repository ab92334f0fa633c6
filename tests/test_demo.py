"""The demo world (`flask load-demo`): every state a demo needs, reached through the
workflow, with a history in the past, seen through the product's own rules.

The world is loaded once for this module and only read, so `_clean_db` is replaced by a
module-wide version that empties the database after the last test."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import empty_tables
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    ExtensionRequest,
    ExtensionStatus,
    Finding,
    Inspection,
    RollupSnapshot,
    Ticket,
    TicketStatus,
    TicketUnit,
    UrgingNotice,
    User,
)
from tracker.services import clock, deadlines, demo, scoping

S = TicketStatus


@pytest.fixture(scope="module")
def loaded(app):
    with app.app_context():
        report = demo.load_demo()
        db.session.commit()
        yield report
        db.session.rollback()
        empty_tables()
        db.session.remove()


@pytest.fixture(autouse=True)
def _clean_db(app, loaded):
    """Overrides the conftest fixture: the demo stays loaded for the whole module."""
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def count(*conditions) -> int:
    return db.session.scalar(select(func.count(Ticket.id)).where(*conditions))


def near_days(app) -> int:
    return app.config["NEAR_DUE_DAYS"]


@pytest.mark.parametrize("username", demo.DEMO_USERNAMES + ("city_office",))
def test_demo_account_logs_in_with_the_demo_password_and_needs_no_change(client, username):
    response = client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302
    assert "/account" not in response.headers["Location"]


def test_every_demo_account_shares_the_demo_password_and_is_active():
    users = list(db.session.scalars(select(User)))
    assert len(users) >= 10
    assert all(u.check_password(demo.DEMO_PASSWORD) and u.is_active_user
               and not u.must_change_password for u in users[:3])
    assert len({u.password_hash for u in users}) == 1


@pytest.mark.parametrize("status", list(TicketStatus))
def test_the_demo_has_tickets_in_every_state(status):
    assert count(Ticket.status == status) >= 1


def test_a_declined_ticket_waits_in_the_office_queue():
    assert count(Ticket.is_declined.is_(True), Ticket.status == S.ASSIGNED,
                 Ticket.decline_reason.is_not(None)) == 1


def test_an_extension_request_waits_for_a_decision_and_others_were_decided_both_ways():
    statuses = dict(db.session.execute(select(ExtensionRequest.status, func.count())
                                       .group_by(ExtensionRequest.status)).all())
    assert statuses[ExtensionStatus.PENDING] == 1
    assert statuses[ExtensionStatus.APPROVED] >= 1
    assert statuses[ExtensionStatus.REFUSED] >= 1


def test_an_approved_extension_moved_the_deadline_and_kept_the_original(app):
    moved = count(Ticket.deadline > Ticket.original_deadline)
    assert moved >= 1


def test_the_demo_has_overdue_and_near_due_tickets(app):
    today = clock.today()
    assert count(deadlines.overdue(today)) >= 3
    assert count(deadlines.near_due(today, near_days(app))) >= 3


def test_exactly_one_closed_ticket_was_signed_off_late():
    [late] = db.session.scalars(select(Ticket).where(deadlines.closed_late()))
    assert late.submitted_on > late.deadline_at_submission
    assert late.deadline < clock.today()


def test_a_closed_ticket_was_reopened_after_review():
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "ticket.reopen")) == 1


def test_overdue_tickets_were_urged_and_one_urging_waits_for_the_unit():
    notices = list(db.session.scalars(select(UrgingNotice)))
    assert len(notices) >= 2
    assert sum(n.acknowledged_at is None for n in notices) == 1


def test_a_long_term_ticket_has_a_stage_goal_and_a_review_date_ahead():
    [ticket] = db.session.scalars(select(Ticket).where(Ticket.status == S.LONG_TERM))
    assert ticket.stage_goal and ticket.review_cycle_days
    assert ticket.next_review_on > clock.today()


@pytest.mark.parametrize("username", ["unit_a", "unit_b"])
def test_unit_user_sees_only_tickets_their_unit_leads_or_cooperates_on(username):
    u = user(username)
    visible = list(db.session.scalars(scoping.tickets(u)))
    cooperating = set(db.session.scalars(select(TicketUnit.ticket_id).where(
        TicketUnit.unit_id == u.unit_id)))
    assert visible
    assert all(t.lead_unit_id == u.unit_id or t.id in cooperating for t in visible)
    assert len(visible) < count()


def test_unit_a_and_unit_b_see_none_of_each_others_tickets():
    a = {t.id for t in db.session.scalars(scoping.tickets(user("unit_a")))}
    b = {t.id for t in db.session.scalars(scoping.tickets(user("unit_b")))}
    assert a and b and not a & b


@pytest.mark.parametrize("username", ["unit_a", "unit_b"])
def test_unit_user_leads_an_overdue_and_a_near_due_ticket(app, username):
    u, today = user(username), clock.today()
    leads = Ticket.lead_unit_id == u.unit_id
    assert count(leads, deadlines.overdue(today)) >= 1
    assert count(leads, deadlines.near_due(today, near_days(app))) >= 1


@pytest.mark.parametrize("username", ["unit_a", "unit_b"])
def test_unit_user_leads_tickets_in_several_states(username):
    statuses = set(db.session.scalars(select(Ticket.status).where(
        Ticket.lead_unit_id == user(username).unit_id)))
    assert len(statuses) >= 4


def test_unit_a_has_an_assigned_ticket_to_acknowledge():
    assert count(Ticket.lead_unit_id == user("unit_a").unit_id, Ticket.status == S.ASSIGNED,
                 Ticket.is_declined.is_(False)) >= 1


def test_the_supervisor_sees_only_the_city_of_their_scope():
    supervisor = user("supervisor")
    visible = list(db.session.scalars(scoping.tickets(supervisor)))
    assert visible and len(visible) < count()
    assert all(scoping.covers_unit(supervisor, t.lead_unit_id) for t in visible)


def test_the_province_office_sees_every_ticket():
    assert db.session.scalar(select(func.count()).select_from(
        scoping.tickets(user("office")).subquery())) == count()


def test_inspections_use_one_and_two_level_sign_off_and_one_lets_supervisors_sign_off():
    chains = set(db.session.execute(select(Inspection.signoff_levels,
                                           Inspection.supervisors_may_sign_off)).all())
    assert {(1, True), (1, False), (2, False)} <= chains


def test_the_seed_inspections_and_their_findings_are_there():
    titles = set(db.session.scalars(select(Finding.title)))
    assert {"经费投入保障政策未完全落实", "义务教育资源分布不均衡情况尚存在",
            "师资队伍尚不匹配优质均衡要求", "技能甘肃落地推进尚不均衡", "校园安全存在隐患",
            "督导职能落实不能适应教育需求", "高中阶段毛入学率低"} <= titles
    numbers = set(db.session.scalars(select(Inspection.document_number)))
    assert any(n and n.startswith("甘政教督办函〔") and n.endswith("〕14号") for n in numbers)


def test_a_finding_is_linked_as_a_repeat_of_an_earlier_one():
    assert db.session.scalar(select(func.count(Finding.id)).where(
        Finding.repeats_finding_id.is_not(None))) == 1


def test_every_ticket_has_an_audit_trail_starting_with_its_creation():
    tickets = list(db.session.scalars(select(Ticket.id)))
    first = dict(db.session.execute(
        select(AuditEvent.ticket_id, func.min(AuditEvent.id)).where(
            AuditEvent.ticket_id.is_not(None)).group_by(AuditEvent.ticket_id)).all())
    assert set(first) == set(tickets)
    actions = set(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.id.in_(first.values()))))
    assert actions == {"ticket.create"}


def test_each_tickets_history_is_in_the_past_and_in_order():
    now = clock.now_utc()
    events = list(db.session.execute(select(
        AuditEvent.ticket_id, AuditEvent.created_at).where(AuditEvent.ticket_id.is_not(None))
        .order_by(AuditEvent.ticket_id, AuditEvent.id)))
    for before, after in zip(events, events[1:]):
        if before.ticket_id == after.ticket_id:
            assert before.created_at <= after.created_at
    assert max(e.created_at for e in events) < now - timedelta(hours=12)
    assert min(e.created_at for e in events) < now - timedelta(days=300)


def test_ticket_timestamps_match_their_history():
    ticket = db.session.scalar(select(Ticket).where(Ticket.status == S.CLOSED,
                                                    Ticket.closed_at.is_not(None)).limit(1))
    approved = db.session.scalar(select(AuditEvent.created_at).where(
        AuditEvent.ticket_id == ticket.id, AuditEvent.action == "ticket.approve"))
    assert ticket.closed_at == approved
    assert ticket.submitted_on == clock.local_date(ticket.submitted_at)


def test_roll_up_snapshots_give_trends_a_history():
    days = set(db.session.scalars(select(RollupSnapshot.taken_on)))
    today = clock.today()
    assert today - timedelta(days=1) in days
    assert min(days) < today - timedelta(days=300)


def test_the_database_is_marked_as_a_demo_and_the_login_page_lists_its_accounts(client):
    assert demo.is_demo_database()
    page = client.get("/login").get_data(as_text=True)
    for username in demo.DEMO_USERNAMES:
        assert f"<code>{username}</code>" in page


def test_the_load_report_counts_what_the_database_holds(loaded):
    assert loaded.tickets == count()
    assert loaded.closed_late == 1
    assert loaded.by_status[S.VERIFIED.value] == count(Ticket.status == S.VERIFIED)
    assert {"admin", "office", "supervisor", "unit_a", "unit_b"} <= {
        a.username for a in loaded.accounts}
