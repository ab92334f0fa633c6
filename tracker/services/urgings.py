"""Urging notices (督办单): the office or a supervisor in scope issues one on an open ticket at
a level (一般, 重点, 挂牌); the lead unit acknowledges it. Each step writes an audit event on
the ticket's history and tells the other side. Nothing here commits."""
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import (
    OPEN_STATUSES,
    NotificationKind,
    Role,
    Ticket,
    UrgingLevel,
    UrgingNotice,
    User,
)
from tracker.prepared_statements import prepared
from tracker.services import audit, clock, notifications, scoping, workflow
from tracker.services import notification_messages as msg
from tracker.services.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed

MAX_TEXT = 2000


@dataclass(frozen=True)
class UrgingDraft:
    level: UrgingLevel | str | None
    text: str | None
    respond_by: date | None = None


def may_issue(actor: User, ticket: Ticket) -> bool:
    return (actor.role in (Role.OFFICE, Role.SUPERVISOR)
            and ticket.status in OPEN_STATUSES
            and scoping.covers_unit(actor, ticket.lead_unit_id))


def may_acknowledge(actor: User, ticket: Ticket, urging: UrgingNotice) -> bool:
    return urging.acknowledged_at is None and workflow.is_lead(actor, ticket)


def for_ticket(ticket: Ticket) -> list[UrgingNotice]:
    """The ticket's urging notices, newest first (the caller has already found the ticket
    through the scoping rule)."""
    return list(db.session.scalars(prepared(select(UrgingNotice).where(
        UrgingNotice.ticket_id == ticket.id).order_by(UrgingNotice.id.desc()))))


def _check(draft: UrgingDraft) -> tuple[UrgingLevel, str]:
    errors: dict[str, list[str]] = {}
    level = None
    try:
        level = UrgingLevel(draft.level)
    except ValueError:
        errors["level"] = [_("Choose a level.")]
    text = (draft.text or "").strip()
    if not text:
        errors["text"] = [_("This field is required.")]
    elif len(text) > MAX_TEXT:
        errors["text"] = [_("At most %(n)s characters.", n=MAX_TEXT)]
    if draft.respond_by is not None and draft.respond_by < clock.today():
        errors["respond_by"] = [_("The date cannot be in the past.")]
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), errors)
    return level, text


def issue(actor: User, ticket_id: int, draft: UrgingDraft) -> UrgingNotice:
    ticket = scoping.get_ticket(actor, ticket_id)
    if actor.role not in (Role.OFFICE, Role.SUPERVISOR) or not scoping.covers_unit(
            actor, ticket.lead_unit_id):
        raise Forbidden(_("Only the office or a supervisor in scope issues urging notices."))
    if ticket.status not in OPEN_STATUSES:
        raise InvalidTransition(_("The ticket is no longer open."))
    level, text = _check(draft)
    urging = UrgingNotice(ticket_id=ticket.id, level=level, text=text,
                          respond_by=draft.respond_by, issued_by_id=actor.id,
                          issued_at=clock.now_utc())
    db.session.add(urging)
    db.session.flush()
    audit.record(actor, "urging.issue", "urging", urging.id, ticket_id=ticket.id,
                 after={"level": level.value, "respond_by": draft.respond_by}, note=text)
    facts = msg.TicketFacts.of(ticket)
    issuer = f"{actor.unit.name} {actor.full_name}"
    render = lambda: msg.urging(facts, issuer, level, text, draft.respond_by)  # noqa: E731
    notifications.write(notifications.for_units(
        [ticket.lead_unit], NotificationKind.URGING, render,
        people=notifications.unit_users([ticket.lead_unit_id]), exclude=actor,
        ticket_id=ticket.id, urging_id=urging.id))
    return urging


def acknowledge(actor: User, urging_id: int, response: str | None = None) -> UrgingNotice:
    urging = db.session.scalar(select(UrgingNotice).where(UrgingNotice.id == urging_id)
                               .with_for_update(of=UrgingNotice))
    if urging is None:
        raise NotFound(_("Urging notice not found."))
    ticket = scoping.get_ticket(actor, urging.ticket_id)  # outside the scope: 404
    if not workflow.is_lead(actor, ticket):
        raise Forbidden(_("Only the lead unit acknowledges urging notices."))
    if urging.acknowledged_at is not None:
        raise InvalidTransition(_("This urging notice has already been acknowledged."))
    response = (response or "").strip() or None
    if response and len(response) > MAX_TEXT:
        raise ValidationFailed(_("Please correct the highlighted fields."),
                               {"response": [_("At most %(n)s characters.", n=MAX_TEXT)]})
    urging.acknowledged_at = clock.now_utc()
    urging.acknowledged_by_id = actor.id
    urging.response = response
    db.session.flush()
    audit.record(actor, "urging.acknowledge", "urging", urging.id, ticket_id=ticket.id,
                 note=response)
    facts = msg.TicketFacts.of(ticket)
    notifications.write(notifications.for_users(
        [urging.issued_by], NotificationKind.URGING_ACKNOWLEDGED,
        lambda: msg.urging_acknowledged(facts, response), groups=False,
        ticket_id=ticket.id, urging_id=urging.id))
    return urging
