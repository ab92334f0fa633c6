"""Ticket lists: filters, sort orders and pages, shared by the pages, the API and exports.

Every list starts from the scoping rule and carries the overdue / near-due flags computed
by the one definition in `deadlines`. Rows come back with the finding, inspection and lead
unit already joined, so a page of 200 costs the same few statements as a page of 10.
"""
import base64
import json
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import contains_eager

from tracker.extensions import db
from tracker.models import Finding, Ticket, TicketStatus, TicketUnit, Unit, User
from tracker.services import deadlines, scoping
from tracker.services.errors import ValidationFailed

SORTS = {
    "deadline": (Ticket.deadline.asc(), Ticket.id.asc()),
    "-deadline": (Ticket.deadline.desc(), Ticket.id.desc()),
    "updated": (Ticket.updated_at.asc(), Ticket.id.asc()),
    "-updated": (Ticket.updated_at.desc(), Ticket.id.desc()),
}
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class TicketFilter:
    statuses: tuple[TicketStatus, ...] = ()
    overdue: bool | None = None
    near_due: bool | None = None
    unit_id: int | None = None  # that unit's subtree, by lead unit
    inspection_id: int | None = None
    finding_id: int | None = None
    category_id: int | None = None
    deadline_from: date | None = None
    deadline_to: date | None = None
    q: str | None = None
    declined: bool | None = None
    sort: str = "deadline"


@dataclass
class TicketRow:
    ticket: Ticket
    is_overdue: bool
    is_near_due: bool
    light: str


@dataclass
class TicketPage:
    rows: list[TicketRow]
    total: int
    page: int
    per_page: int
    next_cursor: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def filtered(user: User, flt: TicketFilter, today: date, near_days: int) -> Select:
    """The scoped, filtered select of tickets (no order, no page)."""
    statement = scoping.tickets(user)
    conditions = []
    if flt.statuses:
        conditions.append(Ticket.status.in_(flt.statuses))
    if flt.overdue is not None:
        expr = deadlines.overdue(today)
        conditions.append(expr if flt.overdue else ~expr)
    if flt.near_due is not None:
        expr = deadlines.near_due(today, near_days)
        conditions.append(expr if flt.near_due else ~expr)
    if flt.unit_id is not None:
        conditions.append(scoping.in_subtree(Ticket.lead_unit_id, flt.unit_id))
    if flt.finding_id is not None:
        conditions.append(Ticket.finding_id == flt.finding_id)
    if flt.deadline_from is not None:
        conditions.append(Ticket.deadline >= flt.deadline_from)
    if flt.deadline_to is not None:
        conditions.append(Ticket.deadline <= flt.deadline_to)
    if flt.declined is not None:
        conditions.append(Ticket.is_declined.is_(flt.declined))
    needs_finding = flt.inspection_id is not None or flt.category_id is not None or flt.q
    if needs_finding:
        finding_conditions = [Finding.id == Ticket.finding_id]
        if flt.inspection_id is not None:
            finding_conditions.append(Finding.inspection_id == flt.inspection_id)
        if flt.category_id is not None:
            finding_conditions.append(Finding.category_id == flt.category_id)
        if flt.q:
            pattern = f"%{_escape_like(flt.q.strip()[:100])}%"
            conditions.append(or_(
                Ticket.measures.like(pattern, escape="\\"),
                Ticket.responsible_person.like(pattern, escape="\\"),
                select(Finding.id).where(and_(Finding.id == Ticket.finding_id,
                                              Finding.title.like(pattern, escape="\\")))
                .exists(),
            ))
        if len(finding_conditions) > 1:
            conditions.append(select(Finding.id).where(and_(*finding_conditions)).exists())
    return statement.where(*conditions)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _with_rows(statement: Select, today: date, near_days: int) -> Select:
    return (
        statement.join(Ticket.finding).join(Finding.inspection).join(Ticket.lead_unit)
        .options(contains_eager(Ticket.finding).contains_eager(Finding.inspection),
                 contains_eager(Ticket.lead_unit))
        .add_columns(*deadlines.flag_columns(today, near_days))
    )


def count(user: User, flt: TicketFilter, today: date, near_days: int) -> int:
    sub = filtered(user, flt, today, near_days).with_only_columns(Ticket.id).subquery()
    return db.session.scalar(select(func.count()).select_from(sub))


def _encode_cursor(ticket: Ticket, sort: str) -> str:
    key = ticket.deadline.isoformat() if "deadline" in sort else ticket.updated_at.isoformat()
    raw = json.dumps([sort, key, ticket.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str):
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        cursor_sort, key, ticket_id = json.loads(base64.urlsafe_b64decode(padded))
        if cursor_sort != sort or not isinstance(ticket_id, int):
            raise ValueError
        value = date.fromisoformat(key) if "deadline" in sort else datetime.fromisoformat(key)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ValidationFailed("cursor", {"cursor": ["Invalid cursor."]})
    return value, ticket_id


def page(user: User, flt: TicketFilter, today: date, near_days: int, *, page_number: int = 1,
         per_page: int = 50, cursor: str | None = None, with_total: bool = True) -> TicketPage:
    if flt.sort not in SORTS:
        raise ValidationFailed("sort", {"sort": ["Unknown sort order."]})
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    statement = _with_rows(filtered(user, flt, today, near_days), today, near_days)
    statement = statement.order_by(*SORTS[flt.sort])
    if cursor:
        value, ticket_id = _decode_cursor(cursor, flt.sort)
        column = Ticket.deadline if "deadline" in flt.sort else Ticket.updated_at
        if flt.sort.startswith("-"):
            statement = statement.where(or_(column < value,
                                            and_(column == value, Ticket.id < ticket_id)))
        else:
            statement = statement.where(or_(column > value,
                                            and_(column == value, Ticket.id > ticket_id)))
        page_number = 0
    else:
        page_number = max(1, page_number)
        statement = statement.offset((page_number - 1) * per_page)
    result = db.session.execute(statement.limit(per_page + 1)).unique().all()
    rows = [TicketRow(r[0], bool(r.is_overdue), bool(r.is_near_due), r.light)
            for r in result[:per_page]]
    next_cursor = _encode_cursor(rows[-1].ticket, flt.sort) if len(result) > per_page else None
    total = count(user, flt, today, near_days) if with_total else -1
    return TicketPage(rows=rows, total=total, page=page_number, per_page=per_page,
                      next_cursor=next_cursor)


def load_cooperating(tickets: list[Ticket]) -> dict[int, list[Unit]]:
    """Cooperating units of many tickets in one statement."""
    if not tickets:
        return {}
    result: dict[int, list[Unit]] = {t.id: [] for t in tickets}
    for link in db.session.scalars(select(TicketUnit).where(
            TicketUnit.ticket_id.in_([t.id for t in tickets]))):
        result[link.ticket_id].append(link.unit)
    return result
