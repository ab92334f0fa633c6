"""Demo data: the world of the seed reports, replayed so that it ends on the day it is loaded.

`demo_world.write(story)` declares the world: units, people, categories, inspections,
findings and, for every ticket, what happened to it and on which day (an offset from
today). `load_demo()` then plays the story in the order things happened. Every state is
reached by calling the services (units, accounts, inspections, workflow) as the person who
would act, so each ticket has a real audit trail, notifications fire as they would, and
the rules are the product's own. After each step the timestamps the step wrote as "now"
are moved to the moment the step happened: no clock is faked, the services run as in
production, and the history reads as a year of work that ends today. Roll-up snapshots
are taken at the end of past days (weekly, daily for the last two weeks), so trend charts
have a history too.

Everything happens in the caller's one transaction: the command commits once, or nothing.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable

from flask import current_app
from sqlalchemy import func, or_, select

from tracker.extensions import db
from tracker.models import (
    Category,
    ExtensionRequest,
    ExtensionStatus,
    Finding,
    Inspection,
    Role,
    Setting,
    Ticket,
    TicketStatus,
    Unit,
    User,
)
from tracker.services import (
    accounts,
    clock,
    deadlines,
    demo_world,
    inspections,
    notifications,
    rollup,
    units,
    urgings,
    workdays,
    workflow,
)

DEMO_PASSWORD = "demo-2026"
#: The settings key that marks a demo database; only then are demo accounts advertised.
DEMO_FLAG = "demo"
#: The accounts every demo has, in the order the login page lists them.
DEMO_USERNAMES = ("admin", "office", "supervisor", "unit_a", "unit_b")
LOGIN_PAGE_USERNAMES = DEMO_USERNAMES + ("city_office",)


class DemoRefused(Exception):
    """The demo cannot be loaded here (data exists, or a production installation)."""


# --- the demo flag ----------------------------------------------------------------------

def is_demo_database() -> bool:
    return db.session.scalar(select(Setting.value).where(Setting.key == DEMO_FLAG)) == "1"


def demo_accounts_present() -> list[str]:
    """The demo accounts to show on the login page: none unless this is a demo database."""
    if not is_demo_database():
        return []
    present = set(db.session.scalars(select(User.username).where(
        User.username.in_(LOGIN_PAGE_USERNAMES), User.is_active_user.is_(True))))
    return [name for name in LOGIN_PAGE_USERNAMES if name in present]


def database_is_empty() -> bool:
    """No unit and no user: nothing the demo could collide with or be mixed into."""
    return (db.session.scalar(select(func.count(Unit.id))) == 0
            and db.session.scalar(select(func.count(User.id))) == 0)


# --- the story --------------------------------------------------------------------------

#: Sort position of the end-of-day snapshot: after every event adjusted onto that day.
_END_OF_DAY = 10 ** 6
_SNAPSHOT_TIME = "23:30"


@dataclass
class _Event:
    day: date  # the working day it happens on
    wanted: int  # the day offset as written, to keep the written order
    at: str  # "HH:MM" office time
    seq: int
    run: Callable[[], object]

    @property
    def key(self):
        return (self.day, self.wanted, self.at, self.seq)


class Story:
    """Declares events relative to today and plays them in order (see the module doc).

    Units, users, categories, inspections, findings and tickets are named by keys (a unit
    code, a user name, a key given at declaration); events find the rows when they run."""

    def __init__(self, today: date) -> None:
        self.today = today
        self._calendar = workdays.WorkCalendar()
        self._events: list[_Event] = []
        self._seq = 0
        self.unit_ids: dict[str, int] = {}
        self.user_ids: dict[str, int] = {}
        self.category_ids: dict[str, int] = {}
        self.inspection_ids: dict[str, int] = {}
        self.finding_ids: dict[str, int] = {}
        self.ticket_ids: dict[str, int] = {}
        self.extension_ids: dict[str, int] = {}
        self.urging_ids: dict[str, int] = {}
        #: The unit user who acts for each unit (the first one declared).
        self.unit_users: dict[str, str] = {}
        self._last_step: dict[str, tuple[int, str]] = {}
        self._last_moment: datetime | None = None
        self._setup: list[Callable[[], None]] = []
        self._hash: str | None = None

    # dates ---------------------------------------------------------------------------

    def date(self, offset: int) -> date:
        """Today plus `offset` days (negative: in the past)."""
        return self.today + timedelta(days=offset)

    def workday(self, offset: int) -> date:
        """The working day on or before today + offset (offices act on working days)."""
        return self._calendar.on_or_before(self.date(offset))

    @property
    def year_end(self) -> date:
        return date(self.today.year, 12, 31)

    @property
    def mid_next_year(self) -> date:
        """The roll-up's second planned-completion cut (30 June next year by default)."""
        return rollup.next_year_cut(self.today)

    def moment(self, day: date, at: str) -> datetime:
        hours, minutes = (int(part) for part in at.split(":"))
        local = datetime.combine(day, time(hours, minutes), tzinfo=clock.office_zone())
        return local.astimezone(timezone.utc)

    # declaring -----------------------------------------------------------------------

    def at(self, offset: int, at: str, run: Callable[[], object], *, ticket: str | None = None) -> None:
        """Schedule `run` on day `offset` at office time `at`. Steps of one ticket must be
        declared in the order they happen."""
        if offset >= 0:
            raise ValueError("demo events happen before today")
        if ticket is not None:
            last = self._last_step.get(ticket)
            if last is not None and (offset, at) <= last:
                raise ValueError(f"ticket {ticket}: step on day {offset} {at} is not after "
                                 f"the step before it ({last[0]} {last[1]})")
            self._last_step[ticket] = (offset, at)
        self._seq += 1
        self._events.append(_Event(self.workday(offset), offset, at, self._seq, run))

    def snapshots(self, first_offset: int, daily_from: int = -14) -> None:
        """Roll-up snapshots at the end of past days, from `first_offset` to yesterday:
        weekly (counting back from yesterday), then every day from `daily_from` on."""
        for offset in range(first_offset, 0):
            if offset < daily_from and (-1 - offset) % 7:
                continue
            day = self.date(offset)
            self._seq += 1
            self._events.append(_Event(day, _END_OF_DAY, _SNAPSHOT_TIME, self._seq,
                                       lambda d=day: rollup.take_snapshot(d)))

    def reading(self, offsets: range) -> None:
        """Everyone reads their notifications on these days (early, before work), so
        that only the news of the last days waits unread, as it would."""
        def read_all():
            for user_id in self.user_ids.values():
                notifications.mark_all_read(db.session.get(User, user_id))
        for offset in offsets:
            self.at(offset, "08:50", read_all)

    # playing -------------------------------------------------------------------------

    def play(self) -> None:
        """Run every event at its moment: the services stamp what they write with it."""
        for event in sorted(self._events, key=lambda e: e.key):
            moment = self.moment(event.day, event.at)
            if self._last_moment is not None and moment <= self._last_moment:
                # Events moved onto the same working day keep their order in time too.
                moment = self._last_moment + timedelta(minutes=3)
            self._last_moment = moment
            with clock.replaying_at(moment):
                event.run()
                db.session.flush()

    # finding rows by key -------------------------------------------------------------

    def user(self, username: str) -> User:
        return db.session.get(User, self.user_ids[username])

    def acting_for(self, unit_code: str) -> User:
        if unit_code not in self.unit_users:
            raise ValueError(f"no demo account acts for unit {unit_code}")
        return self.user(self.unit_users[unit_code])

    def ticket(self, key: str) -> Ticket:
        return db.session.get(Ticket, self.ticket_ids[key])

    def _admin(self) -> User | None:
        """The administrator once there is one; before that the command line (None)."""
        return self.user("admin") if "admin" in self.user_ids else None

    # the installation: units, people, categories -------------------------------------

    def installed(self, offset: int) -> None:
        """The day the system was set up: units, accounts and categories appear then."""
        self.at(offset, "09:00", lambda: [step() for step in self._setup])

    def unit(self, code: str, name: str, kind, parent: str | None = None) -> None:
        def create():
            unit = units.create_unit(self._admin(), units.UnitDraft(
                code=code, name=name, kind=kind,
                parent_id=self.unit_ids[parent] if parent else None))
            self.unit_ids[code] = unit.id
        self._setup.append(create)

    def person(self, username: str, full_name: str, role: Role, unit: str,
               scope: str | None = None) -> None:
        """An account with the demo password, ready to log in (no forced change).
        The first unit user declared for a unit acts for it in the story."""
        if role == Role.UNIT_USER:
            self.unit_users.setdefault(unit, username)

        def create():
            user, _one_time = accounts.create_user(self._admin(), accounts.UserDraft(
                username=username, full_name=full_name, role=role,
                unit_id=self.unit_ids[unit],
                scope_unit_id=self.unit_ids[scope] if scope else None))
            user.password_hash = self._password_hash()
            user.must_change_password = False
            self.user_ids[username] = user.id
        self._setup.append(create)

    def _password_hash(self) -> str:
        if self._hash is None:
            probe = User()
            probe.set_password(DEMO_PASSWORD)  # hashed once: scrypt is slow on purpose
            self._hash = probe.password_hash
        return self._hash

    def category(self, code: str, name: str) -> None:
        """A category of the taxonomy; one that exists already (same code or name) is kept."""
        def create():
            existing = db.session.scalar(select(Category).where(
                or_(Category.code == code, Category.name == name)))
            if existing is None:
                existing = inspections.create_category(
                    self._admin(), inspections.CategoryDraft(code=code, name=name))
            self.category_ids[code] = existing.id
        self._setup.append(create)

    # inspections and findings ----------------------------------------------------------

    def inspection(self, key: str, *, registered: int, by: str, **draft) -> "InspectionPlan":
        """An inspection registered on day `registered` by the office account `by`;
        `draft` holds the fields of `inspections.InspectionDraft` (owner as a unit code)."""
        owner = draft.pop("owner")

        def create():
            inspection = inspections.create_inspection(self.user(by), inspections.InspectionDraft(
                owner_unit_id=self.unit_ids[owner], **draft))
            self.inspection_ids[key] = inspection.id
        self.at(registered, "14:30", create)
        return InspectionPlan(self, key, registered, by)


class InspectionPlan:
    def __init__(self, story: Story, key: str, registered: int, by: str) -> None:
        self.story, self.key, self.registered, self.by = story, key, registered, by

    def finding(self, number: int, title: str, *, category: str, repeats: str | None = None,
                evidence: tuple[str, ...] = (), **draft) -> "FindingPlan":
        """Finding `number` (key "<inspection>.<number>"), entered right after the inspection."""
        s, key = self.story, f"{self.key}.{number}"

        def create():
            finding = inspections.create_finding(s.user(self.by), s.inspection_ids[self.key],
                                                 inspections.FindingDraft(
                title=title, number=number, category_id=s.category_ids[category],
                required_evidence=evidence,
                repeats_finding_id=s.finding_ids[repeats] if repeats else None, **draft))
            s.finding_ids[key] = finding.id
        s.at(self.registered, "14:40", create)
        return FindingPlan(s, key, self.by)


class FindingPlan:
    def __init__(self, story: Story, key: str, by: str) -> None:
        self.story, self.key, self.by = story, key, by

    def ticket(self, key: str, *, assigned: int, lead: str, deadline: date,
               coop: tuple[str, ...] = (), planned: date | None = None,
               by: str | None = None, **draft) -> "TicketPlan":
        """A ticket on this finding led by unit `lead`, assigned on day `assigned` by the
        inspection's office (or `by`). `draft`: measures, target, responsible_person,
        timeline, as in `workflow.TicketDraft`."""
        s = self.story
        office = by or self.by

        def create():
            [ticket] = inspections.split_finding(s.user(office), s.finding_ids[self.key], [
                workflow.TicketDraft(
                    lead_unit_id=s.unit_ids[lead], deadline=deadline,
                    cooperating_unit_ids=tuple(s.unit_ids[c] for c in coop),
                    planned_completion_on=planned, **draft)])
            s.ticket_ids[key] = ticket.id
        s.at(assigned, "10:00", create, ticket=key)
        return TicketPlan(s, key, lead)


class TicketPlan:
    """The steps of one ticket, each a call of the workflow as the person who acts.
    Every method takes the day offset first and returns the plan, so steps chain."""

    def __init__(self, story: Story, key: str, lead: str) -> None:
        self.story, self.key, self.lead = story, key, lead

    def _step(self, offset: int, at: str, action: Callable[[User, Ticket], object],
              by: str | None = None) -> "TicketPlan":
        s = self.story

        def run():
            actor = s.user(by) if by else s.acting_for(self.lead)
            return action(actor, s.ticket(self.key))
        s.at(offset, at, run, ticket=self.key)
        return self

    def ack(self, offset: int, at: str = "09:40") -> "TicketPlan":
        return self._step(offset, at, lambda a, t: workflow.acknowledge(a, t.id, t.version))

    def progress(self, offset: int, text: str, percent: int | None = None, *,
                 planned: date | None = None, by: str | None = None,
                 at: str = "16:20") -> "TicketPlan":
        return self._step(offset, at, lambda a, t: workflow.add_progress(
            a, t.id, t.version, text, percent, planned), by)

    def submit(self, offset: int, at: str = "10:30") -> "TicketPlan":
        return self._step(offset, at, lambda a, t: workflow.submit(a, t.id, t.version))

    def approve(self, offset: int, by: str, note: str | None = None,
                at: str = "15:40") -> "TicketPlan":
        return self._step(offset, at, lambda a, t: workflow.approve(a, t.id, t.version, note),
                          by)

    def return_(self, offset: int, by: str, reason: str, at: str = "15:10") -> "TicketPlan":
        return self._step(offset, at, lambda a, t: workflow.return_ticket(
            a, t.id, t.version, reason), by)

    def long_term(self, offset: int, by: str, stage_goal: str, next_review_on: date,
                  cycle_days: int, at: str = "15:00") -> "TicketPlan":
        return self._step(offset, at, lambda a, t: workflow.mark_long_term(
            a, t.id, t.version, stage_goal, next_review_on, cycle_days), by)

    def extension(self, offset: int, new_deadline: date, reason: str,
                  at: str = "11:00") -> "TicketPlan":
        def ask(actor, ticket):
            request = workflow.request_extension(actor, ticket.id, ticket.version,
                                                 new_deadline, reason)
            self.story.extension_ids[self.key] = request.id
        return self._step(offset, at, ask)

    def decide(self, offset: int, by: str, approved: bool, note: str | None = None,
               at: str = "16:40") -> "TicketPlan":
        return self._step(offset, at, lambda a, t: workflow.decide_extension(
            a, self.story.extension_ids[self.key], approved, note, t.version), by)

    def decline(self, offset: int, reason: str, at: str = "10:50") -> "TicketPlan":
        return self._step(offset, at, lambda a, t: workflow.decline(a, t.id, t.version, reason))

    def cancel(self, offset: int, by: str, reason: str, at: str = "14:10") -> "TicketPlan":
        return self._step(offset, at, lambda a, t: workflow.cancel(a, t.id, t.version, reason),
                          by)

    def urge(self, offset: int, by: str, level, text: str, at: str = "09:20") -> "TicketPlan":
        """An urging notice (督办单) from the office or a supervisor in scope."""
        def issue(actor, ticket):
            notice = urgings.issue(actor, ticket.id, urgings.UrgingDraft(level=level, text=text))
            self.story.urging_ids[self.key] = notice.id
        return self._step(offset, at, issue, by)

    def acknowledge_urging(self, offset: int, response: str,
                           at: str = "11:30") -> "TicketPlan":
        return self._step(offset, at, lambda a, t: urgings.acknowledge(
            a, self.story.urging_ids[self.key], response))

    def reopen(self, offset: int, by: str, reason: str, deadline: date,
               at: str = "10:20") -> "TicketPlan":
        return self._step(offset, at, lambda a, t: workflow.reopen(
            a, t.id, t.version, reason, deadline), by)


# --- loading ----------------------------------------------------------------------------

@dataclass
class Account:
    username: str
    full_name: str
    role: str
    unit: str
    scope: str | None


@dataclass
class LoadReport:
    today: date
    units: int = 0
    inspections: int = 0
    findings: int = 0
    tickets: int = 0
    by_status: Counter = field(default_factory=Counter)
    declined: int = 0
    overdue: int = 0
    near_due: int = 0
    closed_late: int = 0
    extensions_pending: int = 0
    accounts: list[Account] = field(default_factory=list)


def load_demo(*, production: bool = False) -> LoadReport:
    """Build the demo world in the current transaction (the caller commits).

    Refused on a database that holds any unit or user, and on a production installation."""
    if production:
        raise DemoRefused("This is a production installation (TRACKER_ENV=production): "
                          "demo data is never loaded into it.")
    if not database_is_empty():
        raise DemoRefused("The database already holds units or users; demo data is only "
                          "loaded into an empty database. Use a new database for the demo.")
    story = Story(clock.today())
    demo_world.write(story)
    story.play()
    db.session.add(Setting(key=DEMO_FLAG, value="1"))
    db.session.flush()
    return summarize(story.today)


def summarize(today: date) -> LoadReport:
    """What the database holds, counted with the product's own rules."""
    report = LoadReport(today=today)
    report.units = db.session.scalar(select(func.count(Unit.id)))
    report.inspections = db.session.scalar(select(func.count(Inspection.id)))
    report.findings = db.session.scalar(select(func.count(Finding.id)))
    report.tickets = db.session.scalar(select(func.count(Ticket.id)))
    report.by_status = Counter({TicketStatus(status).value: n for status, n in db.session.execute(
        select(Ticket.status, func.count(Ticket.id)).group_by(Ticket.status))})
    days = current_app.config["NEAR_DUE_DAYS"]

    def tickets_where(condition) -> int:
        return db.session.scalar(select(func.count(Ticket.id)).where(condition))
    report.declined = tickets_where(Ticket.is_declined.is_(True))
    report.overdue = tickets_where(deadlines.overdue(today))
    report.near_due = tickets_where(deadlines.near_due(today, days))
    report.closed_late = tickets_where(deadlines.closed_late())
    report.extensions_pending = db.session.scalar(select(func.count(ExtensionRequest.id)).where(
        ExtensionRequest.status == ExtensionStatus.PENDING))
    users = db.session.scalars(select(User).order_by(User.id))
    report.accounts = [Account(u.username, u.full_name, u.role.value, u.unit.name,
                               u.scope_unit.name if u.scope_unit else None) for u in users]
    return report


__all__ = [
    "DEMO_FLAG", "DEMO_PASSWORD", "DEMO_USERNAMES", "DemoRefused", "LoadReport", "Story",
    "database_is_empty", "demo_accounts_present", "is_demo_database", "load_demo",
    "summarize",
]
