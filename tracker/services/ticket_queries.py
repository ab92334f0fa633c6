"""Ticket lists: filters, sort orders and pages, shared by the pages, the API and exports.

Every list starts from the scoping rule and carries the overdue / near-due flags computed
by the one definition in `deadlines`. Rows come back with the finding, inspection and lead
unit already joined, so a page of 200 costs the same few statements as a page of 10.
"""
import base64
import json
from dataclasses import dataclass, field, fields
from datetime import date, datetime

from sqlalchemy import Row, Select, and_, func, or_, select
from sqlalchemy.orm import aliased, contains_eager
from sqlalchemy.sql import ColumnElement, operators

from tracker.extensions import db
from tracker.models import Finding, Ticket, TicketStatus, TicketUnit, Unit, User
from tracker.models.base import shared_alias
from tracker.services import deadlines, scoping
from flask_babel import gettext as _  # noqa: E402  (roll-up drill-down filters)
from tracker.models import Inspection, Severity  # noqa: E402
from tracker.services import rollup  # noqa: E402
from tracker.services.errors import ValidationFailed

SORTS = {
    "deadline": (Ticket.deadline.asc(), Ticket.id.asc()),
    "-deadline": (Ticket.deadline.desc(), Ticket.id.desc()),
    "updated": (Ticket.updated_at.asc(), Ticket.id.asc()),
    "-updated": (Ticket.updated_at.desc(), Ticket.id.desc()),
}
MAX_PER_PAGE = 200
#: Lists count matching tickets up to this many; past it they say "more than 10,000"
#: instead of counting the whole scope on every request.
COUNT_CAP = 10_000


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
    # Roll-up drill-downs (rollup.drill_params): each dashboard count lists exactly its tickets.
    lead_unit_id: int | None = None  # exactly this lead unit, not its subtree
    year: int | None = None  # the inspection's year
    severity: str | None = None  # the finding's severity
    no_category: bool = False  # findings without a category
    closed_late: bool | None = None  # late sign-off (逾期销号)
    planned: str | None = None  # open, planned completion in a rollup.BUCKETS bucket


@dataclass(frozen=True, slots=True)
class TableTicket:
    """A ticket as a ticket table shows it (templates/tickets/_macros.html `ticket_table`),
    read as plain columns: what `page(..., table=True)` gives in place of ORM tickets. At
    fifty rows, building the tickets with their findings, inspections and lead units as ORM
    objects costs more of the list page's CPU than any other step (about 2 ms of 14)."""

    id: int
    status: TicketStatus
    is_declined: bool
    deadline: date
    next_review_on: date | None
    progress_percent: int
    submitted_on: date | None
    updated_at: datetime
    lead_unit_id: int
    title: str
    inspection_title: str
    document_number: str | None
    lead_unit_name: str


@dataclass
class TicketRow:
    ticket: Ticket | TableTicket
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
    #: True when more tickets match than `total` says (it stopped at COUNT_CAP).
    total_capped: bool = False
    #: Keyset cursor of the page before this one (pages reached by cursor), else None.
    prev_cursor: str | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def filtered(user: User, flt: TicketFilter, today: date, near_days: int,
             where: tuple[ColumnElement[bool], ...] = ()) -> Select:
    """The scoped, filtered select of tickets (no order, no page). `where`: extra SQL
    conditions of a caller's own (e.g. the decision queue), added to the filter's."""
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
    conditions.extend(_rollup_conditions(flt, today))
    return statement.where(*conditions, *where)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


#: Aliased, so that the filters' EXISTS subqueries over findings/inspections keep their
#: own FROM instead of auto-correlating to the joins of `_with_rows` (which fails to
#: compile); made once, so that SQLAlchemy's work on their joins is done once too.
_ROW_FINDING, _ROW_INSPECTION, _ROW_LEAD = (shared_alias(Finding), shared_alias(Inspection),
                                         shared_alias(Unit))


def _with_rows(statement: Select, today: date, near_days: int) -> Select:
    """The rows of a page: each ticket with its finding, inspection and lead unit. A row
    shows the finding's title, not its texts (description, basis, requirement, evidence
    asked for) nor its category: those are left to the finding's own page."""
    finding, inspection, lead = _ROW_FINDING, _ROW_INSPECTION, _ROW_LEAD
    row_finding = contains_eager(Ticket.finding.of_type(finding))
    return (
        statement.join(finding, Ticket.finding).join(inspection, finding.inspection)
        .join(lead, Ticket.lead_unit)
        .options(row_finding.contains_eager(finding.inspection.of_type(inspection)),
                 *(row_finding.defer(text) for text in (finding.description, finding.basis,
                                                        finding.requirement,
                                                        finding.required_evidence)),
                 row_finding.lazyload(finding.category),
                 contains_eager(Ticket.lead_unit.of_type(lead)))
        .add_columns(*deadlines.flag_columns(today, near_days))
    )


#: The columns of a TableTicket at the start of each `_table_rows` row (the flags follow).
_TABLE_WIDTH = len(fields(TableTicket))


def _table_rows(page_ids, today: date, near_days: int) -> Select:
    """The rows of a page as a ticket table shows them (TableTicket, in its field order)."""
    finding, inspection, lead = _ROW_FINDING, _ROW_INSPECTION, _ROW_LEAD
    return (select(Ticket.id, Ticket.status, Ticket.is_declined, Ticket.deadline,
                   Ticket.next_review_on, Ticket.progress_percent, Ticket.submitted_on,
                   Ticket.updated_at, Ticket.lead_unit_id, finding.title, inspection.title,
                   inspection.document_number, lead.name,
                   *deadlines.flag_columns(today, near_days))
            .join(page_ids, page_ids.c.id == Ticket.id)
            .join(finding, finding.id == Ticket.finding_id)
            .join(inspection, inspection.id == finding.inspection_id)
            .join(lead, lead.id == Ticket.lead_unit_id))


def count(user: User, flt: TicketFilter, today: date, near_days: int,
          where: tuple[ColumnElement[bool], ...] = (), cap: int | None = None) -> int:
    """Matching tickets; with `cap`, counted up to `cap + 1` at most (a result above `cap`
    means "more than `cap`"), so that the count costs at most that many index entries."""
    statement = filtered(user, flt, today, near_days, where).with_only_columns(Ticket.id)
    if cap is not None:
        statement = statement.limit(cap + 1)
    return db.session.scalar(select(func.count()).select_from(statement.subquery()))


def counts(user: User, flt: TicketFilter, today: date, near_days: int,
           wheres: dict[str, tuple[ColumnElement[bool], ...]]) -> dict[str, int]:
    """Several counts of the same filter, each narrowed by its own conditions (the tabs of
    the decision queue), in one statement."""
    if not wheres:
        return {}
    columns = [select(func.count()).select_from(
        filtered(user, flt, today, near_days, where).with_only_columns(Ticket.id).subquery())
        .scalar_subquery().label(f"n{i}") for i, where in enumerate(wheres.values())]
    row = db.session.execute(select(*columns)).one()
    return {key: int(row[i] or 0) for i, key in enumerate(wheres)}


def capped_count(user: User, flt: TicketFilter, today: date, near_days: int,
                 where: tuple[ColumnElement[bool], ...] = ()) -> tuple[int, bool]:
    """(count, capped): the count up to COUNT_CAP, and whether more match."""
    n = count(user, flt, today, near_days, where, cap=COUNT_CAP)
    return min(n, COUNT_CAP), n > COUNT_CAP


def _encode_cursor(ticket: Ticket, sort: str, backward: bool = False) -> str:
    key = ticket.deadline.isoformat() if "deadline" in sort else ticket.updated_at.isoformat()
    fields = [sort, key, ticket.id] + (["prev"] if backward else [])
    raw = json.dumps(fields).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str):
    """(value, ticket id, backward) of a cursor made by `_encode_cursor` for this sort."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        fields = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(fields, list) or len(fields) not in (3, 4) \
                or (len(fields) == 4 and fields[3] != "prev"):
            raise ValueError
        cursor_sort, key, ticket_id = fields[:3]
        backward = len(fields) == 4
        if cursor_sort != sort or not isinstance(ticket_id, int) or \
                isinstance(ticket_id, bool) or not 0 < ticket_id < 2**31 or \
                not isinstance(key, str):
            raise ValueError
        value = date.fromisoformat(key) if "deadline" in sort else datetime.fromisoformat(key)
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError  # a forged cursor: the column refuses naive datetimes
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise ValidationFailed("cursor", {"cursor": ["Invalid cursor."]})
    return value, ticket_id, backward


def page(user: User, flt: TicketFilter, today: date, near_days: int, *, page_number: int = 1,
         per_page: int = 50, cursor: str | None = None, with_total: bool = True,
         where: tuple[ColumnElement[bool], ...] = (), table: bool = False) -> TicketPage:
    """One page of tickets: by offset (`page_number`, for shallow pages) or by keyset
    (`cursor`: a page's `next_cursor` or `prev_cursor`, which reads only the rows of the
    page however deep it lies). The total is counted up to COUNT_CAP (`total_capped`).
    `table`: each row's ticket is a TableTicket (a ticket table's columns), not an ORM
    ticket with its finding, inspection and lead unit."""
    if flt.sort not in SORTS:
        raise ValidationFailed("sort", {"sort": ["Unknown sort order."]})
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    # A deferred join: the page's ids are found first, from the order's index and the
    # filters alone (the rows skipped by an offset are never joined); then only the page's
    # own rows are joined with their finding, inspection and lead unit.
    ids = filtered(user, flt, today, near_days, where).with_only_columns(Ticket.id)
    backward = False
    if cursor:
        value, ticket_id, backward = _decode_cursor(cursor, flt.sort)
        column = Ticket.deadline if "deadline" in flt.sort else Ticket.updated_at
        # Forward along a descending order, or backward along an ascending one: smaller keys.
        if flt.sort.startswith("-") != backward:
            ids = ids.where(or_(column < value, and_(column == value, Ticket.id < ticket_id)))
        else:
            ids = ids.where(or_(column > value, and_(column == value, Ticket.id > ticket_id)))
        page_number = 0
    else:
        page_number = max(1, page_number)
        ids = ids.offset((page_number - 1) * per_page)
    order = SORTS[flt.sort]
    if backward:
        order = tuple(o.element.asc() if o.modifier is operators.desc_op else o.element.desc()
                      for o in order)
    page_ids = ids.order_by(*order).limit(per_page + 1).subquery("page_ids")
    if table:
        result = db.session.execute(_table_rows(page_ids, today, near_days)
                                    .order_by(*order)).all()
    else:
        result = db.session.execute(_with_rows(
            select(Ticket).join(page_ids, page_ids.c.id == Ticket.id), today, near_days)
            .order_by(*order)).unique().all()
    more = len(result) > per_page
    result = result[:per_page]
    if backward:
        result.reverse()
    rows = [TicketRow(TableTicket(*r[:_TABLE_WIDTH]) if table else r[0], bool(r.is_overdue),
                      bool(r.is_near_due), r.light) for r in result]
    next_cursor = prev_cursor = None
    if rows and (more or backward):  # backward from a cursor: the cursor's row follows
        next_cursor = _encode_cursor(rows[-1].ticket, flt.sort)
    if rows and (page_number > 1 or (cursor and (more or not backward))):
        prev_cursor = _encode_cursor(rows[0].ticket, flt.sort, backward=True)
    total, capped = (capped_count(user, flt, today, near_days, where) if with_total
                     else (-1, False))
    return TicketPage(rows=rows, total=total, page=page_number, per_page=per_page,
                      next_cursor=next_cursor, prev_cursor=prev_cursor, total_capped=capped)


def load_cooperating(tickets: list[Ticket]) -> dict[int, list[Row]]:
    """Cooperating units of many tickets in one statement: each unit's id and name, read
    as plain columns (all that a row shows of them)."""
    if not tickets:
        return {}
    result: dict[int, list[Row]] = {t.id: [] for t in tickets}
    for row in db.session.execute(
            select(TicketUnit.ticket_id, Unit.id, Unit.name)
            .join(Unit, Unit.id == TicketUnit.unit_id)
            .where(TicketUnit.ticket_id.in_([t.id for t in tickets]))
            .order_by(TicketUnit.ticket_id, Unit.id)):
        result[row.ticket_id].append(row)
    return result


def _rollup_conditions(flt: TicketFilter, today: date) -> list:
    """The filters the roll-up's drill-down links need beyond the list's own."""
    conditions = []
    if flt.lead_unit_id is not None:
        conditions.append(Ticket.lead_unit_id == flt.lead_unit_id)
    if flt.closed_late is not None:
        expr = deadlines.closed_late()
        conditions.append(expr if flt.closed_late else ~expr)
    if flt.planned is not None:
        conditions.append(rollup.in_bucket(today, flt.planned))
    # Aliased, so that the EXISTS correlates only with the ticket even when the caller's
    # statement joins findings and inspections itself (the list's rows, the ledger).
    finding, inspection = aliased(Finding), aliased(Inspection)
    finding_conditions = []
    if flt.severity is not None:
        finding_conditions.append(finding.severity == flt.severity)
    if flt.no_category:
        finding_conditions.append(finding.category_id.is_(None))
    if flt.year is not None:
        finding_conditions.append(select(inspection.id).where(
            inspection.id == finding.inspection_id, inspection.year == flt.year).exists())
    if finding_conditions:
        conditions.append(select(finding.id).where(
            finding.id == Ticket.finding_id, *finding_conditions).exists())
    return conditions


def filter_from_args(args) -> TicketFilter:
    """A TicketFilter from query arguments (a werkzeug MultiDict, or a dict of values or
    lists): status (repeatable), overdue, near_due, unit, lead_unit, inspection, finding,
    category (an id, or "none"), year, severity, closed_late, planned, deadline_from,
    deadline_to, q, declined, sort. Bad values raise ValidationFailed naming the parameter."""
    errors: dict[str, list[str]] = {}

    def values(name):
        if hasattr(args, "getlist"):
            return [v for v in args.getlist(name) if v != ""]
        value = args.get(name)
        if value is None or value == "":
            return []
        return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]

    def one(name):
        found = values(name)
        return found[-1] if found else None

    def integer(name):
        raw = one(name)
        if raw is None:
            return None
        try:
            return int(raw)
        except ValueError:
            errors[name] = [_("Enter a whole number.")]
            return None

    def flag(name):
        raw = one(name)
        if raw is None:
            return None
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        errors[name] = [_("Enter true or false.")]
        return None

    def day(name):
        raw = one(name)
        if raw is None:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = [_("Enter a date as YYYY-MM-DD.")]
            return None

    statuses = []
    for raw in values("status"):
        try:
            statuses.append(TicketStatus(raw))
        except ValueError:
            errors["status"] = [_("Not one of the allowed values.")]
    severity = one("severity")
    if severity is not None and severity not in {s.value for s in Severity}:
        errors["severity"] = [_("Not one of the allowed values.")]
    planned = one("planned")
    if planned is not None and planned not in rollup.BUCKETS:
        errors["planned"] = [_("Not one of the allowed values.")]
    no_category = one("category") == "none"
    category_id = None if no_category else integer("category")
    sort = one("sort") or "deadline"
    if sort not in SORTS:
        errors["sort"] = [_("Unknown sort order.")]
    flt = TicketFilter(
        statuses=tuple(statuses), overdue=flag("overdue"), near_due=flag("near_due"),
        unit_id=integer("unit"), lead_unit_id=integer("lead_unit"),
        inspection_id=integer("inspection"), finding_id=integer("finding"),
        category_id=category_id, no_category=no_category, year=integer("year"),
        severity=severity, closed_late=flag("closed_late"), planned=planned,
        deadline_from=day("deadline_from"), deadline_to=day("deadline_to"),
        q=one("q"), declined=flag("declined"), sort=sort,
    )
    if errors:
        raise ValidationFailed(_("Please correct the fields listed."), errors)
    return flt
