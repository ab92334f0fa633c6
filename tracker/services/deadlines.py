"""The one definition of overdue (逾期), near-due (临期) and late sign-off (逾期销号).

Each rule is a SQL expression over the tickets table with "today" passed in, so every
list, count, reminder and report filters and aggregates with the same rule in the
database. A single ticket's flags are read through the same expressions
(`ticket_flags`), never recomputed in Python.
"""
from datetime import date, timedelta
from functools import lru_cache

from sqlalchemy import and_, case, func, select
from sqlalchemy.sql import ColumnElement

from tracker.extensions import db
from tracker.models import OPEN_STATUSES, Ticket, TicketStatus

#: States in which the unit itself owes work against the deadline.
DEADLINE_STATES = (TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.RETURNED)
#: States measured against a date: the deadline, or for long-term work the next review.
DUE_STATES = DEADLINE_STATES + (TicketStatus.LONG_TERM,)
#: States waiting for someone else's decision: they show days waited instead.
WAITING_STATES = (TicketStatus.SUBMITTED, TicketStatus.VERIFIED)


def due_date() -> ColumnElement:
    """The date a ticket is measured against: next review for long-term, else the deadline.
    A long-term ticket without a review date falls back to its deadline (never NULL, so
    that "not overdue" is the exact complement of "overdue")."""
    return case(
        (Ticket.status == TicketStatus.LONG_TERM,
         func.coalesce(Ticket.next_review_on, Ticket.deadline)),
        else_=Ticket.deadline,
    )


def overdue(today: date) -> ColumnElement[bool]:
    """逾期: the unit owes work and today is past the date it is measured against."""
    return and_(Ticket.status.in_(DUE_STATES), due_date() < today)


def near_due(today: date, days: int) -> ColumnElement[bool]:
    """临期: not overdue, and due within `days` days (inclusive). Waiting states excluded:
    they are not the unit's to finish."""
    return and_(Ticket.status.in_(DUE_STATES),
                due_date().between(today, today + timedelta(days=days)))


def closed_late() -> ColumnElement[bool]:
    """逾期销号: closed, and submitted after the deadline in force at that moment."""
    return and_(
        Ticket.status == TicketStatus.CLOSED,
        Ticket.submitted_on.is_not(None),
        Ticket.deadline_at_submission.is_not(None),
        Ticket.submitted_on > Ticket.deadline_at_submission,
    )


def is_open() -> ColumnElement[bool]:
    return Ticket.status.in_(OPEN_STATUSES)


def light(today: date, days: int) -> ColumnElement[str]:
    """Traffic light (红黄牌): red overdue, yellow near-due, green otherwise."""
    return case((overdue(today), "red"), (near_due(today, days), "yellow"), else_="green")


@lru_cache(maxsize=16)
def flag_columns(today: date, days: int) -> tuple[ColumnElement, ...]:
    """Labelled columns to add to any ticket query. Built once per day and near-due
    window (expressions are immutable; every list and ticket page adds them)."""
    return (
        overdue(today).label("is_overdue"),
        near_due(today, days).label("is_near_due"),
        light(today, days).label("light"),
    )


def ticket_flags(ticket_id: int, today: date, days: int) -> dict[str, object]:
    row = db.session.execute(
        select(*flag_columns(today, days)).where(Ticket.id == ticket_id)
    ).one_or_none()
    if row is None:
        return {"is_overdue": False, "is_near_due": False, "light": "green"}
    return {"is_overdue": bool(row.is_overdue), "is_near_due": bool(row.is_near_due),
            "light": row.light}
