"""The office dashboard's figures, kept for scopes too large to count on every view.

Counting a province's million tickets four ways (the dashboard's tables) takes seconds
(docs/performance.md), so when a live count of the viewer's scope takes at least
`DASHBOARD_KEEP_SECONDS`, its figures are kept (`DashboardFigures`), stamped with the
newest audit event: every change that can move a figure (a ticket's action, a finding, a
unit, a category) writes one. A later view of the same scope, filters and day is answered
from them:
- nothing changed since (same stamp): the numbers a live count would give;
- something changed, and counting took less than `DASHBOARD_WAIT_SECONDS`: counted again
  now, while the user waits;
- something changed, and counting takes longer: the kept figures, marked with the time
  they were counted, while the scheduler counts again (`refresh`, as the user who last
  read them);
- kept longer than `DASHBOARD_RECOUNT_MINUTES`: counted again by the scheduler whatever
  the stamp says (an audit event numbered before the stamp may commit after it).
Smaller scopes, unit users and "count now" (`fresh=True`) always count live. Only the
dashboard (its page, its print view and its charts) reads kept figures: the exports, the
Word report and the summary API always count live.
"""
import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, literal, select
from sqlalchemy.exc import IntegrityError

from tracker.extensions import db
from tracker.models import AuditEvent, DashboardFigures, Role, Severity, User
from tracker.services import clock, rollup, scoping

log = logging.getLogger(__name__)

#: The groupings the office dashboard shows, in order.
TABLES = ("region", "unit", "category", "inspection")
#: Rows of the unit ranking and of the inspection table: a province has thousands of each,
#: and a page of thousands of rows helps no one (the ledger's roll-up sheet and
#: GET /api/v1/summary list every one). The tables' totals still count everything.
TABLE_ROWS = 20
#: Rows of the region table: a county's regions are its schools, hundreds of them; past
#: this many, the table shows those with the most overdue tickets first.
REGION_ROWS = 50
#: Kept figures nobody has read for this long are no longer counted again, then dropped.
READ_WITHIN = timedelta(days=1)
DROP_AFTER = timedelta(days=7)


@dataclass
class Figures:
    """What the dashboard shows: a summary per table (the unit table holds the ranking's
    first rows, the inspection table the latest inspections, the region table at most
    REGION_ROWS regions), and how old it is."""

    summaries: dict[str, rollup.Summary]
    ranking_total: int
    inspection_total: int
    #: How many regions there are (the region table shows at most REGION_ROWS of them).
    region_total: int = 0
    #: When kept figures were counted; None when counted for this view.
    counted_at: datetime | None = None
    #: Kept figures: a digest of everything kept (numbers, labels, scope, day), which the
    #: same figures have wherever and whenever they were counted. None when counted for
    #: this view (or kept before digests were).
    digest: str | None = None
    #: Kept figures: whether nothing has changed since they were counted.
    current: bool = True
    #: How long counting took, in seconds.
    seconds: float = 0.0
    #: Kept figures too slow to count during a view: the page says when they were counted
    #: and offers to count now (quick ones need no such note: they are counted again as
    #: soon as something moves).
    slow: bool = False

    @property
    def overall(self) -> rollup.Summary:
        return self.summaries["unit"]


def ranking(summary: rollup.Summary) -> list[rollup.Group]:
    """Units with tickets, most overdue first, then the lowest completion rate."""
    groups = [g for g in summary.groups if g.tickets.total]
    return sorted(groups, key=lambda g: (-g.tickets.overdue,
                                         g.tickets.completion_rate if g.tickets.completion_rate
                                         is not None else 101.0, g.label))


def latest_first(summary: rollup.Summary) -> list[rollup.Group]:
    """Groups keyed by id (inspections), the most recently registered first."""
    return sorted(summary.groups, key=lambda g: -(g.key or 0))


# --- counting ---------------------------------------------------------------------------

def count(user: User, scope: rollup.Scope, today: date, days: int) -> Figures:
    """The dashboard's figures counted live: every table's counts in one statement, their
    labels in one more."""
    started = time.perf_counter()
    summaries = rollup.summarize_many(user, scope, today, TABLES, days=days)
    ranked = ranking(summaries["unit"])
    inspections = latest_first(summaries["inspection"])
    summaries["unit"] = replace(summaries["unit"], groups=ranked[:TABLE_ROWS])
    summaries["inspection"] = replace(summaries["inspection"], groups=inspections[:TABLE_ROWS])
    regions = summaries["region"].groups
    if len(regions) > REGION_ROWS:
        summaries["region"] = replace(summaries["region"],
                                      groups=ranking(summaries["region"])[:REGION_ROWS])
    return Figures(summaries, len(ranked), len(inspections), len(regions),
                   seconds=round(time.perf_counter() - started, 3))


def figures(user: User, scope: rollup.Scope, today: date, days: int, *,
            fresh: bool = False) -> Figures:
    """The dashboard's figures for the user's scope narrowed by `scope`: kept ones when
    this scope's are kept (see the module's text), else counted live (and kept when that
    took long). `fresh` always counts live."""
    signature = scope_signature(user)
    if signature is None:
        return count(user, scope, today, days)
    params = _params(signature, scope, today, days)
    key = _key(params)
    # The newest audit event and the kept figures (if any) in one statement.
    one = select(literal(1).label("one")).subquery()
    stamp, row = db.session.execute(
        select(select(func.max(AuditEvent.id)).scalar_subquery(), DashboardFigures)
        .select_from(one).outerjoin(DashboardFigures, DashboardFigures.key == key)).one()
    stamp = stamp or 0
    if row is not None and not fresh and (row.stamp == stamp or row.seconds >= wait_seconds()):
        rollup.check_scope(user, scope)
        _note_reader(row, user)
        kept = _load(row.figures)
        kept.counted_at, kept.current, kept.seconds = (row.counted_at, row.stamp == stamp,
                                                       row.seconds)
        kept.slow = row.seconds >= wait_seconds()
        return kept
    # Nothing kept, "count now", or moved figures quick enough to count while the user
    # waits: counted live (and kept).
    counted = count(user, scope, today, days)
    if row is not None or counted.seconds >= keep_seconds():
        _keep(row, key, params, user, stamp, counted)
    return counted


def keep_seconds() -> float:
    return float(current_app.config["DASHBOARD_KEEP_SECONDS"])


def wait_seconds() -> float:
    return float(current_app.config["DASHBOARD_WAIT_SECONDS"])


def scope_signature(user: User) -> str | None:
    """Whose figures these are: everything, or one unit's subtree (offices and
    supervisors of the same unit see the same tickets). None for unit users and users
    without a scope: their figures are always counted live."""
    if user.role == Role.ADMIN or scoping.covers_everything(user):
        return "all"
    if user.role in (Role.OFFICE, Role.SUPERVISOR) and user.scope_unit_id is not None:
        return f"unit:{user.scope_unit_id}"
    return None


def _params(signature: str, scope: rollup.Scope, today: date, days: int) -> dict:
    return {"scope": signature, "filters": _scope_json(scope), "today": today.isoformat(),
            "days": days, "cut": rollup.next_year_cut(today).isoformat(), "rows": TABLE_ROWS}


def _key(params: dict) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


def _stamp() -> int:
    return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def _note_reader(row: DashboardFigures, user: User) -> None:
    """Remember who read the figures, at most once a minute (a write per view would make
    every dashboard view wait for the others)."""
    now = clock.now_utc()
    if row.user_id != user.id or row.read_at < now - timedelta(minutes=1):
        row.user_id, row.read_at = user.id, now
        _commit_keeping_loaded()


def _keep(row: DashboardFigures | None, key: str, params: dict, user: User, stamp: int,
          counted: Figures) -> None:
    """Store the figures of `key` (in `row`, when there is one). Two views counting the
    same scope at once both try to insert: the second loses and changes nothing."""
    now = clock.now_utc()
    values = {"params": params, "counted_on": date.fromisoformat(params["today"]),
              "user_id": user.id, "stamp": stamp, "counted_at": now, "read_at": now,
              "seconds": counted.seconds, "figures": _dump(counted)}
    try:
        if row is None:
            db.session.add(DashboardFigures(key=key, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
        _commit_keeping_loaded()
    except IntegrityError:
        db.session.rollback()


def _commit_keeping_loaded() -> None:
    """Commit without expiring what the request has loaded (the user, the form's units):
    the page goes on rendering them, and reloading each would cost a statement."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


# --- the scheduler's part ---------------------------------------------------------------

def refresh(now: datetime | None = None, budget_seconds: float = 50.0) -> int:
    """Count again the kept figures read within a day that something has moved since (or
    that were kept too long), most recently read first, until the budget is spent; carry
    figures of an earlier day over to today (then drop the old ones); drop figures nobody
    reads. Commits after each. Returns how many were counted."""
    now = now or clock.now_utc()
    today = clock.today()
    started = time.perf_counter()
    stamp = _stamp()
    recount_before = now - timedelta(minutes=int(
        current_app.config["DASHBOARD_RECOUNT_MINUTES"]))
    done = 0
    rows = db.session.execute(
        select(DashboardFigures.id, DashboardFigures.key, DashboardFigures.params,
               DashboardFigures.user_id, DashboardFigures.counted_on,
               DashboardFigures.stamp, DashboardFigures.counted_at)
        .where(DashboardFigures.read_at >= now - READ_WITHIN)
        .order_by(DashboardFigures.read_at.desc())).all()
    today_keys = {row.key for row in rows if row.counted_on == today}
    carried: list[int] = []  # yesterday's figures now counted for today
    for row in rows:
        if time.perf_counter() - started > budget_seconds:
            break
        if row.counted_on == today:
            if row.stamp == stamp and row.counted_at >= recount_before:
                continue
            params = row.params
        else:
            params = {**row.params, "today": today.isoformat(),
                      "cut": rollup.next_year_cut(today).isoformat()}
            if _key(params) in today_keys:
                carried.append(row.id)
                continue
        try:
            if _recount(params, row.user_id, stamp):
                done += 1
                today_keys.add(_key(params))
                if row.counted_on != today:
                    carried.append(row.id)
        except Exception:  # noqa: BLE001  (one scope's failure must not stop the others)
            db.session.rollback()
            log.exception("could not count the dashboard figures %s again", row.key)
    db.session.execute(delete(DashboardFigures).where(
        (DashboardFigures.read_at < now - DROP_AFTER)
        | (DashboardFigures.counted_on < today - timedelta(days=1))
        | DashboardFigures.id.in_(carried)))
    db.session.commit()
    return done


def _recount(params: dict, user_id: int, stamp: int) -> bool:
    """Count `params` again as the user who last read them, if they still have the scope
    the figures were counted for (else the figures are dropped)."""
    key = _key(params)
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or scope_signature(user) != params["scope"]:
        db.session.execute(delete(DashboardFigures).where(DashboardFigures.key == key))
        db.session.commit()
        return False
    scope = _scope_of(params["filters"])
    today = date.fromisoformat(params["today"])
    counted = count(user, scope, today, int(params["days"]))
    row = db.session.scalar(select(DashboardFigures).where(DashboardFigures.key == key))
    _keep(row, key, params, user, stamp, counted)
    return True


# --- storing ----------------------------------------------------------------------------

def _scope_json(scope: rollup.Scope) -> dict:
    """A Scope as JSON (its severity by value), and back (`_scope_of`)."""
    fields = asdict(scope)
    if fields["severity"] is not None:
        fields["severity"] = Severity(fields["severity"]).value
    return fields


def _scope_of(fields: dict) -> rollup.Scope:
    severity = fields.get("severity")
    return rollup.Scope(**{**fields,
                           "severity": Severity(severity) if severity is not None else None})


def _dump(counted: Figures) -> dict:
    data = {"ranking_total": counted.ranking_total,
            "inspection_total": counted.inspection_total,
            "region_total": counted.region_total,
            "summaries": {name: _dump_summary(s) for name, s in counted.summaries.items()}}
    data["digest"] = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    return data


def _dump_summary(s: rollup.Summary) -> dict:
    return {"scope": _scope_json(s.scope), "group_by": s.group_by, "today": s.today.isoformat(),
            "cut": s.cut.isoformat(), "region_of": s.region_of,
            "tickets": asdict(s.tickets), "findings": asdict(s.findings),
            "groups": [[g.key, g.label, asdict(g.tickets), asdict(g.findings), g.is_own_level]
                       for g in s.groups]}


def _load(data: dict) -> Figures:
    return Figures({name: _load_summary(s) for name, s in data["summaries"].items()},
                   int(data["ranking_total"]), int(data["inspection_total"]),
                   int(data["region_total"]), digest=data.get("digest"))


def _load_summary(data: dict) -> rollup.Summary:
    group_by = data["group_by"]
    groups = []
    for key, label, tickets, findings, own_level in data["groups"]:
        if key is None and group_by == "category":
            label = _("Uncategorised")  # in the reader's language, not the counter's
        groups.append(rollup.Group(key=key, label=label,
                                   tickets=rollup.TicketCounts(**tickets),
                                   findings=rollup.FindingCounts(**findings),
                                   is_own_level=bool(own_level)))
    return rollup.Summary(scope=_scope_of(data["scope"]), group_by=group_by,
                          today=date.fromisoformat(data["today"]),
                          cut=date.fromisoformat(data["cut"]),
                          tickets=rollup.TicketCounts(**data["tickets"]),
                          findings=rollup.FindingCounts(**data["findings"]),
                          groups=groups, region_of=data["region_of"])
