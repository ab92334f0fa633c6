"""The roll-up (汇总): counts of tickets and findings for any scope, grouped any way.

One function, `summarize`, answers the office's question "how far has rectification got?"
for the caller's scope narrowed by unit subtree, unit, inspection, year, category and
severity, grouped by lead unit, region (the child units of a chosen unit), category,
inspection, severity, year or finding. The dashboard, the ledger's second sheet, the Word
report, the summary API and the daily snapshots all call it, so their numbers agree.

Everything is counted in the database with GROUP BY and CASE sums; tickets are never loaded
into Python. Overdue, near-due and late sign-off are the expressions of `deadlines`, scope
is `scoping.ticket_clause`. Counts by unit or region use the lead unit, so that every
ticket is counted exactly once.

Findings roll up from their tickets (in the same scope): a finding is rectified when all
its tickets but the cancelled ones are closed, in progress while any is open, cancelled
when all its tickets are, and unassigned while it has none. Open items are grouped by
their planned completion (计划完成时间, else the deadline): by 31 December this year, by
the cut next year (30 June unless `ROLLUP_NEXT_YEAR_CUT` says "MM-DD"), later, long-term.
"""
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from typing import Callable, Sequence

from flask import current_app
from flask_babel import get_locale, gettext as _
from sqlalchemy import (
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import True_

from tracker.extensions import db
from tracker.models import (
    OPEN_STATUSES,
    Category,
    Finding,
    Inspection,
    Role,
    Severity,
    Ticket,
    TicketStatus,
    TimelineKind,
    Unit,
    UnitClosure,
    User,
)
from tracker.models.base import shared_alias
from tracker.models.snapshot import RollupSnapshot
from tracker.services import deadlines, inspections, scoping
from tracker.services.errors import NotFound, ValidationFailed

S = TicketStatus
GROUPINGS = ("unit", "region", "category", "inspection", "severity", "year", "finding")
#: Planned-completion buckets of open items, in the order the report reads them.
BUCKETS = ("this_year", "by_cut", "later", "long_term")
#: Ticket measures a count can be drilled into (see `drill_params`).
TICKET_MEASURES = ("total", "open", "waiting", "overdue", "near_due", "closed_late") + tuple(
    f"status:{s.value}" for s in TicketStatus) + tuple(f"planned:{b}" for b in BUCKETS)


# --- configuration ----------------------------------------------------------------------

def next_year_cut(today: date) -> date:
    """The second planned-completion cut: 30 June next year unless configured ("MM-DD")."""
    raw = str(current_app.config.get("ROLLUP_NEXT_YEAR_CUT", "06-30"))
    try:
        month, day = (int(part) for part in raw.split("-"))
        return date(today.year + 1, month, day)
    except ValueError:
        current_app.logger.warning("ROLLUP_NEXT_YEAR_CUT=%r is not MM-DD; using 06-30", raw)
        return date(today.year + 1, 6, 30)


def near_days() -> int:
    return int(current_app.config.get("NEAR_DUE_DAYS", 7))


# --- the expressions --------------------------------------------------------------------

def is_long_term() -> ColumnElement[bool]:
    return or_(Ticket.status == S.LONG_TERM, Ticket.timeline == TimelineKind.LONG_TERM)


def planned_on() -> ColumnElement:
    """The date an open ticket is planned to be done: the unit's plan, else the deadline."""
    return func.coalesce(Ticket.planned_completion_on, Ticket.deadline)


def planned_bucket(today: date) -> ColumnElement[str]:
    """The planned-completion bucket of a ticket (meaningful for open tickets)."""
    return case(
        (is_long_term(), "long_term"),
        (planned_on() <= date(today.year, 12, 31), "this_year"),
        (planned_on() <= next_year_cut(today), "by_cut"),
        else_="later",
    )


def in_bucket(today: date, bucket: str) -> ColumnElement[bool]:
    """Open tickets planned in the bucket: the drill-down of a `planned` count."""
    if bucket not in BUCKETS:
        raise ValidationFailed(_("Please correct the fields listed."),
                               {"planned": [_("Not one of the allowed values.")]})
    return and_(deadlines.is_open(), planned_bucket(today) == bucket)


def _n(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows meet the condition: `count(*) FILTER (WHERE …)` where the database
    has it (PostgreSQL; a fifth cheaper there than a sum of CASE), else the sum."""
    if _has_filter():
        return func.count().filter(condition)
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _has_filter() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _ticket_columns(today: date, days: int) -> list[ColumnElement]:
    columns = [func.count(Ticket.id).label("total")]
    columns += [_n(Ticket.status == s).label(f"s_{s.value}") for s in TicketStatus]
    columns += [
        _n(deadlines.overdue(today)).label("overdue"),
        _n(deadlines.near_due(today, days)).label("near_due"),
        _n(deadlines.closed_late()).label("closed_late"),
    ]
    columns += [_n(condition).label(f"p_{b}")
                for b, condition in _bucket_conditions(today).items()]
    return columns


def _bucket_conditions(today: date) -> dict[str, ColumnElement[bool]]:
    """Open tickets in each planned-completion bucket: `in_bucket` written as plain
    comparisons, so that counting all four does not evaluate the bucket's CASE four times
    per ticket (the same tickets: the buckets of `planned_bucket`, in its order)."""
    open_, long_term = deadlines.is_open(), is_long_term()
    dated = and_(open_, ~long_term)
    on = planned_on()
    by_date = _dated_buckets(on, today)
    return {
        "this_year": and_(dated, by_date["this_year"]),
        "by_cut": and_(dated, by_date["by_cut"]),
        "later": and_(dated, or_(by_date["later"], on.is_(None))),
        "long_term": and_(open_, long_term),
    }


def _dated_buckets(on: ColumnElement, today: date) -> dict[str, ColumnElement[bool]]:
    """The dated buckets (this year, by the cut, later) as comparisons of the date `on`."""
    this_year, cut = date(today.year, 12, 31), next_year_cut(today)
    return {"this_year": on <= this_year, "by_cut": and_(on > this_year, on <= cut),
            "later": on > cut}


# --- results ----------------------------------------------------------------------------

#: (key, column) pairs of a counts row, spelled out once: a roll-up by unit reads 50,000
#: rows, and iterating the enum for each cost a second.
_STATUS_COLUMNS = tuple((s.value, f"s_{s.value}") for s in TicketStatus)
_PLANNED_COLUMNS = tuple((b, f"p_{b}") for b in BUCKETS)
_FINDING_PLANNED_COLUMNS = tuple((b, f"fp_{b}") for b in BUCKETS)
#: (FindingCounts field, column) pairs.
_FINDING_COLUMNS = (("found", "found"), ("rectified", "rectified"),
                    ("in_progress", "in_progress"), ("cancelled", "f_cancelled"),
                    ("unassigned", "unassigned"), ("overdue", "f_overdue"),
                    ("near_due", "f_near_due"), ("closed_late", "f_closed_late"))


def _positions(keys) -> dict[str, int]:
    """Column name → position in a result's rows. Counts are read by position: a roll-up
    by 50,000 units reads 100,000 rows of 31 columns, and reading each column by name
    cost it half a second in Python."""
    return {name: index for index, name in enumerate(keys)}


def _rate(done: int, of: int) -> float | None:
    return round(100.0 * done / of, 1) if of else None


@dataclass(slots=True)
class TicketCounts:
    total: int = 0
    by_status: dict[str, int] = field(
        default_factory=lambda: {value: 0 for value, _name in _STATUS_COLUMNS})
    overdue: int = 0
    near_due: int = 0
    closed_late: int = 0
    planned: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))

    @property
    def open(self) -> int:
        return sum(self.by_status[s.value] for s in OPEN_STATUSES)

    @property
    def closed(self) -> int:
        return self.by_status[S.CLOSED.value]

    @property
    def cancelled(self) -> int:
        return self.by_status[S.CANCELLED.value]

    @property
    def waiting(self) -> int:
        """Submitted or verified: waiting for a decision, not the unit's delay."""
        return self.by_status[S.SUBMITTED.value] + self.by_status[S.VERIFIED.value]

    @property
    def completion_rate(self) -> float | None:
        """Closed tickets per hundred not cancelled."""
        return _rate(self.closed, self.total - self.cancelled)

    @property
    def light(self) -> str:
        """A unit's colour is its worst open ticket's."""
        return "red" if self.overdue else "yellow" if self.near_due else "green"

    @classmethod
    def reader(cls, keys) -> Callable[[Sequence], "TicketCounts"]:
        """Reads TicketCounts from rows with these column names by position (see
        `_positions`)."""
        at = _positions(keys)
        total, overdue, near_due, late = (at["total"], at["overdue"], at["near_due"],
                                          at["closed_late"])
        statuses = [(value, at[name]) for value, name in _STATUS_COLUMNS]
        planned = [(b, at[name]) for b, name in _PLANNED_COLUMNS]

        def read(row: Sequence) -> "TicketCounts":
            return cls(total=int(row[total] or 0),
                       by_status={value: int(row[i] or 0) for value, i in statuses},
                       overdue=int(row[overdue] or 0), near_due=int(row[near_due] or 0),
                       closed_late=int(row[late] or 0),
                       planned={b: int(row[i] or 0) for b, i in planned})
        return read

    @classmethod
    def row_adder(cls, keys) -> Callable[["TicketCounts", object, object, Sequence], None]:
        """Adds a row of `_totals_branch` (one status and timeline) to TicketCounts."""
        at = _positions(keys)
        total, overdue, near_due, late, this_year, by_cut = (
            at["total"], at["overdue"], at["near_due"], at["closed_late"],
            at["p_this_year"], at["p_by_cut"])

        def add(counts: "TicketCounts", status, timeline, row: Sequence) -> None:
            status, n = TicketStatus(status), int(row[total] or 0)
            counts.total += n
            counts.by_status[status.value] += n
            counts.closed_late += int(row[late] or 0)
            if status in deadlines.DUE_STATES:
                counts.overdue += int(row[overdue] or 0)
                counts.near_due += int(row[near_due] or 0)
            if status not in OPEN_STATUSES:
                return
            if status == S.LONG_TERM or timeline == TimelineKind.LONG_TERM:
                counts.planned["long_term"] += n
                return
            by_this_year, by_the_cut = int(row[this_year] or 0), int(row[by_cut] or 0)
            counts.planned["this_year"] += by_this_year
            counts.planned["by_cut"] += by_the_cut - by_this_year
            counts.planned["later"] += n - by_the_cut
        return add

    def as_dict(self) -> dict:
        return {"total": self.total, "by_status": dict(self.by_status), "open": self.open,
                "closed": self.closed, "waiting": self.waiting, "overdue": self.overdue,
                "near_due": self.near_due, "closed_late": self.closed_late,
                "completion_rate": self.completion_rate,
                "planned": dict(self.planned)}


@dataclass(slots=True)
class FindingCounts:
    found: int = 0
    rectified: int = 0
    in_progress: int = 0
    cancelled: int = 0
    unassigned: int = 0
    overdue: int = 0
    near_due: int = 0
    closed_late: int = 0
    planned: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))

    @property
    def completion_rate(self) -> float | None:
        return _rate(self.rectified, self.found - self.cancelled)

    @classmethod
    def reader(cls, keys) -> Callable[[Sequence], "FindingCounts"]:
        """Reads FindingCounts from rows with these column names by position."""
        at = _positions(keys)
        fields = [(name, at[column]) for name, column in _FINDING_COLUMNS]
        planned = [(b, at[name]) for b, name in _FINDING_PLANNED_COLUMNS]

        def read(row: Sequence) -> "FindingCounts":
            return cls(**{name: int(row[i] or 0) for name, i in fields},
                       planned={b: int(row[i] or 0) for b, i in planned})
        return read

    def as_dict(self) -> dict:
        return {"found": self.found, "rectified": self.rectified,
                "in_progress": self.in_progress, "cancelled": self.cancelled,
                "unassigned": self.unassigned, "overdue": self.overdue,
                "near_due": self.near_due, "closed_late": self.closed_late,
                "completion_rate": self.completion_rate, "planned": dict(self.planned)}


@dataclass(slots=True)
class Group:
    #: The grouping value: a unit, category, inspection or finding id, a severity, a year;
    #: None for findings without a category.
    key: int | str | None
    label: str
    tickets: TicketCounts
    findings: FindingCounts
    #: region grouping: the chosen unit's own tickets (本级), not a child's subtree.
    is_own_level: bool = False

    @property
    def light(self) -> str:
        return self.tickets.light


@dataclass(frozen=True)
class Scope:
    """What to count, inside the caller's own scope (which is always applied)."""

    unit_id: int | None = None  # that unit's subtree, by lead unit
    lead_unit_id: int | None = None  # exactly that lead unit
    inspection_id: int | None = None
    year: int | None = None
    category_id: int | None = None
    severity: Severity | None = None
    #: group_by="region": the unit whose children are the regions (default: the scope's).
    region_of: int | None = None


@dataclass
class Summary:
    scope: Scope
    group_by: str | None
    today: date
    cut: date
    tickets: TicketCounts
    findings: FindingCounts
    groups: list[Group]
    #: group_by="region": the unit whose children were grouped (None: the roots).
    region_of: int | None = None


# --- scope ------------------------------------------------------------------------------

def check_scope(user: User, scope: Scope) -> Scope:
    """Every id named in the scope must be visible to the user (404 otherwise, as if it did
    not exist); the category must exist."""
    for unit_id in (scope.unit_id, scope.lead_unit_id, scope.region_of):
        if unit_id is not None:
            scoping.get_unit(user, unit_id)
    if scope.inspection_id is not None:
        scoping.get_inspection(user, scope.inspection_id)
    if scope.category_id is not None and db.session.get(Category, scope.category_id) is None:
        raise NotFound(_("Category not found."))
    return scope


def _ticket_conditions(user: User, scope: Scope) -> list[ColumnElement[bool]]:
    conditions = [scoping.ticket_clause(user)]
    if scope.unit_id is not None:
        conditions.append(scoping.in_subtree(Ticket.lead_unit_id, scope.unit_id))
    if scope.lead_unit_id is not None:
        conditions.append(Ticket.lead_unit_id == scope.lead_unit_id)
    return conditions + _finding_conditions(scope)


def _finding_conditions(scope: Scope, inspection=Inspection) -> list[ColumnElement[bool]]:
    conditions = []
    if scope.inspection_id is not None:
        conditions.append(Finding.inspection_id == scope.inspection_id)
    if scope.year is not None:
        conditions.append(inspection.year == scope.year)
    if scope.category_id is not None:
        conditions.append(Finding.category_id == scope.category_id)
    if scope.severity is not None:
        conditions.append(Finding.severity == scope.severity)
    return conditions


def default_region(user: User, scope: Scope) -> int | None:
    """Whose children the regions are: the one asked for, the narrowed unit, the user's
    scope unit; None (the roots of the tree) for an administrator and a unit user."""
    if scope.region_of is not None:
        return scope.region_of
    if scope.unit_id is not None:
        return scope.unit_id
    if user.role in (Role.OFFICE, Role.SUPERVISOR):
        return user.scope_unit_id
    # A unit user's tickets may be led anywhere (cooperation); an administrator sees all.
    return None


# --- the query --------------------------------------------------------------------------

_REGION_CLOSURE = shared_alias(UnitClosure, name="region_closure")
_REGION_UNIT = shared_alias(Unit, name="region_unit")
_FINDING_INSPECTION = shared_alias(Inspection, name="finding_inspection")


def _group_key(group_by: str | None) -> ColumnElement | None:
    return {
        None: None,
        "unit": Ticket.lead_unit_id,
        "region": _REGION_CLOSURE.ancestor_id,
        "category": Finding.category_id,
        "inspection": Finding.inspection_id,
        "severity": Finding.severity,
        "year": Inspection.year,
        "finding": Ticket.finding_id,
    }[group_by]


def _needs_finding(scope: Scope, group_by: str | None) -> bool:
    """Whether the tickets' statement must join their findings and inspections: only to
    group or narrow by them (the join costs more than the counting itself)."""
    return group_by in ("category", "inspection", "severity", "year") or any(
        value is not None for value in (scope.inspection_id, scope.year, scope.category_id,
                                        scope.severity))


def _from_tickets(statement, group_by: str | None, region_of: int | None, scope: Scope):
    statement = statement.select_from(Ticket)
    if _needs_finding(scope, group_by):
        statement = (statement.join(Finding, Finding.id == Ticket.finding_id)
                     .join(Inspection, Inspection.id == Finding.inspection_id))
    if group_by == "region":
        # Each lead unit has exactly one ancestor among the region's children, or is the
        # region unit itself (its own level): one closure row per ticket.
        is_child = (_REGION_UNIT.parent_id.is_(None) if region_of is None
                    else _REGION_UNIT.parent_id == region_of)
        own_level = (literal(False) if region_of is None
                     else and_(_REGION_CLOSURE.ancestor_id == region_of,
                               _REGION_CLOSURE.depth == 0))
        statement = (statement
                     .join(_REGION_CLOSURE, _REGION_CLOSURE.descendant_id == Ticket.lead_unit_id)
                     .join(_REGION_UNIT, _REGION_UNIT.id == _REGION_CLOSURE.ancestor_id)
                     .where(or_(is_child, own_level)))
    return statement


#: Column names of a ticket branch and of a finding branch of the one roll-up statement.
_TICKET_NAMES = (["total"] + [f"s_{s.value}" for s in TicketStatus]
                 + ["overdue", "near_due", "closed_late"] + [f"p_{b}" for b in BUCKETS])
_FINDING_NAMES = (["found", "rectified", "in_progress", "f_cancelled", "unassigned",
                   "f_overdue", "f_near_due", "f_closed_late"] + [f"fp_{b}" for b in BUCKETS])


def _zeros(names) -> list[ColumnElement]:
    return [literal_column("0").label(name) for name in names]


def _key_columns(key: ColumnElement | None, group_by: str | None) -> list[ColumnElement]:
    """Every branch carries its key in one of two columns: `ki` (ids, years) or `ks`
    (severities), so that the branches line up whatever the key's type; `kt` is the
    timeline of the totals' rows (`_totals_branch`)."""
    if key is None:
        return [null().label("ki"), null().label("ks"), null().label("kt")]
    if group_by == "severity":
        return [null().label("ki"), key.label("ks"), null().label("kt")]
    return [key.label("ki"), null().label("ks"), null().label("kt")]


def _totals_branch(tag: int, user, scope, today, days):
    """The ticket totals of a scope as one row per status and timeline (a dozen rows),
    read by `TicketCounts.row_adder`: the row's status says which state, open or due state
    it counts in, so that only what depends on the dates is counted here. Eight counts by
    status and four by planned bucket, each a condition tested on every ticket, took the
    totals of a million tickets 0.36 s; these take 0.18 s.

    `overdue` and `near_due` count the row's tickets whose due date is past or near and
    `p_this_year` and `p_by_cut` those planned by each cut, whatever their state;
    `TicketCounts.row_adder` keeps them for the states `deadlines.overdue`,
    `deadlines.near_due` and `_bucket_conditions` count them in."""
    due, on = deadlines.due_date(), planned_on()
    counts = {
        "total": func.count(Ticket.id),
        "overdue": _n(due < today),
        "near_due": _n(due.between(today, today + timedelta(days=days))),
        "closed_late": _n(deadlines.closed_late()),
        "p_this_year": _n(on <= date(today.year, 12, 31)),
        "p_by_cut": _n(on <= next_year_cut(today)),
    }
    statement = select(literal_column(str(tag)).label("tag"), null().label("ki"),
                       Ticket.status.label("ks"), Ticket.timeline.label("kt"),
                       *(counts.get(name, literal_column("0")).label(name)
                         for name in _TICKET_NAMES), *_zeros(_FINDING_NAMES))
    statement = _from_tickets(statement, None, None, scope).where(
        *_ticket_conditions(user, scope))
    return statement.group_by(Ticket.status, Ticket.timeline)


def _ticket_branch(tag: int, user, scope, group_by, region_of, today, days):
    key = _group_key(group_by)
    if key is None:
        return _totals_branch(tag, user, scope, today, days)
    statement = select(literal_column(str(tag)).label("tag"), *_key_columns(key, group_by),
                       *_ticket_columns(today, days), *_zeros(_FINDING_NAMES))
    statement = _from_tickets(statement, group_by, region_of, scope).where(
        *_ticket_conditions(user, scope))
    if key is not None:
        statement = statement.group_by(key)
    return statement


def _finding_state(today: date, days: int) -> ColumnElement[int]:
    """A ticket's part in the state of its finding, which is the highest of its tickets':
    5 one is overdue, 4 none is but one is near-due, 3 one is still open, 2 all are closed
    or cancelled and one closed late, 1 all closed or cancelled, at least one closed,
    0 all cancelled. One MAX per finding in place of six counts.

    The rules are those of `deadlines` (overdue, near-due, closed late), tested in the
    order that decides a ticket with the fewest comparisons: closed and cancelled first
    (most tickets), then the waiting states; a ticket in none of these is in a due state
    (a test holds this partition), so only its date is left to compare."""
    due = deadlines.due_date()
    return case(
        (Ticket.status == S.CLOSED,
         case((Ticket.submitted_on > Ticket.deadline_at_submission, 2), else_=1)),
        (Ticket.status == S.CANCELLED, 0),
        (Ticket.status.in_(deadlines.WAITING_STATES), 3),
        (due < today, 5),
        (due <= today + timedelta(days=days), 4),
        else_=3,
    )


def _finding_branch(tag: int, user, scope, group_by, region_of, today, days):
    """Per finding (and per unit or region for those groupings) first, then per group."""
    by_ticket_key = group_by in ("unit", "region")
    key = _group_key(group_by)
    # The latest planned date of the open tickets that are not long-term (the same tickets
    # as `and_(deadlines.is_open(), ~is_long_term())`, in fewer comparisons).
    undated = or_(Ticket.status.in_((S.CLOSED, S.CANCELLED, S.LONG_TERM)),
                  Ticket.timeline == TimelineKind.LONG_TERM)
    per_finding = select(
        Ticket.finding_id.label("finding_id"),
        *([key.label("tkey")] if by_ticket_key else []),
        func.max(_finding_state(today, days)).label("state"),
        func.max(case((undated, null()), else_=planned_on())).label("plan"),
    )
    per_finding = _from_tickets(per_finding, group_by if by_ticket_key else None, region_of,
                                scope)
    per_finding = per_finding.where(*_ticket_conditions(user, scope)).group_by(
        Ticket.finding_id, *([key] if by_ticket_key else [])).subquery(f"per_finding_{tag}")
    pf = per_finding.c
    in_progress = pf.state >= 3  # an open ticket
    # The bucket of the latest plan (no plan: long-term), as comparisons of the date.
    plan_in = {**_dated_buckets(pf.plan, today), "long_term": pf.plan.is_(None)}
    columns = [
        func.count(Finding.id).label("found"),
        _n(pf.state.between(1, 2)).label("rectified"),
        _n(in_progress).label("in_progress"),
        _n(pf.state == 0).label("f_cancelled"),
        _n(pf.state.is_(None)).label("unassigned"),
        _n(pf.state == 5).label("f_overdue"),
        _n(pf.state == 4).label("f_near_due"),
        _n(pf.state == 2).label("f_closed_late"),
    ] + [_n(and_(in_progress, plan_in[b])).label(f"fp_{b}") for b in BUCKETS]
    outer_key = pf.tkey if by_ticket_key else {
        "year": _FINDING_INSPECTION.year, "finding": Finding.id}.get(group_by, key)
    statement = select(literal_column(str(tag)).label("tag"),
                       *_key_columns(outer_key, group_by), *_zeros(_TICKET_NAMES), *columns)
    # Findings without any ticket in scope count as unassigned only when no ticket-side
    # narrowing (a unit, a region) says which tickets matter.
    narrowed = by_ticket_key or scope.unit_id is not None or scope.lead_unit_id is not None
    # The inspection is aliased: the scoping clause's own EXISTS over inspections must not
    # correlate with it.
    visible = scoping.finding_clause(user)
    if isinstance(visible, True_) and not _finding_conditions(scope) \
            and (by_ticket_key or outer_key is None):
        # Every finding is visible and nothing groups by the findings' own columns: the
        # findings table adds only the findings without tickets, which count (as
        # unassigned) only when nothing narrows the tickets. So it is not joined; when they
        # count, one count of the findings gives them. (Joining it for the whole
        # organisation made PostgreSQL group every ticket again in each parallel process:
        # 1.25 s → 0.87 s at a million tickets.)
        apart = {"found": func.count().label("found")}
        if not narrowed:
            # Counted once: as a plain scalar subquery, named twice, PostgreSQL counted
            # the findings twice (20 ms each at 285,740 findings).
            counted = select(func.count(Finding.id).label("n")).cte(f"findings_{tag}")
            every = select(counted.c.n).scalar_subquery()
            apart = {"found": every.label("found"),
                     "unassigned": (every - func.count()).label("unassigned")}
        statement = select(literal_column(str(tag)).label("tag"),
                           *_key_columns(outer_key, group_by), *_zeros(_TICKET_NAMES),
                           *(apart.get(column.name, column) for column in columns)
                           ).select_from(per_finding)
        return statement if outer_key is None else statement.group_by(outer_key)
    statement = statement.select_from(Finding)
    if group_by == "year" or scope.year is not None:
        statement = statement.join(_FINDING_INSPECTION,
                                   _FINDING_INSPECTION.id == Finding.inspection_id)
    statement = (statement.join(per_finding, pf.finding_id == Finding.id, isouter=not narrowed)
                 .where(visible,
                        *_finding_conditions(scope, _FINDING_INSPECTION)))
    if outer_key is not None:
        statement = statement.group_by(outer_key)
    return statement


#: Groupings whose groups partition the scope's tickets and findings alike: their sums are
#: the totals, so the totals need no statement of their own.
_PARTITIONS = ("category", "inspection", "severity", "year", "finding")


#: Groupings whose finding groups are a subset of their ticket groups (both are keyed by
#: the tickets' lead unit): their two sides are joined into one row per group.
_JOINED = ("unit", "region")


def _joined(ticket_branch, finding_branch):
    """One row per group with both sides: the finding side's groups all have tickets, so
    a LEFT JOIN on the key loses nothing. A roll-up by 50,000 units then reads 50,000
    rows rather than 100,000 (half the driver's memory, half the rows to read)."""
    t, f = ticket_branch.subquery("ticket_side"), finding_branch.subquery("finding_side")
    return (select(t.c.tag, t.c.ki, t.c.ks, t.c.kt, *(t.c[name] for name in _TICKET_NAMES),
                   *(f.c[name] for name in _FINDING_NAMES))
            .select_from(t.outerjoin(f, f.c.ki == t.c.ki)))


def _count_all(user, parts: list[tuple[Scope, str | None, int | None]], today, days
               ) -> list[tuple[dict, dict]]:
    """Ticket and finding counts of every (scope, grouping, region) part in ONE statement:
    a UNION ALL of the grouped selects (GROUPING SETS would not cover the finding side,
    and SQLite and MariaDB lack it). Returns, per part, {key: TicketCounts} and
    {key: FindingCounts}."""
    branches = []
    for index, (scope, group_by, region_of) in enumerate(parts):
        tickets = _ticket_branch(2 * index, user, scope, group_by, region_of, today, days)
        findings = _finding_branch(2 * index + 1, user, scope, group_by, region_of, today,
                                   days)
        branches += [_joined(tickets, findings)] if group_by in _JOINED else [tickets,
                                                                               findings]
    results: list[tuple[dict, dict]] = [({}, {}) for _ in parts]
    statement = branches[0] if len(branches) == 1 else union_all(*branches)
    result = db.session.execute(statement)
    keys = list(result.keys())
    at = _positions(keys)
    tag, ki, ks, kt = at["tag"], at["ki"], at["ks"], at["kt"]
    read_tickets, read_findings = TicketCounts.reader(keys), FindingCounts.reader(keys)
    add_totals = TicketCounts.row_adder(keys)
    for batch in result.partitions(1000):  # fetchmany: one driver call per 1,000 rows
        for row in batch:
            index, side = divmod(int(row[tag]), 2)
            group_by = parts[index][1]
            if group_by is None and side == 0:  # a row of `_totals_branch`
                add_totals(results[index][0].setdefault(None, TicketCounts()), row[ks],
                           row[kt], row)
                continue
            key = row[ks] if row[ks] is not None else row[ki]
            if key is not None and group_by != "severity":
                key = int(key)
            if group_by in _JOINED:
                results[index][0][key] = read_tickets(row)
                results[index][1][key] = read_findings(row)
            else:
                results[index][side][key] = (read_findings if side else read_tickets)(row)
    return results


def _add(counts: list):
    """The sum of several TicketCounts or FindingCounts."""
    total = type(counts[0])() if counts else None
    names = [f.name for f in fields(total)] if counts else []
    for c in counts:
        for name in names:
            value = getattr(c, name)
            if isinstance(value, dict):
                for k, v in value.items():
                    getattr(total, name)[k] += v
            else:
                setattr(total, name, getattr(total, name) + value)
    return total


_LABELLED = ("unit", "region", "category", "inspection", "finding")
#: Keys named in an IN list at most; more are looked up another way (see `_lookup`).
_MAX_LISTED = 500


def _lookup(wanted: dict[str, list]) -> dict[str, dict]:
    """Labels and sort keys of the groups of several groupings in one statement:
    {grouping: {key: (label, sort key)}}."""
    kinds = {"unit": 0, "category": 1, "inspection": 2, "finding": 3}
    ids: dict[str, set] = {}
    for group_by, keys in wanted.items():
        kind = "unit" if group_by == "region" else group_by
        if kind in kinds:
            ids.setdefault(kind, set()).update(k for k in keys if k is not None)
    def branch(kind: int, id_, label, code, n1, n2):
        return select(literal_column(str(kind)).label("kind"), id_.label("id"),
                      label.label("label"), code.label("code"), n1.label("n1"),
                      n2.label("n2"))

    empty, zero = literal_column("''"), literal_column("0")
    branches = []
    if ids.get("unit"):
        # Thousands of lead units (a province grouped by unit) would be thousands of bound
        # parameters: past a few hundred, every unit's row is cheaper to read.
        units = ids["unit"]
        branches.append(branch(0, Unit.id, Unit.name, Unit.code, zero, zero).where(
            Unit.id.in_(sorted(units)) if len(units) <= _MAX_LISTED else true()))
    if ids.get("category"):
        branches.append(branch(1, Category.id, Category.name, empty, Category.sort_order,
                               zero).where(Category.id.in_(sorted(ids["category"]))))
    if ids.get("inspection"):
        listed = ids["inspection"]
        branches.append(branch(2, Inspection.id, Inspection.title, empty, zero, zero).where(
            Inspection.id.in_(sorted(listed)) if len(listed) <= _MAX_LISTED else true()))
    if ids.get("finding"):
        listed = ids["finding"]
        branches.append(branch(3, Finding.id, Finding.title, empty, Finding.inspection_id,
                               Finding.number).where(
            Finding.id.in_(sorted(listed)) if len(listed) <= _MAX_LISTED else true()))
    found: dict[int, dict] = {i: {} for i in range(4)}
    if branches:
        statement = branches[0] if len(branches) == 1 else union_all(*branches)
        for row in db.session.execute(statement):
            found[int(row[0])][row[1]] = tuple(row[2:])
    out = {}
    for group_by, keys in wanted.items():
        kind = "unit" if group_by == "region" else group_by
        out[group_by] = found.get(kinds.get(kind, -1), {})
    return out


def _labels_and_order(group_by: str, keys: list, found: dict) -> tuple[list, dict]:
    """The keys in reading order and their labels, from `_lookup`'s rows (or without
    them: then the keys in their natural order and labelled by themselves)."""
    if group_by in ("unit", "region"):
        ordered = sorted(keys, key=lambda k: (found.get(k, ("", ""))[1] or "", k))
        return ordered, {k: v[0] for k, v in found.items()}
    if group_by == "category":
        ordered = sorted(keys, key=lambda k: (k is None, found.get(k, ("", "", 0))[2] or 0,
                                              k or 0))
        return ordered, {k: v[0] for k, v in found.items()}
    if group_by == "inspection":
        return sorted(keys, key=lambda k: (k is None, k or 0)), {
            k: v[0] for k, v in found.items()}
    if group_by == "finding":
        ordered = sorted(keys, key=lambda k: (tuple(found[k][2:4]) if k in found else (0, 0),
                                              k))
        return ordered, {k: f"{v[3]}. {v[0]}" for k, v in found.items()}
    ids = [k for k in keys if k is not None]
    if group_by == "severity":
        rank = {s.value: i for i, s in enumerate(Severity)}
        return sorted(keys, key=lambda k: rank.get(str(k), 99)), {
            k: severity_label(k) for k in ids}
    if group_by == "year":
        return sorted(keys, reverse=True), {k: str(k) for k in ids}
    return sorted(keys, key=lambda k: (k is None, k)), {k: str(k) for k in ids}


def summarize_many(user: User, scope: Scope, today: date, group_bys, *,
                   days: int | None = None, labels: bool = True) -> dict:
    """`summarize` for several groupings of the same scope at once, {group_by: Summary}:
    every count in one statement, every label in one more (none with `labels=False`:
    groups are then labelled by their key and in key order, for callers that name them
    from rows of their own). The numbers are those `summarize` gives for each."""
    group_bys = list(dict.fromkeys(group_bys))
    for group_by in group_bys:
        if group_by not in (None, *GROUPINGS):
            raise ValidationFailed(_("Please correct the fields listed."),
                                   {"group_by": [_("Not one of the allowed values.")]})
    check_scope(user, scope)
    days = near_days() if days is None else days
    # Each grouping's scope: regions partition the region unit's subtree, so their totals
    # are that subtree's (then equal to the sum of the groups).
    scopes: dict = {}
    for group_by in group_bys:
        region_of = default_region(user, scope) if group_by == "region" else None
        own = scope
        if region_of is not None:
            if scope.unit_id is not None and region_of != scope.unit_id and db.session.get(
                    UnitClosure, (scope.unit_id, region_of)) is None:
                raise ValidationFailed(_("Please correct the fields listed."), {
                    "region": [_("Choose a unit inside the chosen unit's subtree.")]})
            own = replace(scope, unit_id=region_of, region_of=region_of)
        scopes[group_by] = (own, region_of)
    # The parts counted: each grouping, and the totals of each distinct scope unless a
    # partitioning grouping of that scope gives them.
    parts: list[tuple[Scope, str | None, int | None]] = []
    for group_by, (own, region_of) in scopes.items():
        if group_by is not None:
            parts.append((own, group_by, region_of))
    totals_from: dict[Scope, int] = {}
    for index, (own, group_by, _region) in enumerate(parts):
        if group_by in _PARTITIONS and own not in totals_from:
            totals_from[own] = index
    for own, _region in scopes.values():
        if own not in totals_from:
            totals_from[own] = len(parts)
            parts.append((own, None, None))
    counted = _count_all(user, parts, today, days)

    def totals(own: Scope) -> tuple[TicketCounts, FindingCounts]:
        index = totals_from[own]
        by_ticket, by_finding = counted[index]
        if parts[index][1] is None:
            return (by_ticket.get(None, TicketCounts()), by_finding.get(None, FindingCounts()))
        return (_add(list(by_ticket.values())) if by_ticket else TicketCounts(),
                _add(list(by_finding.values())) if by_finding else FindingCounts())

    keys_of: dict = {}
    for index, (own, group_by, _region) in enumerate(parts):
        if group_by is not None:
            by_ticket, by_finding = counted[index]
            keys_of[group_by] = (index, list(set(by_ticket) | set(by_finding)))
    found = _lookup({g: keys for g, (_i, keys) in keys_of.items() if g in _LABELLED}) \
        if labels else {}
    cut = next_year_cut(today)
    summaries = {}
    for group_by, (own, region_of) in scopes.items():
        tickets, findings = totals(own)
        groups: list[Group] = []
        if group_by is not None:
            index, keys = keys_of[group_by]
            by_ticket, by_finding = counted[index]
            if labels or group_by in ("severity", "year"):
                ordered, names = _labels_and_order(group_by, keys, found.get(group_by, {}))
            else:
                ordered = sorted(keys, key=lambda k: (k is None, k or 0))
                names = {k: str(k) for k in keys if k is not None}
            for key in ordered:
                label = names.get(key) if key is not None else _("Uncategorised")
                groups.append(Group(key=key, label=label or str(key),
                                    tickets=by_ticket.get(key) or TicketCounts(),
                                    findings=by_finding.get(key) or FindingCounts(),
                                    is_own_level=group_by == "region" and key == region_of))
        summaries[group_by] = Summary(scope=own, group_by=group_by, today=today, cut=cut,
                                      tickets=tickets, findings=findings, groups=groups,
                                      region_of=region_of)
    return summaries


def summarize(user: User, scope: Scope, today: date, *, group_by: str | None = None,
              days: int | None = None) -> Summary:
    """The counts of the user's scope narrowed by `scope`, with groups when asked.

    Costs a fixed number of statements whatever the number of tickets: one for every
    count (a UNION ALL), one for the groups' labels."""
    return summarize_many(user, scope, today, [group_by], days=days)[group_by]


# --- drilling down to the ticket list ---------------------------------------------------

def drill_params(scope: Scope, measure: str = "total", *, group_by: str | None = None,
                 key=None, region_of: int | None = None) -> dict[str, object]:
    """Query parameters of the ticket list (/tickets) that select exactly the tickets
    behind one count: the scope, the group and the measure."""
    return {**group_params(scope, group_by=group_by, key=key, region_of=region_of),
            **measure_params(measure)}


def group_params(scope: Scope, *, group_by: str | None = None, key=None,
                 region_of: int | None = None) -> dict[str, object]:
    """The part of `drill_params` naming the scope and the group: the same for every
    measure of a row of counts, and never sharing a name with `measure_params`'s."""
    params: dict[str, object] = {}
    if scope.unit_id is not None:
        params["unit"] = scope.unit_id
    if scope.lead_unit_id is not None:
        params["lead_unit"] = scope.lead_unit_id
    if scope.inspection_id is not None:
        params["inspection"] = scope.inspection_id
    if scope.year is not None:
        params["year"] = scope.year
    if scope.category_id is not None:
        params["category"] = scope.category_id
    if scope.severity is not None:
        params["severity"] = Severity(scope.severity).value
    if group_by == "unit":
        params["lead_unit"] = key
    elif group_by == "region":
        if key == region_of:
            params["lead_unit"] = key
        else:
            params["unit"] = key
    elif group_by == "category":
        if key is None:
            params["category"] = "none"
        else:
            params["category"] = key
    elif group_by in ("inspection", "year", "finding"):
        params[group_by] = key
    elif group_by == "severity":
        params["severity"] = key
    return params


def measure_params(measure: str) -> dict[str, object]:
    """The part of `drill_params` naming the measure (nothing for "total")."""
    if measure not in TICKET_MEASURES:
        raise ValueError(f"unknown measure {measure!r}")
    if measure == "open":
        return {"status": [s.value for s in TicketStatus if s in OPEN_STATUSES]}
    if measure == "waiting":
        return {"status": [s.value for s in deadlines.WAITING_STATES]}
    if measure.startswith("status:"):
        return {"status": measure.split(":", 1)[1]}
    if measure.startswith("planned:"):
        return {"planned": measure.split(":", 1)[1]}
    if measure in ("overdue", "near_due", "closed_late"):
        return {measure: 1}
    return {}


# --- snapshots --------------------------------------------------------------------------

def snapshot_units() -> list[int]:
    """The units whose subtree is someone's scope: offices', supervisors', and the roots."""
    scoped = select(User.scope_unit_id).where(
        User.role.in_((Role.OFFICE, Role.SUPERVISOR)), User.is_active_user.is_(True),
        User.scope_unit_id.is_not(None))
    roots = select(Unit.id).where(Unit.parent_id.is_(None))
    return sorted(set(db.session.scalars(scoped)) | set(db.session.scalars(roots)))


def take_snapshot(today: date) -> int:
    """Record today's counts for every scope unit (safe to repeat: today's rows are
    replaced). One grouped statement for all units. Returns the number of rows written.
    The caller commits."""
    unit_ids = snapshot_units()
    db.session.execute(delete(RollupSnapshot).where(RollupSnapshot.taken_on == today))
    if not unit_ids:
        return 0
    days = near_days()
    scope_closure = aliased(UnitClosure, name="scope_closure")
    statement = (
        select(scope_closure.ancestor_id.label("unit_id"), *_ticket_columns(today, days))
        .select_from(Ticket)
        .join(scope_closure, scope_closure.descendant_id == Ticket.lead_unit_id)
        .where(scope_closure.ancestor_id.in_(unit_ids))
        .group_by(scope_closure.ancestor_id)
    )
    result = db.session.execute(statement)
    read = TicketCounts.reader(list(result.keys()))
    counted = {row[0]: read(row) for row in result}
    rows = []
    for unit_id in unit_ids:
        counts = counted.get(unit_id, TicketCounts())
        rows.append({
            "taken_on": today, "unit_id": unit_id, "total": counts.total,
            "open": counts.open, "closed": counts.closed, "cancelled": counts.cancelled,
            "overdue": counts.overdue, "near_due": counts.near_due,
            "closed_late": counts.closed_late, "waiting": (
                counts.by_status[S.SUBMITTED.value] + counts.by_status[S.VERIFIED.value]),
            "long_term": counts.by_status[S.LONG_TERM.value],
        })
    db.session.execute(insert(RollupSnapshot), rows)
    return len(rows)


def trend(unit_id: int, since: date) -> list[RollupSnapshot]:
    return list(db.session.scalars(
        select(RollupSnapshot).where(RollupSnapshot.unit_id == unit_id,
                                     RollupSnapshot.taken_on >= since)
        .order_by(RollupSnapshot.taken_on)))


# --- labels -----------------------------------------------------------------------------

def severity_label(value) -> str:
    """The severity's label; a value that is no severity shows as it is."""
    label = inspections.SEVERITY_LABELS.get(str(value))
    return str(value) if label is None else str(label)


def cut_phrase(cut: date) -> str:
    """How the second cut reads in a sentence: "6月底" for a month's last day."""
    if (cut + timedelta(days=1)).day == 1:
        return _("the end of month %(month)s", month=cut.month)
    return _("%(month)s/%(day)s", month=cut.month, day=cut.day)


def findings_sentence(findings: FindingCounts, cut: date) -> str:
    """The seeds' sentence: 反馈问题N个，已整改完成X个，计划年底前完成Y个，计划明年…完成Z个;
    long-term and later items, when there are any, in a second clause."""
    text = _("%(found)s problems were fed back: %(rectified)s rectified, %(this_year)s "
             "planned to be completed by the end of this year, %(by_cut)s planned to be "
             "completed by %(cut)s next year",
             found=findings.found, rectified=findings.rectified,
             this_year=findings.planned["this_year"], by_cut=findings.planned["by_cut"],
             cut=cut_phrase(cut))
    extra = []
    if findings.planned["later"]:
        extra.append(_("%(n)s planned later", n=findings.planned["later"]))
    if findings.planned["long_term"]:
        extra.append(_("%(n)s to be upheld long-term", n=findings.planned["long_term"]))
    if findings.unassigned:
        extra.append(_("%(n)s not yet assigned", n=findings.unassigned))
    if findings.cancelled:
        extra.append(_("%(n)s cancelled", n=findings.cancelled))
    if not extra:
        return _("%(main)s.", main=text)
    separator = "、" if str(get_locale() or "zh").startswith("zh") else ", "
    return _("%(main)s; besides, %(extra)s.", main=text, extra=separator.join(extra))


def bucket_label(bucket: str, cut: date) -> str:
    return {
        "this_year": _("by 31 December"),
        "by_cut": _("by %(month)s/%(day)s next year", month=cut.month, day=cut.day),
        "later": _("later"),
        "long_term": _("Long-term"),
    }[bucket]
