"""The reminder pass: reads from the database what is due at a moment, and writes each
notification that does not exist yet.

Every rule works the same way. It asks the database for its candidates in batches (keyset
by id, using the one definition of overdue and near-due in `deadlines`), decides for each
the single message that is due *now* — the latest scheduled moment that has passed, never
an earlier one that a later one has made stale — and hands it to `notifications.write`,
which inserts it only if its natural key is new. So a pass may run any number of times,
in two processes at once, or after a week of downtime: each message exists once, the
reminders of a moved deadline follow the new date, and a closed or cancelled ticket, being
in no rule's candidates, gets nothing.

Rules never commit: the job that runs them (tracker/scheduler.py) commits after each
batch and runs a batch again if a concurrent pass wrote the same key first.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from types import SimpleNamespace
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Date, Integer, String, and_, case, func, literal, or_, select, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from tracker.extensions import db
from tracker.models import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    ExtensionRequest,
    ExtensionStatus,
    Finding,
    Holiday,
    Inspection,
    Notification,
    NotificationKind,
    NotificationSetting,
    ProgressUpdate,
    Role,
    Ticket,
    TicketStatus,
    Unit,
    UrgingNotice,
    User,
)
from tracker.services import clock, deadlines, notifications, scoping
from tracker.services import notification_messages as msg
from tracker.services.notifications import (
    Choice,
    Intent,
    Recipient,
    ReminderSettings,
    UnitRef,
)
from tracker.services.workdays import WorkCalendar

K = NotificationKind
S = TicketStatus
#: Extra days a candidate window reaches when offsets count working days: the longest
#: run of days off (Spring Festival with its weekends) can push a reminder that far back.
WORKDAY_SLACK = 15
#: Units listed by name in one weekly digest; the rest are summed up in one line.
DIGEST_MAX_UNITS = 50
#: A weekly digest missed by downtime still goes out this many days late, not later.
DIGEST_LATE_DAYS = 2


@dataclass
class PassContext:
    """The moment a pass runs for, and what it reads once."""

    now: datetime
    zone: ZoneInfo
    settings: ReminderSettings
    batch: int
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    #: The organisation's defaults per kind, read once per pass.
    org: dict[NotificationKind, Choice] = field(default_factory=dict)
    #: The last complete pass under the same rules: its day and the moment it started.
    #: Whatever was due by that day was written then, unless the ticket changed since;
    #: None: no such pass, everything is looked at.
    since: date | None = None
    since_at: datetime | None = None
    fingerprint: str = ""
    #: Units and recipients, read once per pass however many batches name them (plain
    #: values, unaffected by the commits between batches; a pass is one moment).
    _units: dict[int, UnitRef] = field(default_factory=dict)
    _people: dict[int, list[Recipient]] = field(default_factory=dict)
    _overseers: dict[Role, dict[int, list[Recipient]]] = field(default_factory=dict)
    _choices: dict[int, notifications.Own] = field(default_factory=dict)

    def units(self, unit_ids: Iterable[int]) -> dict[int, UnitRef]:
        return _kept(self._units, unit_ids, _units)

    def unit_users(self, unit_ids: Iterable[int]) -> dict[int, list[Recipient]]:
        """`notifications.unit_users`, for the units not asked about before in this pass."""
        return _kept(self._people, unit_ids, notifications.unit_users)

    def choices(self, user_ids: Iterable[int]) -> dict[int, notifications.Own]:
        """`notifications.choices_for`, for the users not asked about before in this pass."""
        return _kept(self._choices, user_ids,
                     lambda ids: notifications.choices_for(ids, self.org))

    def overseers(self, unit_ids: Iterable[int], role: Role) -> dict[int, list[Recipient]]:
        """`notifications.overseers`, for the units not asked about before in this pass."""
        return _kept(self._overseers.setdefault(role, {}), unit_ids,
                     lambda ids: notifications.overseers(ids, role))

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.zone)

    @property
    def today(self) -> date:
        return self.local_now.date()

    def day_start(self, day: date) -> datetime:
        """00:00 of the day in the office's zone, as an aware UTC datetime."""
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(timezone.utc)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def days_since(self, day: date, until: date | None = None) -> int:
        """Days from `day` to today (or `until`): working days when the office counts them."""
        until = until or self.today
        if self.settings.use_workdays:
            return self.calendar.between(day, until)
        return (until - day).days

    @property
    def gap(self) -> int | None:
        """Days since the last complete pass (0: earlier today); None: look at everything."""
        if self.since is None:
            return None
        return (self.today - self.since).days

    def changed(self) -> ColumnElement[bool]:
        """Tickets changed since the last complete pass started (new ones included)."""
        return Ticket.updated_at >= self.since_at

    def before(self, day: date, offset: int) -> date:
        """The moment `offset` days (or working days) before `day`."""
        if self.settings.use_workdays:
            return self.calendar.subtract(day, offset)
        return day - timedelta(days=offset)


def _kept(kept: dict, keys: Iterable, load: Callable[[set], dict]) -> dict:
    """`kept`, with what `load` reads for the keys it does not hold yet."""
    # Not `set(keys) - kept.keys()`: that copies every key kept so far, on every batch.
    missing = {key for key in keys if key not in kept}
    if missing:
        kept.update(load(missing))
    return kept


#: Where the last complete pass is recorded (a row of notification_settings).
PASS_KEY = "reminder_pass"


def _fingerprint(settings: ReminderSettings, org: dict[NotificationKind, Choice]) -> str:
    """The rules a pass ran under: settings, organisation defaults, the holiday table."""
    holidays = db.session.execute(select(func.count(), func.max(Holiday.created_at))).one()
    return repr((sorted(settings.__dict__.items()),
                 sorted((k.value, c.is_email, c.is_digest, c.is_webhook) for k, c in org.items()),
                 holidays[0], holidays[1].isoformat() if holidays[1] else None))


def context(now: datetime | None = None) -> PassContext:
    ctx = PassContext(now=now or clock.now_utc(), zone=clock.office_zone(),
                      settings=notifications.reminder_settings(),
                      batch=current_app.config["REMINDER_BATCH"],
                      org=notifications.defaults())
    ctx.fingerprint = _fingerprint(ctx.settings, ctx.org)
    row = db.session.get(NotificationSetting, PASS_KEY)
    value = row.value if row is not None and isinstance(row.value, dict) else {}
    try:
        since = date.fromisoformat(value["day"])
        since_at = datetime.fromisoformat(value["started_at"])
    except (KeyError, TypeError, ValueError):
        return ctx
    # Only a pass under the same rules, not after this one, counts.
    if (value.get("fingerprint") == ctx.fingerprint and since <= ctx.today
            and since_at <= ctx.now and since_at.tzinfo is not None):
        ctx.since, ctx.since_at = since, since_at
    return ctx


def record_pass(ctx: PassContext, after: int):
    """The last step: the pass is complete; the next one need only look at what became
    due since today, or changed since this pass started."""
    row = db.session.get(NotificationSetting, PASS_KEY)
    if row is None:
        row = NotificationSetting(key=PASS_KEY)
        db.session.add(row)
    row.value = {"day": ctx.today.isoformat(), "started_at": ctx.now.isoformat(),
                 "fingerprint": ctx.fingerprint}
    db.session.flush()
    return [], None


def repeat_point(days: int, first: int, every: int) -> int | None:
    """The latest scheduled point ≤ `days` of a series first, first+every, …; None before
    the first. A pass after downtime thus sends the latest notice, not the ones it missed."""
    if days < first:
        return None
    return first + every * ((days - first) // every)


Step = Callable[[PassContext, int], tuple[list[notifications.Written], int | None]]


# --- reading candidates ---------------------------------------------------------------
#
# Each rule asks the database for the candidates that still owe a message: the natural
# key's ticket part (kind, ticket, date, offset) is computed in SQL, and a ticket for
# which that notification is written already (to any of its recipients) is left out by an
# anti-join on the outbox *before* anything is loaded or rendered. So a pass that finds
# nothing new reads nothing but ids. What comes back is read as plain columns (never ORM
# tickets). The rules whose every candidate is owed a message read what the messages
# mention in the same query (`_page(facts=True)`, then `_subject` per row); the others
# read it for a batch only when one of its messages is actually new. Where that anti-join
# covers the whole key but its recipient (before the deadline, overdue and escalated,
# report owed), `notifications.write` is told so and looks nothing up again; for the other
# rules it checks each recipient's full key.
# A recipient who joins a unit after a reminder was written for a ticket gets the next
# one of that ticket, not that one again.


class days_since(FunctionElement):  # noqa: N801  (a SQL function)
    """Whole days from the date expression `day` to the date `today`, on every dialect."""

    type = Integer()
    inherit_cache = True
    name = "days_since"


@compiles(days_since)
def _days_since_default(element, compiler, **kw):
    today, day = list(element.clauses)
    return f"(CAST({compiler.process(today, **kw)} AS DATE) - {compiler.process(day, **kw)})"


@compiles(days_since, "sqlite")
def _days_since_sqlite(element, compiler, **kw):
    today, day = list(element.clauses)
    return (f"CAST(julianday({compiler.process(today, **kw)}) - "
            f"julianday({compiler.process(day, **kw)}) AS INTEGER)")


@compiles(days_since, "mysql")
@compiles(days_since, "mariadb")
def _days_since_mysql(element, compiler, **kw):
    today, day = list(element.clauses)
    return f"DATEDIFF({compiler.process(today, **kw)}, {compiler.process(day, **kw)})"


def _written(kind, about_on, offset, *, ticket_id=Ticket.id, **extra) -> ColumnElement:
    """EXISTS: the notification of this kind, ticket, date and offset is written (to
    anyone). Correlated with the rule's ticket; served by the index on ticket_id."""
    n = aliased(Notification, name="written")
    where = [n.ticket_id == ticket_id, n.kind == kind, n.about_on == about_on,
             n.offset_days.is_(None) if offset is None else n.offset_days == offset]
    if "since" in extra:
        where.append(n.created_at >= extra["since"])
    if "ref" in extra:
        where.append(n.dedup_key.endswith(extra["ref"]))
    return _probe(select(n.id).where(*where))


def _probe(statement) -> ColumnElement:
    """EXISTS (statement), asked row by row through the index. On PostgreSQL, OFFSET 0
    keeps the planner from turning it into an anti-join over the whole outbox, which it
    would plan as a nested loop over a materialised scan on the statistics of an outbox
    that is growing during the very pass (quadratic: minutes at 100,000 tickets)."""
    if db.session.get_bind().dialect.name == "postgresql":
        statement = statement.offset(0)
    return statement.exists()


def _page(ctx: PassContext, statement, id_column, after: int, *, facts: bool = False
          ) -> tuple[list, int | None]:
    """The next batch of candidates after `after`. `facts`: for a rule whose every candidate
    is owed a message (its query leaves out what is written), each row also carries what
    the messages mention (`_FACTS`; the statement selects `_TICKET`), so that no second
    query reads the same tickets again by id. The batch is chosen first, as a subquery,
    and only its rows are joined: joined inside, the planner misjudged how many tickets
    the date filters keep and scanned the inspections once per ticket (7 s a batch)."""
    statement = statement.where(id_column > after).order_by(id_column).limit(ctx.batch)
    if facts:
        batch = statement.subquery()
        statement = _facts_of(batch.c.finding_id, batch.c.lead_unit_id,
                              select(batch, *_FACTS)).order_by(batch.c.id)
    rows = db.session.execute(statement).all()
    return rows, (rows[-1][0] if len(rows) == ctx.batch else None)


@dataclass(frozen=True)
class Subject:
    """One candidate ticket with what its messages mention and who decides it."""

    facts: msg.TicketFacts
    unit: UnitRef
    lead_unit_id: int
    status: TicketStatus
    finding: object  # .inspection.signoff_levels / .supervisors_may_sign_off (deciders)


class Subjects:
    """The batch's tickets, read in one query the first time a message needs them."""

    def __init__(self, ids: Iterable[int]):
        self.ids = list(dict.fromkeys(ids))
        self._found: dict[int, Subject] | None = None

    def __getitem__(self, ticket_id: int) -> Subject:
        if self._found is None:
            self._found = _subjects(self.ids)
        return self._found[ticket_id]


#: The ticket's own columns a message's subject is built from (every rule's candidates).
_TICKET = (Ticket.id, Ticket.status, Ticket.deadline, Ticket.next_review_on,
           Ticket.lead_unit_id, Ticket.finding_id, Ticket.responsible_person)
#: What a message mentions of the ticket's finding, inspection and lead unit.
_FACTS = (Finding.title, Unit.name.label("unit_name"), Unit.webhook_url,
          Inspection.title.label("inspection"), Inspection.document_number,
          Inspection.signoff_levels, Inspection.supervisors_may_sign_off)


def _facts_of(finding_id, lead_unit_id, statement):
    """`statement` joined to what the messages mention, by the ticket's finding and unit."""
    return (statement.join(Finding, Finding.id == finding_id)
            .join(Inspection, Inspection.id == Finding.inspection_id)
            .join(Unit, Unit.id == lead_unit_id))


def _subject(r) -> Subject:
    facts = msg.TicketFacts(
        ticket_id=r.id, title=r.title, unit=r.unit_name, deadline=r.deadline,
        next_review_on=r.next_review_on, person=r.responsible_person or "",
        inspection=r.inspection, document_number=r.document_number or "",
        is_long_term=r.status == S.LONG_TERM)
    inspection = SimpleNamespace(signoff_levels=r.signoff_levels,
                                 supervisors_may_sign_off=r.supervisors_may_sign_off)
    return Subject(facts=facts, unit=UnitRef(r.lead_unit_id, r.unit_name, r.webhook_url),
                   lead_unit_id=r.lead_unit_id, status=r.status,
                   finding=SimpleNamespace(inspection=inspection))


def _subjects(ids: list[int]) -> dict[int, Subject]:
    found = {}
    for start in range(0, len(ids), notifications.KEY_CHUNK):
        for r in db.session.execute(_facts_of(
                Ticket.finding_id, Ticket.lead_unit_id, select(*_TICKET, *_FACTS))
                .where(Ticket.id.in_(ids[start:start + notifications.KEY_CHUNK]))):
            found[r.id] = _subject(r)
    return found


def _units(unit_ids: Iterable[int]) -> dict[int, UnitRef]:
    ids = list(set(unit_ids))
    found = {}
    for start in range(0, len(ids), notifications.KEY_CHUNK):
        for r in db.session.execute(select(Unit.id, Unit.name, Unit.webhook_url).where(
                Unit.id.in_(ids[start:start + notifications.KEY_CHUNK]))):
            found[r.id] = UnitRef(r.id, r.name, r.webhook_url)
    return found


def _due(status, deadline: date, next_review_on: date | None) -> date:
    """`deadlines.due_date()` for one row read from the database."""
    if status == S.LONG_TERM:
        return next_review_on or deadline
    return deadline


def _write(ctx: PassContext, intents: list[Intent], *, checked: bool = False
           ) -> list[notifications.Written]:
    """`notifications.write`; `checked`: the rule's query left out every ticket whose
    notification (of that kind, date and offset) is written, to anyone."""
    return notifications.write(intents, ctx.now, org=ctx.org, checked=checked,
                               choices=ctx.choices)


# --- before the deadline (and the long-term review date) ------------------------------

def pick_offset(ctx: PassContext, due: date) -> int | None:
    """The offset whose moment is the latest one not after today; None if none has come."""
    best, best_moment = None, None
    for offset in sorted(ctx.settings.offsets):
        moment = ctx.before(due, offset)
        if moment <= ctx.today and (best_moment is None or moment > best_moment):
            best, best_moment = offset, moment
    return best


def before_deadline(ctx: PassContext, after: int):
    if not ctx.settings.offsets:
        return [], None
    horizon = max(ctx.settings.offsets) + (WORKDAY_SLACK if ctx.settings.use_workdays else 0)
    # The offset due on each date of the horizon, decided in Python (working days), used
    # by the database as a lookup.
    offsets = {}
    for n in range(horizon + 1):
        day = ctx.today + timedelta(days=n)
        offset = pick_offset(ctx, day)
        if offset is not None:
            offsets[day] = offset
    if not offsets:
        return [], None
    due = deadlines.due_date()
    offset_of = case(*((due == day, offset) for day, offset in offsets.items()))
    kind = case((Ticket.status == S.LONG_TERM, K.REVIEW_DUE.value), else_=K.DUE_SOON.value)
    narrow = due.in_(list(offsets))
    if ctx.gap is not None:
        # Dates whose reminder moment came after the last complete pass.
        fresh = [day for day, offset in offsets.items() if ctx.before(day, offset) > ctx.since]
        narrow = and_(narrow, or_(due.in_(fresh), ctx.changed()) if fresh else ctx.changed())
    rows, cursor = _page(ctx, select(*_TICKET).where(
        deadlines.near_due(ctx.today, horizon), narrow, ~_written(kind, due, offset_of)),
        Ticket.id, after, facts=True)
    subjects = {r.id: _subject(r) for r in rows}  # read with the batch
    lead_ids = {r.lead_unit_id for r in rows}
    units, people = ctx.units(lead_ids), ctx.unit_users(lead_ids)
    intents: list[Intent] = []
    for r in rows:
        is_review = r.status == S.LONG_TERM
        due_on = _due(r.status, r.deadline, r.next_review_on)
        offset, days_left = offsets[due_on], (due_on - ctx.today).days
        render = ((lambda t=r.id, d=days_left: msg.review_due(subjects[t].facts, d))
                  if is_review else
                  (lambda t=r.id, d=days_left: msg.due_soon(subjects[t].facts, d)))
        intents += notifications.for_units(
            [units[r.lead_unit_id]], K.REVIEW_DUE if is_review else K.DUE_SOON, render,
            people=people, ticket_id=r.id, about_on=due_on, offset_days=offset)
    return _write(ctx, intents, checked=True), cursor


# --- overdue, and escalation ----------------------------------------------------------

def overdue(ctx: PassContext, after: int):
    rules = ctx.settings
    due = deadlines.due_date()
    days = days_since(literal(ctx.today, Date), due)
    every = rules.overdue_repeat_days
    point = 1 + (days - 1) - ((days - 1) % every)  # repeat_point(days, 1, every)
    sup_days, office_days = rules.escalate_supervisor_days, rules.escalate_office_days
    owes_notice = ~_written(K.OVERDUE.value, due, point)
    owes_supervisor = and_(due <= ctx.today - timedelta(days=sup_days),
                           ~_written(K.ESCALATION_SUPERVISOR.value, due, sup_days))
    owes_office = and_(due <= ctx.today - timedelta(days=office_days),
                       ~_written(K.ESCALATION_OFFICE.value, due, office_days))
    narrow = []
    if ctx.gap is not None:
        # A notice, or an escalation, whose moment came after the last complete pass.
        k = ctx.gap
        narrow.append(or_(point > days - k, and_(days >= sup_days, days < sup_days + k),
                          and_(days >= office_days, days < office_days + k), ctx.changed()))
    rows, cursor = _page(ctx, select(
        *_TICKET, owes_notice.label("owes_notice"), owes_supervisor.label("owes_supervisor"),
        owes_office.label("owes_office"))
        .where(deadlines.overdue(ctx.today), *narrow,
               or_(owes_notice, owes_supervisor, owes_office)),
        Ticket.id, after, facts=True)
    subjects = {r.id: _subject(r) for r in rows}  # read with the batch
    units = ctx.units(r.lead_unit_id for r in rows)
    people = ctx.unit_users(r.lead_unit_id for r in rows if r.owes_notice)
    escalated = {r.lead_unit_id for r in rows if r.owes_supervisor or r.owes_office}
    supervisors = ctx.overseers(escalated, Role.SUPERVISOR)
    offices = ctx.overseers(escalated, Role.OFFICE)
    intents: list[Intent] = []
    for r in rows:
        due_on = _due(r.status, r.deadline, r.next_review_on)
        n = (ctx.today - due_on).days
        key = {"ticket_id": r.id, "about_on": due_on}
        if r.owes_notice:
            intents += notifications.for_units(
                [units[r.lead_unit_id]], K.OVERDUE,
                lambda t=r.id, d=due_on, n=n: msg.overdue(subjects[t].facts, d, n),
                people=people, offset_days=repeat_point(n, 1, every), **key)
        if r.owes_supervisor:
            watchers = supervisors[r.lead_unit_id] or offices[r.lead_unit_id]
            intents += notifications.for_users(
                watchers, K.ESCALATION_SUPERVISOR,
                lambda t=r.id, d=due_on, n=n: msg.escalation_supervisor(subjects[t].facts, d, n),
                offset_days=sup_days, **key)
        if r.owes_office:
            intents += notifications.for_users(
                offices[r.lead_unit_id], K.ESCALATION_OFFICE,
                lambda t=r.id, d=due_on, n=n: msg.escalation_office(subjects[t].facts, d, n),
                offset_days=office_days, **key)
    return _write(ctx, intents, checked=True), cursor


# --- not signed for -------------------------------------------------------------------

def unacknowledged(ctx: PassContext, after: int):
    days = ctx.settings.unacknowledged_days
    # Calendar days are a lower bound of working days: the database narrows, Python decides.
    latest = ctx.day_start(ctx.today - timedelta(days=days - 1))
    n = aliased(Notification, name="written")
    # Written for this assignment (after it, to this lead unit): the key's date is the
    # assignment's, its ref the lead unit.
    told = _probe(select(n.id).where(
        n.ticket_id == Ticket.id, n.kind == K.UNACKNOWLEDGED.value, n.offset_days == days,
        n.created_at >= Ticket.assigned_at,
        # Concatenated with the bare integer: a CAST to text would carry the connection's
        # collation on MariaDB and clash with the column's in the LIKE.
        n.dedup_key.endswith(literal("|l", String).concat(Ticket.lead_unit_id))))
    narrow = []
    if ctx.gap is not None:
        # Due after the last complete pass: assigned no earlier than `days` (calendar days,
        # a lower bound of working days, with room for the longest run of days off) before.
        slack = WORKDAY_SLACK if ctx.settings.use_workdays else 0
        narrow.append(or_(Ticket.assigned_at >= ctx.day_start(
            ctx.since + timedelta(days=1 - days - slack)), ctx.changed()))
    rows, cursor = _page(ctx, select(*_TICKET, Ticket.assigned_at).where(
        Ticket.status == S.ASSIGNED, Ticket.is_declined.is_(False), Ticket.assigned_at < latest,
        *narrow, ~told), Ticket.id, after, facts=True)
    subjects = {r.id: _subject(r) for r in rows}  # read with the batch
    lead_ids = {r.lead_unit_id for r in rows}
    units, people = ctx.units(lead_ids), ctx.unit_users(lead_ids)
    intents: list[Intent] = []
    for r in rows:
        assigned_on = ctx.local_date(r.assigned_at)
        if ctx.days_since(assigned_on) < days:
            continue
        intents += notifications.for_units(
            [units[r.lead_unit_id]], K.UNACKNOWLEDGED,
            lambda t=r.id, d=assigned_on: msg.unacknowledged(subjects[t].facts, d),
            people=people, ticket_id=r.id, about_on=assigned_on, offset_days=days,
            ref=f"l{r.lead_unit_id}")
    return _write(ctx, intents), cursor


# --- the monthly progress report ------------------------------------------------------

def report_period(today: date, day: int) -> tuple[date, date] | None:
    """(last month's due date, this month's) once this month's has passed, else None.
    A progress update written after last month's due date counts as this month's report."""
    if day <= 0 or today.day <= day:
        return None
    due = today.replace(day=day)
    previous = (due.replace(day=1) - timedelta(days=1)).replace(day=day)
    return previous, due


def report_owed(ctx: PassContext, after: int):
    period = report_period(ctx.today, ctx.settings.report_day)
    if period is None:
        return [], None
    previous, due = period
    window = previous + timedelta(days=1)
    reported = select(ProgressUpdate.id).where(ProgressUpdate.ticket_id == Ticket.id,
                                               ProgressUpdate.created_at >= ctx.day_start(window))
    # The report covers last month: owed by every ticket that was open before this month.
    # Owed since the report day: after a complete pass on or after it, only tickets changed
    # since can owe one that was not written.
    narrow = [ctx.changed()] if ctx.gap is not None and ctx.since > due else []
    rows, cursor = _page(ctx, select(*_TICKET, Ticket.assigned_at).where(
        Ticket.status.in_((S.IN_PROGRESS, S.RETURNED, S.LONG_TERM)),
        Ticket.assigned_at < ctx.day_start(due.replace(day=1)), *narrow, ~reported.exists(),
        ~_written(K.REPORT_OWED.value, literal(due, Date), None)), Ticket.id, after,
        facts=True)
    subjects = {r.id: _subject(r) for r in rows}  # read with the batch
    lead_ids = {r.lead_unit_id for r in rows}
    units, people = ctx.units(lead_ids), ctx.unit_users(lead_ids)
    intents: list[Intent] = []
    for r in rows:
        since = max(window, ctx.local_date(r.assigned_at))
        intents += notifications.for_units(
            [units[r.lead_unit_id]], K.REPORT_OWED,
            lambda t=r.id, s=since: msg.report_owed(subjects[t].facts, s, due),
            people=people, ticket_id=r.id, about_on=due)
    return _write(ctx, intents, checked=True), cursor


# --- decisions waiting ----------------------------------------------------------------
#
# Their dates are days since a moment (in the office's zone, perhaps in working days):
# Python decides, on plain columns; `write` finds what is written by its key.

def decisions_waiting(ctx: PassContext, after: int):
    rules = ctx.settings
    since_column = case((Ticket.status == S.SUBMITTED, Ticket.submitted_at),
                        else_=Ticket.updated_at)
    latest = ctx.day_start(ctx.today - timedelta(days=rules.decision_wait_days - 1))
    rows, cursor = _page(ctx, select(Ticket.id, Ticket.status, Ticket.submitted_at,
                                     Ticket.updated_at, Ticket.lead_unit_id).where(
        Ticket.status.in_(deadlines.WAITING_STATES), since_column < latest), Ticket.id, after)
    due_rows = []
    for r in rows:
        since = ctx.local_date(r.submitted_at if r.status == S.SUBMITTED else r.updated_at)
        point = _waiting_point(ctx, since, rules.decision_wait_days, r.updated_at)
        if point is not None:
            due_rows.append((r, since, point))
    subjects = Subjects(r.id for r, _s, _p in due_rows)
    unit_ids = {r.lead_unit_id for r, _s, _p in due_rows}
    supervisors = ctx.overseers(unit_ids, Role.SUPERVISOR)
    offices = ctx.overseers(unit_ids, Role.OFFICE)
    intents: list[Intent] = []
    for r, since, point in due_rows:
        days = (ctx.today - since).days
        intents += notifications.for_users(
            notifications.deciders(_Deciding(r.id, r.status, r.lead_unit_id, subjects),
                                   supervisors, offices), K.DECISION_WAITING,
            lambda t=r.id, s=since, n=days: msg.decision_waiting(subjects[t].facts, s, n),
            ticket_id=r.id, about_on=since, offset_days=point, ref=r.status.value)
    return _write(ctx, intents), cursor


def _waiting_point(ctx: PassContext, since: date, first: int, changed_at: datetime | None
                   ) -> int | None:
    """The point of a waiting series (first, then every OVERDUE_REPEAT_DAYS) due today; None
    if none is, or if the last complete pass saw the same point on an unchanged row."""
    every = ctx.settings.overdue_repeat_days
    point = repeat_point(ctx.days_since(since), first, every)
    if point is None or ctx.gap is None or (changed_at is not None
                                            and changed_at >= ctx.since_at):
        return point
    return None if repeat_point(ctx.days_since(since, ctx.since), first, every) == point \
        else point


class _Deciding:
    """What `notifications.deciders` reads of a ticket; its inspection read when needed."""

    def __init__(self, ticket_id: int, status, lead_unit_id: int, subjects: Subjects):
        self.id, self.status, self.lead_unit_id = ticket_id, status, lead_unit_id
        self._subjects = subjects

    @property
    def finding(self):
        return self._subjects[self.id].finding


def extensions_waiting(ctx: PassContext, after: int):
    rules = ctx.settings
    latest = ctx.day_start(ctx.today - timedelta(days=rules.decision_wait_days - 1))
    rows, cursor = _page(ctx, select(
        ExtensionRequest.id, ExtensionRequest.ticket_id, ExtensionRequest.created_at,
        ExtensionRequest.requested_deadline, Ticket.lead_unit_id, Ticket.updated_at)
        .join(Ticket, Ticket.id == ExtensionRequest.ticket_id)
        .where(ExtensionRequest.status == ExtensionStatus.PENDING,
               ExtensionRequest.created_at < latest, deadlines.is_open()),
        ExtensionRequest.id, after)
    subjects = Subjects(r.ticket_id for r in rows)
    offices = ctx.overseers((r.lead_unit_id for r in rows), Role.OFFICE)
    intents: list[Intent] = []
    for r in rows:
        asked_on = ctx.local_date(r.created_at)
        point = _waiting_point(ctx, asked_on, rules.decision_wait_days, r.updated_at)
        if point is None:
            continue
        days = (ctx.today - asked_on).days
        intents += notifications.for_users(
            offices[r.lead_unit_id], K.EXTENSION_WAITING,
            lambda t=r.ticket_id, a=asked_on, q=r.requested_deadline, n=days:
                msg.extension_waiting(subjects[t].facts, a, q, n),
            ticket_id=r.ticket_id, about_on=asked_on, offset_days=point, ref=f"x{r.id}")
    return _write(ctx, intents), cursor


# --- urging notices not acknowledged --------------------------------------------------

def urgings_unacknowledged(ctx: PassContext, after: int):
    rules = ctx.settings
    latest = ctx.day_start(ctx.today - timedelta(days=rules.urging_ack_days - 1))
    rows, cursor = _page(ctx, select(
        UrgingNotice.id, UrgingNotice.ticket_id, UrgingNotice.issued_at, UrgingNotice.level,
        Ticket.lead_unit_id, Ticket.updated_at)
        .join(Ticket, Ticket.id == UrgingNotice.ticket_id)
        .where(UrgingNotice.acknowledged_at.is_(None), UrgingNotice.issued_at < latest,
               deadlines.is_open()), UrgingNotice.id, after)
    subjects = Subjects(r.ticket_id for r in rows)
    lead_ids = {r.lead_unit_id for r in rows}
    units, people = ctx.units(lead_ids), ctx.unit_users(lead_ids)
    intents: list[Intent] = []
    for r in rows:
        issued_on = ctx.local_date(r.issued_at)
        point = _waiting_point(ctx, issued_on, rules.urging_ack_days, r.updated_at)
        if point is None:
            continue
        intents += notifications.for_units(
            [units[r.lead_unit_id]], K.URGING_UNACKNOWLEDGED,
            lambda t=r.ticket_id, v=r.level, d=issued_on:
                msg.urging_unacknowledged(subjects[t].facts, v, d),
            people=people, ticket_id=r.ticket_id, urging_id=r.id,
            about_on=issued_on, offset_days=point)
    return _write(ctx, intents), cursor


# --- digests --------------------------------------------------------------------------

def digest_week(ctx: PassContext) -> date | None:
    """This week's digest day, once it (and the digest hour) has come, and while it is not
    stale (a pass after downtime sends it up to DIGEST_LATE_DAYS late); else None."""
    weekday = ctx.settings.weekly_digest_weekday
    today = ctx.today
    if today.weekday() < weekday or (today.weekday() == weekday
                                     and ctx.local_now.hour < ctx.settings.daily_digest_hour):
        return None
    if today.weekday() - weekday > DIGEST_LATE_DAYS:
        return None
    return today - timedelta(days=today.weekday() - weekday)


def weekly_summary(ctx: PassContext, user: User, day: date
                   ) -> tuple[list[msg.DigestLine], int]:
    """Per lead unit in the user's scope: newly overdue in the week before `day`, waiting
    for verification, signed off in that week; and all overdue now. One grouped query."""
    start = day - timedelta(days=7)
    is_overdue = deadlines.overdue(day)
    newly = and_(is_overdue, deadlines.due_date() >= start, deadlines.due_date() < day)
    closed = and_(Ticket.status == S.CLOSED, Ticket.closed_at >= ctx.day_start(start),
                  Ticket.closed_at < ctx.day_start(day))
    count = lambda cond: func.sum(case((cond, 1), else_=0))  # noqa: E731
    rows = db.session.execute(
        select(Unit.name, count(newly), count(Ticket.status.in_(deadlines.WAITING_STATES)),
               count(closed), count(is_overdue))
        .join(Unit, Unit.id == Ticket.lead_unit_id)
        .where(scoping.ticket_clause(user))
        .group_by(Unit.id, Unit.name, Unit.code).order_by(Unit.code)).all()
    lines = [msg.DigestLine(name, int(n or 0), int(w or 0), int(c or 0))
             for name, n, w, c, _o in rows if (n or 0) + (w or 0) + (c or 0)]
    lines.sort(key=lambda x: (-x.new_overdue, -x.waiting, -x.closed))
    total = sum(int(o or 0) for *_r, o in rows)
    return lines, total


def weekly_digest(ctx: PassContext, after: int):
    day = digest_week(ctx)
    if day is None:
        return [], None
    users = list(db.session.scalars(select(User).where(
        User.role.in_((Role.OFFICE, Role.SUPERVISOR)), User.is_active_user.is_(True),
        User.scope_unit_id.is_not(None), User.id > after)
        .options(joinedload(User.scope_unit)).order_by(User.id).limit(ctx.batch)))
    cursor = users[-1].id if len(users) == ctx.batch else None
    # This week's digest written already: its user's tickets are not counted again.
    keys = {Intent(kind=K.WEEKLY_DIGEST, render=str, user=u, about_on=day).dedup_key: u
            for u in users}
    done = notifications.existing_keys(keys)
    intents: list[Intent] = []
    for user in (u for k, u in keys.items() if k not in done):
        lines, total = weekly_summary(ctx, user, day)
        if not lines and not total:
            continue
        shown = lines[:DIGEST_MAX_UNITS]
        if len(lines) > DIGEST_MAX_UNITS:
            rest = lines[DIGEST_MAX_UNITS:]
            shown.append(msg.DigestLine(
                _others(len(rest)), sum(x.new_overdue for x in rest),
                sum(x.waiting for x in rest), sum(x.closed for x in rest)))
        scope = user.scope_unit.name
        intents += notifications.for_users(
            [user], K.WEEKLY_DIGEST,
            lambda s=scope, ls=shown, t=total: msg.weekly_digest(
                s, day - timedelta(days=7), day - timedelta(days=1), ls, t),
            groups=False, about_on=day)
    return _write(ctx, intents), cursor


def _others(count: int) -> str:
    return _("%(n)s other units", n=count)


def daily_digest(ctx: PassContext, after: int):
    """Once a day from the digest hour: each user's held e-mails go out as one."""
    if ctx.local_now.hour < ctx.settings.daily_digest_hour:
        return [], None
    user_ids = list(db.session.scalars(
        select(Notification.recipient_user_id).distinct()
        .join(Delivery, Delivery.notification_id == Notification.id)
        .where(Delivery.status == DeliveryStatus.HELD, Delivery.channel == DeliveryChannel.EMAIL,
               Notification.recipient_user_id > after)
        .order_by(Notification.recipient_user_id).limit(ctx.batch)))
    cursor = user_ids[-1] if len(user_ids) == ctx.batch else None
    if not user_ids:
        return [], None
    created = []
    for user in db.session.scalars(select(User).where(User.id.in_(user_ids))):
        held = list(db.session.scalars(
            select(Delivery).join(Notification, Notification.id == Delivery.notification_id)
            .where(Notification.recipient_user_id == user.id,
                   Delivery.status == DeliveryStatus.HELD,
                   Delivery.channel == DeliveryChannel.EMAIL)
            .options(joinedload(Delivery.notification)).order_by(Delivery.id)))
        subjects = [d.notification.subject for d in held]
        digest = notifications.write(notifications.for_users(
            [user], K.DAILY_DIGEST, lambda s=subjects: msg.daily_digest(ctx.today, s),
            groups=False, about_on=ctx.today), ctx.now, org=ctx.org, with_ids=True)
        if not digest:
            continue  # today's digest went out already; these wait for tomorrow's
        # A vehicle for e-mail: its items are in the centre.
        db.session.execute(update(Notification).where(Notification.id == digest[0].id)
                           .values(read_at=clock.now_utc())
                           .execution_options(synchronize_session=False))
        for delivery in held:
            delivery.status = DeliveryStatus.BUNDLED
            delivery.bundle_id = digest[0].id
        created += digest
    db.session.flush()
    return created, cursor


#: The rules of a pass, in the order they run.
STEPS: tuple[tuple[str, Step], ...] = (
    ("before_deadline", before_deadline),
    ("overdue", overdue),
    ("unacknowledged", unacknowledged),
    ("report_owed", report_owed),
    ("decisions_waiting", decisions_waiting),
    ("extensions_waiting", extensions_waiting),
    ("urgings_unacknowledged", urgings_unacknowledged),
    ("weekly_digest", weekly_digest),
    ("daily_digest", daily_digest),
    ("record_pass", record_pass),
)
