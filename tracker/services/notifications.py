"""Who is told what: recipients, preferences, the reminder settings, and the one writer of
notifications and their outbox rows.

Everything that tells someone something (the workflow's events received here, the
reminder pass, urging notices) goes through `write(intents)`: a notification is inserted
only when its natural key is new, together with its deliveries (e-mail, work-chat), in the
caller's transaction. Nothing here commits.
"""
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Callable, Iterable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from tracker import bulk, i18n
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    Finding,
    Notification,
    NotificationDefault,
    NotificationKind,
    NotificationPreference,
    NotificationSetting,
    Role,
    Ticket,
    Unit,
    UnitClosure,
    User,
)
from tracker.prepared_statements import prepared
from tracker.services import audit, clock, events, scoping
from tracker.services import notification_messages as msg
from tracker.services.errors import Forbidden, NotFound, ValidationFailed

K = NotificationKind

# --- kinds, as people see them --------------------------------------------------------

#: Kinds a unit user receives, and kinds an office or supervisor receives.
UNIT_KINDS = (K.DUE_SOON, K.REVIEW_DUE, K.OVERDUE, K.UNACKNOWLEDGED, K.REPORT_OWED, K.URGING,
              K.URGING_UNACKNOWLEDGED, K.ASSIGNED, K.RETURNED, K.APPROVED, K.LONG_TERM,
              K.EXTENSION_DECIDED, K.DEADLINE_CHANGED, K.CANCELLED, K.REOPENED)
OVERSIGHT_KINDS = (K.ESCALATION_SUPERVISOR, K.ESCALATION_OFFICE, K.DECISION_WAITING,
                   K.EXTENSION_WAITING, K.URGING_ACKNOWLEDGED, K.DECLINED, K.SUBMITTED,
                   K.VERIFIED, K.EXTENSION_REQUESTED, K.WEEKLY_DIGEST)
#: Kinds that cannot be held for the daily digest (the digest itself, and the weekly one).
NEVER_HELD = frozenset({K.DAILY_DIGEST, K.WEEKLY_DIGEST})
#: Personal summaries never go to a unit's work-chat group.
NEVER_WEBHOOK = frozenset({K.DAILY_DIGEST, K.WEEKLY_DIGEST})


def kind_label(kind: NotificationKind | str) -> str:
    return {
        K.DUE_SOON: _("Deadline approaching"),
        K.REVIEW_DUE: _("Long-term review approaching"),
        K.OVERDUE: _("Overdue"),
        K.ESCALATION_SUPERVISOR: _("Overdue, escalated to supervisors"),
        K.ESCALATION_OFFICE: _("Overdue, escalated to the office"),
        K.UNACKNOWLEDGED: _("Not signed for"),
        K.REPORT_OWED: _("Monthly progress report owed"),
        K.DECISION_WAITING: _("Sign-off waiting for a decision"),
        K.EXTENSION_WAITING: _("Extension request waiting for a decision"),
        K.URGING_UNACKNOWLEDGED: _("Urging notice not acknowledged"),
        K.WEEKLY_DIGEST: _("Weekly digest"),
        K.DAILY_DIGEST: _("Daily digest"),
        K.URGING: _("Urging notice"),
        K.URGING_ACKNOWLEDGED: _("Urging notice acknowledged"),
        K.ASSIGNED: _("Task assigned"),
        K.DECLINED: _("Task declined"),
        K.SUBMITTED: _("Applied for sign-off"),
        K.VERIFIED: _("First-level verification passed"),
        K.RETURNED: _("Sign-off returned"),
        K.APPROVED: _("Signed off"),
        K.LONG_TERM: _("Made long-term"),
        K.EXTENSION_REQUESTED: _("Extension requested"),
        K.EXTENSION_DECIDED: _("Extension decided"),
        K.DEADLINE_CHANGED: _("Deadline changed"),
        K.CANCELLED: _("Task cancelled"),
        K.REOPENED: _("Task reopened"),
    }[NotificationKind(kind)]


def kinds_for(user: User) -> tuple[NotificationKind, ...]:
    if user.role == Role.UNIT_USER:
        return UNIT_KINDS
    if user.role in (Role.OFFICE, Role.SUPERVISOR):
        return OVERSIGHT_KINDS
    return UNIT_KINDS + OVERSIGHT_KINDS


# --- reminder settings ----------------------------------------------------------------

@dataclass(frozen=True)
class ReminderSettings:
    offsets: tuple[int, ...]
    overdue_repeat_days: int
    escalate_supervisor_days: int
    escalate_office_days: int
    unacknowledged_days: int
    decision_wait_days: int
    urging_ack_days: int
    report_day: int
    weekly_digest_weekday: int
    daily_digest_hour: int
    use_workdays: bool


#: setting -> (config key, lowest, highest)
SETTING_BOUNDS = {
    "overdue_repeat_days": ("OVERDUE_REPEAT_DAYS", 1, 90),
    "escalate_supervisor_days": ("ESCALATE_SUPERVISOR_DAYS", 1, 365),
    "escalate_office_days": ("ESCALATE_OFFICE_DAYS", 1, 365),
    "unacknowledged_days": ("UNACKNOWLEDGED_DAYS", 1, 60),
    "decision_wait_days": ("DECISION_WAIT_DAYS", 1, 90),
    "urging_ack_days": ("URGING_ACK_DAYS", 1, 60),
    "report_day": ("REPORT_DAY_OF_MONTH", 0, 28),
    "weekly_digest_weekday": ("WEEKLY_DIGEST_WEEKDAY", 0, 6),
    "daily_digest_hour": ("DAILY_DIGEST_HOUR", 0, 23),
}
MAX_OFFSET = 60


def reminder_settings() -> ReminderSettings:
    """The configured defaults, overridden by what the office saved."""
    config = current_app.config
    values: dict[str, object] = {name: int(config[key])
                                 for name, (key, _lo, _hi) in SETTING_BOUNDS.items()}
    values["offsets"] = tuple(config["REMINDER_OFFSETS"])
    values["use_workdays"] = bool(config["REMINDER_WORKDAYS"])
    for row in db.session.scalars(select(NotificationSetting)):
        if row.key == "offsets":
            values["offsets"] = tuple(int(v) for v in row.value)
        elif row.key == "use_workdays":
            values["use_workdays"] = bool(row.value)
        elif row.key in SETTING_BOUNDS:
            values[row.key] = int(row.value)
    values["offsets"] = tuple(sorted(set(values["offsets"]), reverse=True))
    return ReminderSettings(**values)


def can_manage_defaults(user: User) -> bool:
    """The organisation's defaults belong to the administrator and the top office (an
    office whose scope is a root of the unit tree)."""
    if user.role == Role.ADMIN:
        return True
    return (user.role == Role.OFFICE and user.scope_unit is not None
            and user.scope_unit.parent_id is None)


def parse_offsets(text: str | None) -> tuple[int, ...]:
    """"7,3,1,0" (commas, Chinese commas or spaces) → (7, 3, 1, 0); refuses anything else."""
    items = [p for p in (text or "").replace("，", ",").replace("、", ",").replace(" ", ",")
             .split(",") if p.strip()]
    error = ValidationFailed(_("Please correct the highlighted fields."), {"offsets": [
        _("Whole numbers of days from 0 to %(n)s, separated by commas.", n=MAX_OFFSET)]})
    if not items or len(items) > 8:
        raise error
    try:
        offsets = {int(p.strip()) for p in items}
    except ValueError:
        raise error from None
    if any(not 0 <= o <= MAX_OFFSET for o in offsets):
        raise error
    return tuple(sorted(offsets, reverse=True))


def save_settings(actor: User, changes: dict[str, object]) -> ReminderSettings:
    """Save the office's reminder rules; `changes` maps setting names to new values."""
    if not can_manage_defaults(actor):
        raise Forbidden(_("Only the administrator and the top-level office set the "
                          "organisation's reminder rules."))
    before = reminder_settings()
    errors: dict[str, list[str]] = {}
    clean: dict[str, object] = {}
    for name, value in changes.items():
        if name == "offsets":
            clean[name] = list(value if isinstance(value, (list, tuple)) else parse_offsets(value))
        elif name == "use_workdays":
            clean[name] = bool(value)
        elif name in SETTING_BOUNDS:
            _key, lo, hi = SETTING_BOUNDS[name]
            if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                errors[name] = [_("Between %(lo)s and %(hi)s.", lo=lo, hi=hi)]
            else:
                clean[name] = value
        else:
            errors[name] = [_("Unknown setting.")]
    after = replace(before, **{k: tuple(v) if k == "offsets" else v for k, v in clean.items()})
    if after.escalate_office_days < after.escalate_supervisor_days:
        errors.setdefault("escalate_office_days", []).append(
            _("The office is told no earlier than the supervisors."))
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), errors)
    for name, value in clean.items():
        row = db.session.get(NotificationSetting, name)
        if row is None:
            row = NotificationSetting(key=name)
            db.session.add(row)
        row.value = value
        row.updated_by_id = actor.id
    db.session.flush()
    audit.record(actor, "notifications.settings", "notification_settings", 0,
                 before=_settings_dict(before), after=_settings_dict(after))
    return after


def _settings_dict(settings: ReminderSettings) -> dict:
    data = dict(settings.__dict__)
    data["offsets"] = list(settings.offsets)
    return data


# --- preferences ----------------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    is_email: bool = True
    is_digest: bool = False
    is_webhook: bool = True


def builtin_default(kind: NotificationKind) -> Choice:
    return Choice(is_email=True, is_digest=False, is_webhook=kind not in NEVER_WEBHOOK)


def defaults() -> dict[NotificationKind, Choice]:
    """The organisation's default per kind: what the office saved, else the built-in one."""
    chosen = {K(k): builtin_default(K(k)) for k in K}
    for row in db.session.scalars(select(NotificationDefault)):
        chosen[row.kind] = Choice(row.is_email, row.is_digest and row.kind not in NEVER_HELD,
                                  row.is_webhook and row.kind not in NEVER_WEBHOOK)
    return chosen


#: A user's own choices, for the kinds they set explicitly.
Own = dict[NotificationKind, Choice]


def choices_for(user_ids: Iterable[int], org: dict[NotificationKind, Choice] | None = None
                ) -> dict[int, Own]:
    """For each user asked about, the kinds they set explicitly; the rest fall back to
    `org`."""
    found: dict[int, Own] = {i: {} for i in user_ids}
    if not found:
        return found
    org = org or defaults()
    for row in db.session.execute(
            select(NotificationPreference.user_id, NotificationPreference.kind,
                   NotificationPreference.is_email, NotificationPreference.is_digest)
            .where(NotificationPreference.user_id.in_(found))):
        found[row.user_id][row.kind] = Choice(
            row.is_email, row.is_digest and row.kind not in NEVER_HELD, org[row.kind].is_webhook)
    return found


def user_choices(user: User) -> dict[NotificationKind, Choice]:
    org = defaults()
    own = choices_for([user.id], org)[user.id]
    return {kind: own.get(kind, org[kind]) for kind in K}


def save_preferences(actor: User, wanted: dict[NotificationKind, tuple[bool, bool]]) -> None:
    """The user's own choices: kind → (e-mail, daily digest)."""
    current = {row.kind: row for row in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == actor.id))}
    for kind, (is_email, is_digest) in wanted.items():
        kind = NotificationKind(kind)
        row = current.get(kind)
        if row is None:
            row = NotificationPreference(user_id=actor.id, kind=kind)
            db.session.add(row)
        row.is_email = bool(is_email)
        row.is_digest = bool(is_digest) and kind not in NEVER_HELD
    db.session.flush()


def save_defaults(actor: User, wanted: dict[NotificationKind, Choice]) -> None:
    if not can_manage_defaults(actor):
        raise Forbidden(_("Only the administrator and the top-level office set the "
                          "organisation's defaults."))
    before = {k.value: c.__dict__ for k, c in defaults().items()}
    current = {row.kind: row for row in db.session.scalars(select(NotificationDefault))}
    for kind, choice in wanted.items():
        kind = NotificationKind(kind)
        row = current.get(kind)
        if row is None:
            row = NotificationDefault(kind=kind)
            db.session.add(row)
        row.is_email = choice.is_email
        row.is_digest = choice.is_digest and kind not in NEVER_HELD
        row.is_webhook = choice.is_webhook and kind not in NEVER_WEBHOOK
        row.updated_by_id = actor.id
    db.session.flush()
    after = {k.value: c.__dict__ for k, c in defaults().items()}
    audit.record(actor, "notifications.defaults", "notification_defaults", 0,
                 before=before, after=after)


# --- recipients -----------------------------------------------------------------------

@dataclass(frozen=True)
class UnitRef:
    """A unit as a recipient: its work-chat group."""

    id: int
    name: str
    webhook_url: str | None


@dataclass(frozen=True)
class Recipient:
    """A user as a notification needs them, read as plain columns: what `write` and the
    intents read of a user (who, in which language, at which address, whose group). Plain
    values stay valid across the commits of a reminder pass, which keeps them for its
    whole length."""

    id: int
    locale: str | None
    email: str | None
    unit_id: int | None
    unit: UnitRef | None


def _recipients(statement, *extra) -> Iterable[tuple]:
    """(Recipient, *extra columns) for each row of `statement`, a select of users."""
    columns = select(User.id, User.locale, User.email, User.unit_id, Unit.name,
                     Unit.webhook_url, *extra).outerjoin(Unit, Unit.id == User.unit_id)
    for row in db.session.execute(statement(columns)):
        uid, locale, email, unit_id, name, webhook, *rest = row
        unit = UnitRef(unit_id, name, webhook) if unit_id is not None else None
        yield (Recipient(uid, locale, email, unit_id, unit), *rest)


def unit_users(unit_ids: Iterable[int]) -> dict[int, list[Recipient]]:
    """Active unit users of each unit, in one query."""
    ids = set(unit_ids)
    found: dict[int, list[Recipient]] = {i: [] for i in ids}
    if not ids:
        return found
    for (user,) in _recipients(lambda q: q.where(
            User.unit_id.in_(ids), User.role == Role.UNIT_USER,
            User.is_active_user.is_(True)).order_by(User.id)):
        found[user.unit_id].append(user)
    return found


def overseers(unit_ids: Iterable[int], role: Role) -> dict[int, list[Recipient]]:
    """For each unit, the active users of `role` whose scope covers it at the nearest level
    (a county's own office before the city's, the city's before the province's)."""
    ids = set(unit_ids)
    found: dict[int, list[Recipient]] = {i: [] for i in ids}
    if not ids:
        return found
    # The nearest level is picked in SQL: every unit is covered by the province's office,
    # its city's and its county's, and only the nearest level's users are read.
    covering = (select(UnitClosure.descendant_id.label("unit_id"), User.id.label("user_id"),
                       func.rank().over(partition_by=UnitClosure.descendant_id,
                                        order_by=UnitClosure.depth).label("level"))
                .join(User, User.scope_unit_id == UnitClosure.ancestor_id)
                .where(UnitClosure.descendant_id.in_(ids), User.role == role,
                       User.is_active_user.is_(True))
                .subquery())
    for user, unit_id in _recipients(
            lambda q: q.join(covering, covering.c.user_id == User.id)
            .where(covering.c.level == 1).order_by(covering.c.unit_id, User.id),
            covering.c.unit_id):
        found[unit_id].append(user)
    return found


def deciders(ticket: Ticket, supervisors: dict[int, list[Recipient]] | None = None,
             offices: dict[int, list[Recipient]] | None = None) -> list[Recipient]:
    """Who must decide a submitted or verified ticket at its current level."""
    unit_id = ticket.lead_unit_id
    if supervisors is None:
        supervisors = overseers([unit_id], Role.SUPERVISOR)
    if offices is None:
        offices = overseers([unit_id], Role.OFFICE)
    inspection = ticket.finding.inspection
    near_supervisors, near_offices = supervisors.get(unit_id, []), offices.get(unit_id, [])
    if ticket.status == "verified":
        return near_offices
    if inspection.signoff_levels == 2:
        return near_supervisors or near_offices
    if inspection.supervisors_may_sign_off:
        return near_offices + near_supervisors
    return near_offices


# --- writing --------------------------------------------------------------------------

@dataclass
class Intent:
    """One notification that should exist: written by `write` unless it already does."""

    kind: NotificationKind
    render: Callable[[], tuple[str, str]]
    user: User | Recipient | None = None
    unit: Unit | UnitRef | None = None
    ticket_id: int | None = None
    urging_id: int | None = None
    about_on: date | None = None
    offset_days: int | None = None
    #: Further part of the natural key (the ticket version of an event, a week).
    ref: str = ""

    @property
    def dedup_key(self) -> str:
        who = f"u{self.user.id}" if self.user is not None else f"g{self.unit.id}"
        subject = (f"t{self.ticket_id}" if self.ticket_id else "") + (
            f"r{self.urging_id}" if self.urging_id else "")
        return "|".join((who, self.kind.value, subject or "-",
                         self.about_on.isoformat() if self.about_on else "-",
                         "-" if self.offset_days is None else str(self.offset_days),
                         self.ref or "-"))


def for_units(units: Iterable[Unit], kind: NotificationKind, render: Callable, *,
              people: dict[int, list[User]], exclude: User | None = None,
              **key) -> list[Intent]:
    """Intents for every user of each unit and for the unit's work-chat group."""
    intents = []
    for unit in units:
        for user in people.get(unit.id, []):
            if exclude is None or user.id != exclude.id:
                intents.append(Intent(kind=kind, render=render, user=user, **key))
        intents.append(Intent(kind=kind, render=render, unit=unit, **key))
    return intents


def for_users(users: Iterable[User], kind: NotificationKind, render: Callable, *,
              exclude: User | None = None, groups: bool = True, **key) -> list[Intent]:
    """Intents for each user, and for the work-chat group of each of their units."""
    intents, seen_units = [], set()
    for user in users:
        if exclude is not None and user.id == exclude.id:
            continue
        intents.append(Intent(kind=kind, render=render, user=user, **key))
        if groups and user.unit_id not in seen_units:
            seen_units.add(user.unit_id)
            intents.append(Intent(kind=kind, render=render, unit=user.unit, **key))
    return intents


@dataclass
class Written:
    """A notification as `write` inserted it (rows go in in bulk, so no ORM object
    is built): what the scheduler's report and the daily digest need."""

    id: int | None
    recipient_user_id: int | None
    recipient_unit_id: int | None
    kind: NotificationKind
    subject: str
    dedup_key: str


#: Keys asked for in one `IN (…)`.
KEY_CHUNK = 500


def existing_keys(keys: Iterable[str]) -> set[str]:
    """Which of these natural keys are written already (one query per KEY_CHUNK keys)."""
    keys = list(keys)
    found: set[str] = set()
    for start in range(0, len(keys), KEY_CHUNK):
        found.update(db.session.scalars(select(Notification.dedup_key).where(
            Notification.dedup_key.in_(keys[start:start + KEY_CHUNK]))))
    return found


def write(intents: list[Intent], now: datetime | None = None, *,
          org: dict[NotificationKind, Choice] | None = None,
          with_ids: bool = False, checked: bool = False,
          choices: Callable[[set[int]], dict[int, Own]] | None = None) -> list[Written]:
    """Insert the notifications whose natural key is new, each with its deliveries, in
    one bulk insert per table (`bulk.insert_rows`: COPY on PostgreSQL). Flushes; never
    commits. A concurrent writer of the same key makes the insert fail with an
    IntegrityError: the caller rolls back and runs again, finding it written.

    Group intents for a unit without a robot (or a kind the office keeps out of the
    groups) are dropped before the database is asked anything; a message is rendered only
    once its key is known to be new, and once per (render, language) however many
    recipients share it. `with_ids` also reads back the new rows' ids.

    `checked`: the caller's own query found none of these notifications written, to
    anyone (the reminder rules' anti-join on kind, ticket, date and offset), so their
    keys are not looked up again. `choices` reads the users' own choices in place of
    `choices_for` (a reminder pass reads each user's once)."""
    if not intents:
        return []
    now = now or clock.now_utc()
    org = org or defaults()
    unique: dict[str, Intent] = {}
    for intent in intents:
        if intent.user is None and not (intent.unit.webhook_url
                                        and org[intent.kind].is_webhook):
            continue  # a group without a robot hears nothing; users have their own rows
        unique.setdefault(intent.dedup_key, intent)
    if not unique:
        return []
    existing = set() if checked else existing_keys(unique)
    fresh = [(k, i) for k, i in unique.items() if k not in existing]
    if not fresh:
        return []
    users = {i.user.id for _k, i in fresh if i.user is not None}
    prefs = choices(users) if choices is not None else choices_for(users, org)
    default_locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    by_locale: dict[str, list[tuple[str, Intent]]] = {}
    for key, intent in fresh:
        locale = (intent.user.locale if intent.user is not None else None) or default_locale
        by_locale.setdefault(locale, []).append((key, intent))
    rows, outbox, written = [], {}, []
    for locale, items in by_locale.items():
        rendered: dict[int, tuple[str, str]] = {}
        with i18n.rendering(locale):
            for key, intent in items:
                text = rendered.get(id(intent.render))
                if text is None:
                    subject, body = intent.render()
                    text = rendered[id(intent.render)] = (str(subject)[:300], str(body))
                user_id = intent.user.id if intent.user is not None else None
                unit_id = intent.unit.id if intent.user is None else None
                rows.append({
                    "recipient_user_id": user_id, "recipient_unit_id": unit_id,
                    "kind": intent.kind, "ticket_id": intent.ticket_id,
                    "urging_id": intent.urging_id, "about_on": intent.about_on,
                    "offset_days": intent.offset_days, "dedup_key": key,
                    "subject": text[0], "body": text[1], "created_at": now})
                written.append(Written(None, user_id, unit_id, intent.kind, text[0], key))
                if intent.user is not None:
                    choice = prefs[intent.user.id].get(intent.kind, org[intent.kind])
                    if intent.user.email and choice.is_email:
                        outbox[key] = (DeliveryChannel.EMAIL, intent.user.email,
                                       DeliveryStatus.HELD if choice.is_digest
                                       else DeliveryStatus.PENDING)
                else:
                    outbox[key] = (DeliveryChannel.WEBHOOK, None, DeliveryStatus.PENDING)
    bulk.insert_rows(db.session, Notification.__table__, rows)
    if outbox or with_ids:
        ids = {}
        keys = [w.dedup_key for w in written]
        for start in range(0, len(keys), KEY_CHUNK):
            ids.update(db.session.execute(select(Notification.dedup_key, Notification.id).where(
                Notification.dedup_key.in_(keys[start:start + KEY_CHUNK]))).all())
        for item in written:
            item.id = ids[item.dedup_key]
        if outbox:
            bulk.insert_rows(db.session, Delivery.__table__, [
                {"notification_id": ids[key], "channel": channel, "target": target,
                 "status": status, "attempts": 0, "next_attempt_at": now, "created_at": now}
                for key, (channel, target, status) in outbox.items()])
    return written


# --- news of workflow events ----------------------------------------------------------

def _ticket(ticket: Ticket) -> Ticket:
    """The ticket with what the messages mention loaded."""
    return db.session.scalars(select(Ticket).where(Ticket.id == ticket.id).options(
        joinedload(Ticket.finding).joinedload(Finding.inspection),
        joinedload(Ticket.lead_unit))).one()


def _unit_news(ticket: Ticket, kind: NotificationKind, render, actor: User, *,
               with_cooperating: bool = False, cooperating_render=None) -> list[Intent]:
    key = {"ticket_id": ticket.id, "ref": f"v{ticket.version}"}
    units = [ticket.lead_unit]
    people = unit_users([ticket.lead_unit_id] + ([c.unit_id for c in ticket.cooperating]
                                                 if with_cooperating else []))
    intents = for_units(units, kind, render, people=people, exclude=actor, **key)
    if with_cooperating:
        for link in ticket.cooperating:
            unit_render = cooperating_render(link.unit.name) if cooperating_render else render
            intents += for_units([link.unit], kind, unit_render, people=people, exclude=actor,
                                 **key)
    return intents


def _previous_deadline(ticket: Ticket) -> date | None:
    before = db.session.scalar(select(AuditEvent.before).where(
        AuditEvent.ticket_id == ticket.id).order_by(AuditEvent.id.desc()).limit(1))
    if before and before.get("deadline"):
        return date.fromisoformat(before["deadline"])
    return None


def _offices(ticket: Ticket) -> list[Recipient]:
    return overseers([ticket.lead_unit_id], Role.OFFICE)[ticket.lead_unit_id]


def news_intents(action: str, ticket: Ticket, actor: User, data: dict) -> list[Intent]:
    """What to tell whom when the workflow reports `action` on `ticket`."""
    ticket = _ticket(ticket)
    facts = msg.TicketFacts.of(ticket)
    key = {"ticket_id": ticket.id, "ref": f"v{ticket.version}"}
    if action == "assigned":
        return _unit_news(ticket, K.ASSIGNED, lambda: msg.assigned(facts), actor,
                          with_cooperating=True,
                          cooperating_render=lambda name: lambda: msg.cooperating(facts, name))
    if action == "decline":
        return for_users(_offices(ticket), K.DECLINED,
                         lambda: msg.declined(facts, ticket.decline_reason or ""),
                         exclude=actor, **key)
    if action in ("submit", "verify"):
        kind = K.SUBMITTED if action == "submit" else K.VERIFIED
        render = (lambda: msg.submitted(facts)) if action == "submit" else (
            lambda: msg.verified(facts))
        return for_users(deciders(ticket), kind, render, exclude=actor, **key)
    if action == "return":
        return _unit_news(ticket, K.RETURNED,
                          lambda: msg.returned(facts, ticket.return_reason or ""), actor)
    if action == "approve":
        return _unit_news(ticket, K.APPROVED, lambda: msg.approved(facts), actor)
    if action == "long_term":
        return _unit_news(ticket, K.LONG_TERM,
                          lambda: msg.long_term(facts, ticket.stage_goal or ""), actor)
    if action == "request_extension":
        request = data["request"]
        return for_users(_offices(ticket), K.EXTENSION_REQUESTED,
                         lambda: msg.extension_requested(facts, request.current_deadline,
                                                         request.requested_deadline,
                                                         request.reason),
                         exclude=actor, **key)
    if action in ("extension_approved", "extension_refused"):
        request = data["request"]
        return _unit_news(ticket, K.EXTENSION_DECIDED,
                          lambda: msg.extension_decided(facts, action == "extension_approved",
                                                        request.decision_note), actor)
    if action == "edit" and data.get("deadline_moved"):
        old = _previous_deadline(ticket)
        return _unit_news(ticket, K.DEADLINE_CHANGED, lambda: msg.deadline_changed(facts, old),
                          actor, with_cooperating=True)
    if action == "cancel":
        reason = _previous_note(ticket)
        return _unit_news(ticket, K.CANCELLED, lambda: msg.cancelled(facts, reason), actor,
                          with_cooperating=True)
    if action == "reopen":
        reason = _previous_note(ticket)
        return _unit_news(ticket, K.REOPENED, lambda: msg.reopened(facts, reason), actor,
                          with_cooperating=True)
    return []


def _previous_note(ticket: Ticket) -> str:
    """The reason given with the change just recorded (cancel, reopen)."""
    return db.session.scalar(select(AuditEvent.note).where(
        AuditEvent.ticket_id == ticket.id).order_by(AuditEvent.id.desc()).limit(1)) or ""


def on_ticket_event(action: str, ticket: Ticket, actor: User, **data) -> None:
    write(news_intents(action, ticket, actor, data))


events.ticket_event.connect(on_ticket_event)


# --- the notification centre ----------------------------------------------------------

def unread_count(user: User) -> int:
    """The bell: one COUNT over an index."""
    return db.session.scalar(prepared(select(func.count(Notification.id)).where(
        Notification.recipient_user_id == user.id, Notification.read_at.is_(None)))) or 0


@dataclass
class CentrePage:
    items: list[Notification]
    next_before: int | None
    unread: int
    total: int = 0


def centre(user: User, *, unread_only: bool = False, before_id: int | None = None,
           per_page: int = 30) -> CentrePage:
    """The user's own notifications, newest first, keyset-paged by id."""
    where = [Notification.recipient_user_id == user.id]
    if unread_only:
        where.append(Notification.read_at.is_(None))
    statement = select(Notification).where(*where)
    if before_id is not None:
        statement = statement.where(Notification.id < before_id)
    rows = list(db.session.scalars(statement.order_by(Notification.id.desc())
                                   .limit(per_page + 1)))
    more = len(rows) > per_page
    rows = rows[:per_page]
    total = db.session.scalar(select(func.count(Notification.id)).where(*where)) or 0
    return CentrePage(items=rows, next_before=rows[-1].id if more else None,
                      unread=unread_count(user), total=total)


def get_own(user: User, notification_id: int) -> Notification:
    """A notification of the user's own; anyone else's does not exist (404)."""
    row = db.session.scalar(select(Notification).where(
        Notification.id == notification_id, Notification.recipient_user_id == user.id))
    if row is None:
        raise NotFound(_("Notification not found."))
    return row


def mark_read(user: User, notification_id: int) -> Notification:
    row = get_own(user, notification_id)
    if row.read_at is None:
        row.read_at = clock.now_utc()
        db.session.flush()
    return row


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.recipient_user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=clock.now_utc()).execution_options(synchronize_session=False))
    return result.rowcount or 0


def ticket_visible(user: User, ticket_id: int | None) -> bool:
    """Whether the notification's ticket is still the user's to see (scope may change)."""
    if ticket_id is None:
        return False
    return db.session.scalar(select(func.count(Ticket.id)).where(
        Ticket.id == ticket_id, scoping.ticket_clause(user))) > 0
