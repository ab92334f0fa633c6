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
from typing import Callable
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import joinedload

from tracker.extensions import db
from tracker.models import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    ExtensionRequest,
    ExtensionStatus,
    Finding,
    Notification,
    NotificationKind,
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
from tracker.services.notifications import Intent, ReminderSettings
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

    def days_since(self, day: date) -> int:
        """Days from `day` to today: working days when the office counts them."""
        if self.settings.use_workdays:
            return self.calendar.between(day, self.today)
        return (self.today - day).days

    def before(self, day: date, offset: int) -> date:
        """The moment `offset` days (or working days) before `day`."""
        if self.settings.use_workdays:
            return self.calendar.subtract(day, offset)
        return day - timedelta(days=offset)


def context(now: datetime | None = None) -> PassContext:
    return PassContext(now=now or clock.now_utc(), zone=clock.office_zone(),
                       settings=notifications.reminder_settings(),
                       batch=current_app.config["REMINDER_BATCH"])


def repeat_point(days: int, first: int, every: int) -> int | None:
    """The latest scheduled point ≤ `days` of a series first, first+every, …; None before
    the first. A pass after downtime thus sends the latest notice, not the ones it missed."""
    if days < first:
        return None
    return first + every * ((days - first) // every)


Step = Callable[[PassContext, int], tuple[list[Notification], int | None]]


def _batch(ctx: PassContext, statement, id_column, after: int) -> tuple[list, int | None]:
    rows = list(db.session.scalars(statement.where(id_column > after).order_by(id_column)
                                   .limit(ctx.batch)).unique())
    return rows, (rows[-1].id if len(rows) == ctx.batch else None)


def _tickets(*where) -> Select:
    return select(Ticket).where(*where).options(
        joinedload(Ticket.finding).joinedload(Finding.inspection),
        joinedload(Ticket.lead_unit))


# --- before the deadline (and the long-term review date) ------------------------------

def pick_offset(ctx: PassContext, due: date) -> int | None:
    """The offset whose moment is the latest one not after today; None if none has come."""
    best, best_moment = None, None
    for offset in sorted(ctx.settings.offsets):
        moment = ctx.before(due, offset)
        if moment <= ctx.today and (best_moment is None or moment > best_moment):
            best, best_moment = offset, moment
    return best


def before_deadline(ctx: PassContext, after: int) -> tuple[list[Notification], int | None]:
    if not ctx.settings.offsets:
        return [], None
    horizon = max(ctx.settings.offsets) + (WORKDAY_SLACK if ctx.settings.use_workdays else 0)
    tickets, cursor = _batch(ctx, _tickets(deadlines.near_due(ctx.today, horizon)),
                             Ticket.id, after)
    people = notifications.unit_users(t.lead_unit_id for t in tickets)
    intents: list[Intent] = []
    for ticket in tickets:
        is_review = ticket.status == S.LONG_TERM
        due = ticket.next_review_on if is_review else ticket.deadline
        offset = pick_offset(ctx, due)
        if offset is None:
            continue
        facts, days_left = msg.TicketFacts.of(ticket), (due - ctx.today).days
        render = ((lambda f=facts, d=days_left: msg.review_due(f, d)) if is_review
                  else (lambda f=facts, d=days_left: msg.due_soon(f, d)))
        intents += notifications.for_units(
            [ticket.lead_unit], K.REVIEW_DUE if is_review else K.DUE_SOON, render,
            people=people, ticket_id=ticket.id, about_on=due, offset_days=offset)
    return notifications.write(intents), cursor


# --- overdue, and escalation ----------------------------------------------------------

def overdue(ctx: PassContext, after: int) -> tuple[list[Notification], int | None]:
    rules = ctx.settings
    tickets, cursor = _batch(ctx, _tickets(deadlines.overdue(ctx.today)), Ticket.id, after)
    unit_ids = [t.lead_unit_id for t in tickets]
    people = notifications.unit_users(unit_ids)
    supervisors = notifications.overseers(unit_ids, Role.SUPERVISOR)
    offices = notifications.overseers(unit_ids, Role.OFFICE)
    intents: list[Intent] = []
    for ticket in tickets:
        due = ticket.next_review_on if ticket.status == S.LONG_TERM else ticket.deadline
        days = (ctx.today - due).days
        facts = msg.TicketFacts.of(ticket)
        key = {"ticket_id": ticket.id, "about_on": due}
        point = repeat_point(days, 1, rules.overdue_repeat_days)
        intents += notifications.for_units(
            [ticket.lead_unit], K.OVERDUE,
            lambda f=facts, d=due, n=days: msg.overdue(f, d, n),
            people=people, offset_days=point, **key)
        if days >= rules.escalate_supervisor_days:
            watchers = supervisors[ticket.lead_unit_id] or offices[ticket.lead_unit_id]
            intents += notifications.for_users(
                watchers, K.ESCALATION_SUPERVISOR,
                lambda f=facts, d=due, n=days: msg.escalation_supervisor(f, d, n),
                offset_days=rules.escalate_supervisor_days, **key)
        if days >= rules.escalate_office_days:
            intents += notifications.for_users(
                offices[ticket.lead_unit_id], K.ESCALATION_OFFICE,
                lambda f=facts, d=due, n=days: msg.escalation_office(f, d, n),
                offset_days=rules.escalate_office_days, **key)
    return notifications.write(intents), cursor


# --- not signed for -------------------------------------------------------------------

def unacknowledged(ctx: PassContext, after: int) -> tuple[list[Notification], int | None]:
    days = ctx.settings.unacknowledged_days
    # Calendar days are a lower bound of working days: the database narrows, Python decides.
    latest = ctx.day_start(ctx.today - timedelta(days=days - 1))
    tickets, cursor = _batch(ctx, _tickets(
        Ticket.status == S.ASSIGNED, Ticket.is_declined.is_(False), Ticket.assigned_at < latest),
        Ticket.id, after)
    people = notifications.unit_users(t.lead_unit_id for t in tickets)
    intents: list[Intent] = []
    for ticket in tickets:
        assigned_on = ctx.local_date(ticket.assigned_at)
        if ctx.days_since(assigned_on) < days:
            continue
        facts = msg.TicketFacts.of(ticket)
        intents += notifications.for_units(
            [ticket.lead_unit], K.UNACKNOWLEDGED,
            lambda f=facts, d=assigned_on: msg.unacknowledged(f, d), people=people,
            ticket_id=ticket.id, about_on=assigned_on, offset_days=days,
            ref=f"l{ticket.lead_unit_id}")
    return notifications.write(intents), cursor


# --- the monthly progress report ------------------------------------------------------

def report_period(today: date, day: int) -> tuple[date, date] | None:
    """(last month's due date, this month's) once this month's has passed, else None.
    A progress update written after last month's due date counts as this month's report."""
    if day <= 0 or today.day <= day:
        return None
    due = today.replace(day=day)
    previous = (due.replace(day=1) - timedelta(days=1)).replace(day=day)
    return previous, due


def report_owed(ctx: PassContext, after: int) -> tuple[list[Notification], int | None]:
    period = report_period(ctx.today, ctx.settings.report_day)
    if period is None:
        return [], None
    previous, due = period
    window = previous + timedelta(days=1)
    reported = select(ProgressUpdate.id).where(ProgressUpdate.ticket_id == Ticket.id,
                                               ProgressUpdate.created_at >= ctx.day_start(window))
    # The report covers last month: owed by every ticket that was open before this month.
    tickets, cursor = _batch(ctx, _tickets(
        Ticket.status.in_((S.IN_PROGRESS, S.RETURNED, S.LONG_TERM)),
        Ticket.assigned_at < ctx.day_start(due.replace(day=1)), ~reported.exists()),
        Ticket.id, after)
    people = notifications.unit_users(t.lead_unit_id for t in tickets)
    intents: list[Intent] = []
    for ticket in tickets:
        facts = msg.TicketFacts.of(ticket)
        since = max(window, ctx.local_date(ticket.assigned_at))
        intents += notifications.for_units(
            [ticket.lead_unit], K.REPORT_OWED,
            lambda f=facts, s=since: msg.report_owed(f, s, due),
            people=people, ticket_id=ticket.id, about_on=due)
    return notifications.write(intents), cursor


# --- decisions waiting ----------------------------------------------------------------

def decisions_waiting(ctx: PassContext, after: int) -> tuple[list[Notification], int | None]:
    rules = ctx.settings
    since_column = case((Ticket.status == S.SUBMITTED, Ticket.submitted_at),
                        else_=Ticket.updated_at)
    latest = ctx.day_start(ctx.today - timedelta(days=rules.decision_wait_days - 1))
    tickets, cursor = _batch(ctx, _tickets(
        Ticket.status.in_(deadlines.WAITING_STATES), since_column < latest),
        Ticket.id, after)
    unit_ids = [t.lead_unit_id for t in tickets]
    supervisors = notifications.overseers(unit_ids, Role.SUPERVISOR)
    offices = notifications.overseers(unit_ids, Role.OFFICE)
    intents: list[Intent] = []
    for ticket in tickets:
        since = ctx.local_date(ticket.submitted_at if ticket.status == S.SUBMITTED
                               else ticket.updated_at)
        point = repeat_point(ctx.days_since(since), rules.decision_wait_days,
                             rules.overdue_repeat_days)
        if point is None:
            continue
        facts, days = msg.TicketFacts.of(ticket), (ctx.today - since).days
        intents += notifications.for_users(
            notifications.deciders(ticket, supervisors, offices), K.DECISION_WAITING,
            lambda f=facts, s=since, n=days: msg.decision_waiting(f, s, n),
            ticket_id=ticket.id, about_on=since, offset_days=point, ref=ticket.status.value)
    return notifications.write(intents), cursor


def extensions_waiting(ctx: PassContext, after: int) -> tuple[list[Notification], int | None]:
    rules = ctx.settings
    latest = ctx.day_start(ctx.today - timedelta(days=rules.decision_wait_days - 1))
    statement = (select(ExtensionRequest).join(Ticket, Ticket.id == ExtensionRequest.ticket_id)
                 .where(ExtensionRequest.status == ExtensionStatus.PENDING,
                        ExtensionRequest.created_at < latest, deadlines.is_open())
                 .options(joinedload(ExtensionRequest.ticket).joinedload(Ticket.finding)
                          .joinedload(Finding.inspection),
                          joinedload(ExtensionRequest.ticket).joinedload(Ticket.lead_unit)))
    requests, cursor = _batch(ctx, statement, ExtensionRequest.id, after)
    offices = notifications.overseers((r.ticket.lead_unit_id for r in requests), Role.OFFICE)
    intents: list[Intent] = []
    for request in requests:
        asked_on = ctx.local_date(request.created_at)
        point = repeat_point(ctx.days_since(asked_on), rules.decision_wait_days,
                             rules.overdue_repeat_days)
        if point is None:
            continue
        facts, days = msg.TicketFacts.of(request.ticket), (ctx.today - asked_on).days
        intents += notifications.for_users(
            offices[request.ticket.lead_unit_id], K.EXTENSION_WAITING,
            lambda f=facts, a=asked_on, r=request.requested_deadline, n=days:
                msg.extension_waiting(f, a, r, n),
            ticket_id=request.ticket_id, about_on=asked_on, offset_days=point,
            ref=f"x{request.id}")
    return notifications.write(intents), cursor


# --- urging notices not acknowledged --------------------------------------------------

def urgings_unacknowledged(ctx: PassContext, after: int) -> tuple[list[Notification], int | None]:
    rules = ctx.settings
    latest = ctx.day_start(ctx.today - timedelta(days=rules.urging_ack_days - 1))
    statement = (select(UrgingNotice).join(Ticket, Ticket.id == UrgingNotice.ticket_id)
                 .where(UrgingNotice.acknowledged_at.is_(None), UrgingNotice.issued_at < latest,
                        deadlines.is_open())
                 .options(joinedload(UrgingNotice.ticket).joinedload(Ticket.finding)
                          .joinedload(Finding.inspection),
                          joinedload(UrgingNotice.ticket).joinedload(Ticket.lead_unit)))
    urgings, cursor = _batch(ctx, statement, UrgingNotice.id, after)
    people = notifications.unit_users(u.ticket.lead_unit_id for u in urgings)
    intents: list[Intent] = []
    for urging in urgings:
        issued_on = ctx.local_date(urging.issued_at)
        point = repeat_point(ctx.days_since(issued_on), rules.urging_ack_days,
                             rules.overdue_repeat_days)
        if point is None:
            continue
        facts = msg.TicketFacts.of(urging.ticket)
        intents += notifications.for_units(
            [urging.ticket.lead_unit], K.URGING_UNACKNOWLEDGED,
            lambda f=facts, u=urging, d=issued_on: msg.urging_unacknowledged(f, u.level, d),
            people=people, ticket_id=urging.ticket_id, urging_id=urging.id,
            about_on=issued_on, offset_days=point)
    return notifications.write(intents), cursor


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


def weekly_digest(ctx: PassContext, after: int) -> tuple[list[Notification], int | None]:
    day = digest_week(ctx)
    if day is None:
        return [], None
    users, cursor = _batch(ctx, select(User).where(
        User.role.in_((Role.OFFICE, Role.SUPERVISOR)), User.is_active_user.is_(True),
        User.scope_unit_id.is_not(None)), User.id, after)
    intents: list[Intent] = []
    for user in users:
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
    return notifications.write(intents), cursor


def _others(count: int) -> str:
    return _("%(n)s other units", n=count)


def daily_digest(ctx: PassContext, after: int) -> tuple[list[Notification], int | None]:
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
            groups=False, about_on=ctx.today))
        if not digest:
            continue  # today's digest went out already; these wait for tomorrow's
        digest[0].read_at = clock.now_utc()  # a vehicle for e-mail: its items are in the centre
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
)
