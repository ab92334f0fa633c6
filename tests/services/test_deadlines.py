"""Overdue (逾期), near-due (临期) and late sign-off (逾期销号): DOMAIN.md, "Time".

Dates are days in the office's zone (Asia/Shanghai unless configured): 2026-11-21T15:59:59Z
is still 21 November there, 16:00:00Z is already the 22nd. The clock is moved with
time-machine; "today" is computed by `clock.today()` and passed into the SQL rules.
"""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests import factories
from tests.services.lifecycle import bring_to
from tracker.extensions import db
from tracker.models import Ticket, TicketStatus, TimelineKind
from tracker.services import clock, deadlines, ticket_queries, workflow

S = TicketStatus
NEAR_DAYS = 7
NOV_21 = date(2026, 11, 21)
LAST_SECOND_OF_NOV_21 = "2026-11-21T15:59:59+00:00"  # 23:59:59 in Shanghai
FIRST_SECOND_OF_NOV_22 = "2026-11-21T16:00:00+00:00"  # 00:00:00 in Shanghai


def new_ticket(w, deadline, timeline=TimelineKind.BY_DATE) -> Ticket:
    return factories.ticket(w.office, w.finding, w.k1, deadline=deadline, timeline=timeline)


def at(w, ticket, state) -> Ticket:
    return bring_to(ticket, state, lead=w.unit_k1, office=w.office)


def flags(ticket) -> dict:
    return deadlines.ticket_flags(ticket.id, clock.today(), NEAR_DAYS)


def listed(user, **criteria) -> set[int]:
    statement = ticket_queries.filtered(user, ticket_queries.TicketFilter(**criteria),
                                        clock.today(), NEAR_DAYS)
    return {t.id for t in db.session.scalars(statement)}


def closed_late_ids() -> set[int]:
    return set(db.session.scalars(select(Ticket.id).where(deadlines.closed_late())))


# --- the day boundary is the office's midnight ----------------------------------------------

@pytest.mark.parametrize("moment, today", [
    ("2026-11-20T16:00:00+00:00", date(2026, 11, 21)),
    (LAST_SECOND_OF_NOV_21, date(2026, 11, 21)),
    (FIRST_SECOND_OF_NOV_22, date(2026, 11, 22)),
])
def test_today_is_the_date_in_shanghai_not_in_utc(app, frozen_today, moment, today):
    frozen_today.move_to(moment)
    assert clock.today() == today


def test_ticket_due_today_is_not_overdue_at_2359_59_shanghai(world, frozen_today):
    ticket = at(world, new_ticket(world, NOV_21), S.IN_PROGRESS)
    frozen_today.move_to(LAST_SECOND_OF_NOV_21)
    assert flags(ticket) == {"is_overdue": False, "is_near_due": True, "light": "yellow"}
    assert ticket.id not in listed(world.office, overdue=True)


def test_ticket_due_yesterday_is_overdue_from_0000_shanghai(world, frozen_today):
    ticket = at(world, new_ticket(world, NOV_21), S.IN_PROGRESS)
    frozen_today.move_to(FIRST_SECOND_OF_NOV_22)
    assert flags(ticket) == {"is_overdue": True, "is_near_due": False, "light": "red"}
    assert ticket.id in listed(world.office, overdue=True)


@pytest.mark.parametrize("state", [S.ASSIGNED, S.IN_PROGRESS, S.RETURNED])
def test_unit_owes_work_so_past_deadline_is_overdue(world, frozen_today, state):
    ticket = at(world, new_ticket(world, NOV_21), state)
    frozen_today.move_to(FIRST_SECOND_OF_NOV_22)
    assert flags(ticket)["is_overdue"] is True


# --- near-due: N days, inclusive ------------------------------------------------------------

@pytest.mark.parametrize("days_left, near", [(0, True), (1, True), (7, True), (8, False)])
def test_near_due_counts_n_days_inclusive(world, days_left, near):
    ticket = new_ticket(world, factories.TODAY + timedelta(days=days_left))
    assert flags(ticket)["is_near_due"] is near
    assert flags(ticket)["light"] == ("yellow" if near else "green")
    assert (ticket.id in listed(world.office, near_due=True)) is near


def test_near_due_window_opens_at_midnight_in_shanghai(world, frozen_today):
    """Due 28 November: eight days away on the 20th, seven on the 21st (Shanghai)."""
    ticket = new_ticket(world, date(2026, 11, 28))
    frozen_today.move_to("2026-11-20T15:59:59+00:00")
    assert flags(ticket)["is_near_due"] is False
    frozen_today.move_to("2026-11-20T16:00:00+00:00")
    assert flags(ticket)["is_near_due"] is True


def test_near_due_days_come_from_the_caller(world):
    ticket = new_ticket(world, factories.TODAY + timedelta(days=10))
    assert deadlines.ticket_flags(ticket.id, clock.today(), 10)["is_near_due"] is True
    assert deadlines.ticket_flags(ticket.id, clock.today(), 9)["is_near_due"] is False


# --- long-term work is measured by its next review ------------------------------------------

def test_long_term_ticket_past_its_deadline_is_not_overdue_before_its_review(world):
    ticket = at(world, new_ticket(world, factories.TODAY + timedelta(days=1)), S.LONG_TERM)
    ticket.deadline = date(2026, 6, 30)  # long past: only the review date counts now
    db.session.flush()
    assert ticket.next_review_on > factories.TODAY
    assert flags(ticket)["is_overdue"] is False
    assert ticket.id not in listed(world.office, overdue=True)


def test_long_term_ticket_is_overdue_after_its_review_date(world, frozen_today):
    ticket = at(world, new_ticket(world, date(2027, 12, 31)), S.LONG_TERM)
    review = ticket.next_review_on
    frozen_today.move_to(f"{review.isoformat()}T15:59:59+00:00")
    assert flags(ticket) == {"is_overdue": False, "is_near_due": True, "light": "yellow"}
    frozen_today.move_to(f"{review.isoformat()}T16:00:00+00:00")
    assert flags(ticket) == {"is_overdue": True, "is_near_due": False, "light": "red"}
    assert ticket.id in listed(world.office, overdue=True)


def test_acknowledged_long_term_timeline_is_reviewed_on_its_first_review_date(world):
    ticket = new_ticket(world, factories.TODAY + timedelta(days=3), TimelineKind.LONG_TERM)
    workflow.acknowledge(world.unit_k1, ticket.id, ticket.version)
    assert ticket.status == S.LONG_TERM
    assert flags(ticket)["is_near_due"] is True


def test_long_term_ticket_without_review_date_falls_back_to_its_deadline(world, frozen_today):
    """Such a row can come from an import; it is overdue or not, never neither."""
    ticket = at(world, new_ticket(world, NOV_21), S.LONG_TERM)
    ticket.next_review_on = None
    db.session.flush()
    frozen_today.move_to(FIRST_SECOND_OF_NOV_22)
    assert flags(ticket)["is_overdue"] is True
    assert ticket.id in listed(world.office, overdue=True)
    assert ticket.id not in listed(world.office, overdue=False)


# --- waiting and finished tickets -----------------------------------------------------------

@pytest.mark.parametrize("state", [S.SUBMITTED, S.VERIFIED])
def test_ticket_waiting_for_a_decision_is_never_overdue_nor_near_due(world, frozen_today, state):
    world.inspection.signoff_levels = 2
    ticket = new_ticket(world, NOV_21)
    bring_to(ticket, state, lead=world.unit_k1, office=world.office,
             first_level=world.supervisor)
    for moment in (LAST_SECOND_OF_NOV_21, "2027-03-01T00:00:00+00:00"):
        frozen_today.move_to(moment)
        assert flags(ticket) == {"is_overdue": False, "is_near_due": False, "light": "green"}
        assert ticket.id not in listed(world.office, overdue=True)
        assert ticket.id not in listed(world.office, near_due=True)


@pytest.mark.parametrize("state", [S.CLOSED, S.CANCELLED])
def test_finished_ticket_is_never_overdue(world, frozen_today, state):
    ticket = at(world, new_ticket(world, NOV_21), state)
    frozen_today.move_to("2027-03-01T00:00:00+00:00")
    assert flags(ticket) == {"is_overdue": False, "is_near_due": False, "light": "green"}


# --- late sign-off --------------------------------------------------------------------------

def submit_at(w, frozen_today, ticket, moment):
    at(w, ticket, S.IN_PROGRESS)
    frozen_today.move_to(moment)
    workflow.submit(w.unit_k1, ticket.id, ticket.version)


def test_submitted_on_the_deadline_day_in_shanghai_is_not_a_late_sign_off(world, frozen_today):
    ticket = new_ticket(world, NOV_21)
    submit_at(world, frozen_today, ticket, LAST_SECOND_OF_NOV_21)
    frozen_today.move_to("2026-12-10T02:00:00+00:00")  # decided much later: not the unit's delay
    workflow.approve(world.office, ticket.id, ticket.version)
    assert ticket.status == S.CLOSED
    assert ticket.id not in closed_late_ids()


def test_submitted_after_the_deadline_is_a_late_sign_off(world, frozen_today):
    ticket = new_ticket(world, NOV_21)
    submit_at(world, frozen_today, ticket, FIRST_SECOND_OF_NOV_22)
    workflow.approve(world.office, ticket.id, ticket.version)
    assert ticket.id in closed_late_ids()


def test_late_sign_off_uses_the_deadline_in_force_at_submission(world, frozen_today):
    """An extension approved before submission counts; a deadline moved afterwards does not."""
    extended = new_ticket(world, NOV_21)
    request = workflow.request_extension(world.unit_k1, extended.id, extended.version,
                                         date(2026, 11, 30), "专项资金尚未到位")
    workflow.decide_extension(world.office, request.id, True, version=extended.version)
    submit_at(world, frozen_today, extended, "2026-11-25T02:00:00+00:00")

    moved_after = new_ticket(world, NOV_21)
    submit_at(world, frozen_today, moved_after, "2026-11-25T02:00:00+00:00")
    workflow.edit_ticket(world.office, moved_after.id, moved_after.version,
                         workflow.TicketChanges(deadline=date(2026, 12, 31)))

    for ticket in (extended, moved_after):
        workflow.approve(world.office, ticket.id, ticket.version)
    assert extended.original_deadline == NOV_21
    assert closed_late_ids() == {moved_after.id}


def test_open_ticket_is_never_a_late_sign_off(world, frozen_today):
    ticket = new_ticket(world, NOV_21)
    submit_at(world, frozen_today, ticket, FIRST_SECOND_OF_NOV_22)
    assert ticket.id not in closed_late_ids()


def test_reopened_ticket_is_judged_by_its_next_submission(world, frozen_today):
    ticket = new_ticket(world, NOV_21)
    submit_at(world, frozen_today, ticket, FIRST_SECOND_OF_NOV_22)
    workflow.approve(world.office, ticket.id, ticket.version)
    workflow.reopen(world.office, ticket.id, ticket.version, "回头看发现问题反弹",
                    date(2026, 12, 31))
    workflow.submit(world.unit_k1, ticket.id, ticket.version)
    workflow.approve(world.office, ticket.id, ticket.version)
    assert ticket.id not in closed_late_ids()


# --- one rule, whichever way it is asked ----------------------------------------------------

def test_list_filters_and_single_ticket_flags_agree(world, frozen_today):
    frozen_today.move_to("2026-11-10T02:00:00+00:00")
    tickets = [
        at(world, new_ticket(world, NOV_21), S.ASSIGNED),
        at(world, new_ticket(world, NOV_21), S.IN_PROGRESS),
        at(world, new_ticket(world, date(2026, 11, 22)), S.RETURNED),
        at(world, new_ticket(world, date(2026, 11, 29)), S.IN_PROGRESS),
        at(world, new_ticket(world, date(2026, 11, 30)), S.IN_PROGRESS),
        at(world, new_ticket(world, NOV_21), S.SUBMITTED),
        at(world, new_ticket(world, NOV_21), S.CLOSED),
        at(world, new_ticket(world, NOV_21), S.CANCELLED),
        at(world, new_ticket(world, NOV_21), S.LONG_TERM),
    ]
    db.session.flush()
    everyone = {t.id for t in db.session.scalars(select(Ticket))}
    for moment in (LAST_SECOND_OF_NOV_21, FIRST_SECOND_OF_NOV_22, "2027-03-01T00:00:00+00:00"):
        frozen_today.move_to(moment)
        overdue, near = listed(world.admin, overdue=True), listed(world.admin, near_due=True)
        assert overdue | listed(world.admin, overdue=False) == everyone
        assert not overdue & listed(world.admin, overdue=False)
        assert not near & listed(world.admin, near_due=False)
        for ticket in tickets:
            f = flags(ticket)
            assert f["is_overdue"] is (ticket.id in overdue), (moment, ticket.status)
            assert f["is_near_due"] is (ticket.id in near), (moment, ticket.status)
            assert f["light"] == ("red" if f["is_overdue"] else
                                  "yellow" if f["is_near_due"] else "green")
        page = ticket_queries.page(world.admin, ticket_queries.TicketFilter(), clock.today(),
                                   NEAR_DAYS, per_page=200)
        for row in page.rows:
            assert (row.is_overdue, row.is_near_due) == (row.ticket.id in overdue,
                                                         row.ticket.id in near)


def test_rules_never_ask_the_database_for_the_date(app):
    sql = " ".join(str(expr.compile(dialect=db.engine.dialect)).lower() for expr in (
        deadlines.overdue(NOV_21), deadlines.near_due(NOV_21, NEAR_DAYS),
        deadlines.closed_late()))
    for clock_function in ("current_date", "current_timestamp", "now(", "sysdate",
                           "curdate", "localtime", "'now'"):
        assert clock_function not in sql


# --- another office zone --------------------------------------------------------------------

def test_today_follows_the_configured_zone(app, frozen_today, monkeypatch):
    frozen_today.move_to(FIRST_SECOND_OF_NOV_22)
    assert clock.today() == date(2026, 11, 22)
    monkeypatch.setitem(app.config, "TIMEZONE", "UTC")
    assert clock.today() == date(2026, 11, 21)
    monkeypatch.setitem(app.config, "TIMEZONE", "America/Los_Angeles")
    assert clock.today() == date(2026, 11, 21)
    frozen_today.move_to("2026-11-22T07:59:59+00:00")
    assert clock.today() == date(2026, 11, 21)


def test_overdue_follows_the_configured_zone(app, world, frozen_today, monkeypatch):
    ticket = at(world, new_ticket(world, NOV_21), S.IN_PROGRESS)
    frozen_today.move_to("2026-11-21T20:00:00+00:00")  # 22 Nov in Shanghai, 21 Nov in UTC
    assert flags(ticket)["is_overdue"] is True
    monkeypatch.setitem(app.config, "TIMEZONE", "UTC")
    assert flags(ticket) == {"is_overdue": False, "is_near_due": True, "light": "yellow"}
    assert ticket.id not in listed(world.office, overdue=True)
