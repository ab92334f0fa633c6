"""The ticket's life (DOMAIN.md, "A ticket's life"): every transition, once.

Each operation takes the acting user, finds the ticket through the scoping rule (outside
the scope it does not exist: 404), checks the role (403), the version (409 conflict) and
the state (409 invalid transition), changes the ticket, writes one audit event, flushes and
emits the event. Nothing here commits: the caller (request, CLI, job) commits once.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import flag_modified

from tracker.extensions import db
from tracker.models import (
    OPEN_STATUSES,
    ExtensionRequest,
    ExtensionStatus,
    Finding,
    NotificationKind,
    ProgressUpdate,
    Role,
    Ticket,
    TicketStatus,
    TicketUnit,
    TimelineKind,
    Unit,
    UnitClosure,
    User,
)
from tracker.services import audit, clock, events, notifications, scoping
from tracker.services import notification_messages as msg
from tracker.services.errors import (
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationFailed,
    VersionConflict,
)

S = TicketStatus
MAX_TEXT = 5000
MAX_REASON = 1000

#: Hook for the evidence module: returns the finding's required items still missing.
missing_evidence_check = None


# --- who is who -------------------------------------------------------------------------

def is_lead(actor: User, ticket: Ticket) -> bool:
    return actor.role == Role.UNIT_USER and actor.unit_id == ticket.lead_unit_id


def is_member(actor: User, ticket: Ticket) -> bool:
    return actor.role == Role.UNIT_USER and actor.unit_id in ticket.unit_ids


def is_office_in_scope(actor: User, ticket: Ticket) -> bool:
    return actor.role == Role.OFFICE and scoping.covers_unit(actor, ticket.lead_unit_id)


def supervisor_covers(unit_id: int) -> bool:
    """Whether any active supervisor's scope covers the unit."""
    return db.session.scalar(
        select(func.count(User.id)).where(
            User.role == Role.SUPERVISOR, User.is_active_user.is_(True),
            User.scope_unit_id.in_(
                select(scoping.UnitClosure.ancestor_id).where(
                    scoping.UnitClosure.descendant_id == unit_id)
            ),
        )
    ) > 0


def decision_levels(actor: User, ticket: Ticket) -> tuple[TicketStatus, ...]:
    """The states in which the actor decides (approves or returns) the ticket: one per level
    of the inspection's sign-off chain that is theirs."""
    if actor.role not in (Role.OFFICE, Role.SUPERVISOR) or not scoping.covers_unit(
            actor, ticket.lead_unit_id):
        return ()
    inspection = ticket.finding.inspection
    is_office = actor.role == Role.OFFICE
    if inspection.signoff_levels == 1:
        return (S.SUBMITTED,) if is_office or inspection.supervisors_may_sign_off else ()
    # Two levels: a supervisor verifies first (the office when no supervisor covers the
    # unit), the office closes.
    first = not is_office or not supervisor_covers(ticket.lead_unit_id)
    return ((S.SUBMITTED,) if first else ()) + ((S.VERIFIED,) if is_office else ())


def can_approve(actor: User, ticket: Ticket) -> bool:
    """Whether the actor may approve (or return) the ticket at its current level."""
    return ticket.status in decision_levels(actor, ticket)


def may_decide(actor: User, ticket: Ticket) -> bool:
    """The permission behind approve and return: the current level is the actor's; a ticket
    not waiting for a decision is refused as a wrong state to anyone who decides at some
    level, as forbidden to everyone else."""
    levels = decision_levels(actor, ticket)
    if ticket.status in (S.SUBMITTED, S.VERIFIED):
        return ticket.status in levels
    return bool(levels)


# --- common steps -----------------------------------------------------------------------

def _load(actor: User, ticket_id: int) -> Ticket:
    return scoping.get_ticket(actor, ticket_id, for_update=True)


def _check_version(ticket: Ticket, version: int | None) -> None:
    if version is None:
        raise ValidationFailed(_("The version is required."), {"version": [_("Required.")]})
    if version != ticket.version:
        raise VersionConflict(
            _("This ticket was changed by someone else (version %(theirs)s, yours %(yours)s). "
              "Reload it and try again.", theirs=ticket.version, yours=version))


def _check_state(ticket: Ticket, allowed: tuple[TicketStatus, ...], action: str) -> None:
    if ticket.status not in allowed:
        raise InvalidTransition(
            _("“%(action)s” is not possible while the ticket is %(status)s.",
              action=action_label(action), status=status_label(ticket.status)))


def _text(value: str | None, name: str, *, limit: int = MAX_TEXT, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(_("Please fill in all required fields."),
                               {name: [_("This field is required.")]})
    if len(value) > limit:
        raise ValidationFailed(_("Please correct the highlighted fields."),
                               {name: [_("At most %(n)s characters.", n=limit)]})
    return value


def _finish(actor: User, ticket: Ticket, action: str, before: dict, *, note: str | None = None,
            recorded_as: str | None = None, recorded_extra: dict | None = None,
            **data) -> Ticket:
    """Close an action: a new version of the ticket, its audit event (named `recorded_as`
    when the record should say more than the action, with `recorded_extra` beside the
    ticket's new values) and the event the notifications listen to."""
    # Every change is a new version of the ticket, also one that only adds rows beside it
    # (a progress update, an extension request) or sets a value it already had: the flush
    # always updates the row, even when the clock has not moved since the last change.
    ticket.updated_at = clock.now_utc()
    flag_modified(ticket, "updated_at")
    after = audit.snapshot(ticket)
    db.session.flush()
    after["version"] = ticket.version
    audit.record(actor, f"ticket.{recorded_as or action}", "ticket", ticket.id,
                 ticket_id=ticket.id, before=before, after={**after, **(recorded_extra or {})},
                 note=note)
    db.session.flush()
    events.emit(action, ticket, actor, **data)
    return ticket


def _begin(actor: User, ticket_id: int, version: int | None, permitted, action: str,
           allowed: tuple[TicketStatus, ...]) -> tuple[Ticket, dict]:
    ticket = _load(actor, ticket_id)
    if not permitted(actor, ticket):
        raise Forbidden(_("You may not %(action)s this ticket.", action=action_label(action)))
    _check_version(ticket, version)
    _check_state(ticket, allowed, action)
    return ticket, audit.snapshot(ticket)


# --- the unit's actions -----------------------------------------------------------------

def _take_on(ticket: Ticket) -> None:
    """The lead unit signs for an assigned ticket (签收): work starts, long-term work as such."""
    ticket.status = S.LONG_TERM if ticket.timeline == TimelineKind.LONG_TERM else S.IN_PROGRESS
    ticket.acknowledged_at = clock.now_utc()
    ticket.is_declined = False


def acknowledge(actor: User, ticket_id: int, version: int | None) -> Ticket:
    ticket, before = _begin(actor, ticket_id, version, is_lead, "acknowledge", (S.ASSIGNED,))
    _take_on(ticket)
    return _finish(actor, ticket, "acknowledge", before)


def decline(actor: User, ticket_id: int, version: int | None, reason: str | None) -> Ticket:
    ticket, before = _begin(actor, ticket_id, version, is_lead, "decline", (S.ASSIGNED,))
    reason = _text(reason, "reason", limit=MAX_REASON)
    ticket.is_declined = True
    ticket.decline_reason = reason
    return _finish(actor, ticket, "decline", before, note=reason)


def add_progress(actor: User, ticket_id: int, version: int | None, text: str | None,
                 percent: int | None = None, planned_completion_on: date | None = None
                 ) -> ProgressUpdate:
    ticket, before = _begin(actor, ticket_id, version, is_member, "progress",
                            (S.ASSIGNED, S.IN_PROGRESS, S.RETURNED, S.LONG_TERM))
    text = _text(text, "text")
    lead = is_lead(actor, ticket)
    if percent is not None:
        if not lead:
            raise Forbidden(_("Only the lead unit sets the progress percent."))
        if not 0 <= percent <= 100:
            raise ValidationFailed(_("Please correct the highlighted fields."),
                                   {"percent": [_("Between 0 and 100.")]})
        ticket.progress_percent = percent
    if planned_completion_on is not None:
        if not lead:
            raise Forbidden(_("Only the lead unit sets the planned completion date."))
        ticket.planned_completion_on = planned_completion_on
    if lead and ticket.status == S.ASSIGNED:
        _take_on(ticket)  # a first progress update signs for the ticket
    elif lead and ticket.status == S.RETURNED:
        ticket.status = S.IN_PROGRESS
    update = ProgressUpdate(ticket_id=ticket.id, author_id=actor.id, unit_id=actor.unit_id,
                            text=text, percent=percent)
    db.session.add(update)
    _finish(actor, ticket, "progress", before, note=text[:200], update=update)
    return update


def submit(actor: User, ticket_id: int, version: int | None) -> Ticket:
    ticket, before = _begin(actor, ticket_id, version, is_lead, "submit",
                            (S.IN_PROGRESS, S.RETURNED, S.LONG_TERM))
    has_progress = db.session.scalar(
        select(func.count(ProgressUpdate.id)).where(ProgressUpdate.ticket_id == ticket.id))
    if not has_progress:
        raise InvalidTransition(_("Write a progress update before submitting for sign-off."))
    if missing_evidence_check is not None:
        missing = missing_evidence_check(ticket)
        if missing:
            raise InvalidTransition(_("Evidence still missing: %(items)s",
                                      items="、".join(missing)))
    ticket.status = S.SUBMITTED
    ticket.submitted_at = clock.now_utc()
    ticket.submitted_on = clock.today()
    ticket.deadline_at_submission = ticket.deadline
    ticket.return_reason = None
    return _finish(actor, ticket, "submit", before)


def request_extension(actor: User, ticket_id: int, version: int | None,
                      new_deadline: date | None, reason: str | None) -> ExtensionRequest:
    ticket, before = _begin(actor, ticket_id, version, is_lead, "request_extension",
                            (S.ASSIGNED, S.IN_PROGRESS, S.RETURNED, S.LONG_TERM))
    reason = _text(reason, "reason", limit=MAX_REASON)
    if new_deadline is None:
        raise ValidationFailed(_("Please fill in all required fields."),
                               {"deadline": [_("This field is required.")]})
    if new_deadline <= ticket.deadline:
        raise ValidationFailed(_("Please correct the highlighted fields."),
                               {"deadline": [_("The new deadline must be later than the "
                                               "current one.")]})
    if pending_extension(ticket.id) is not None:
        raise InvalidTransition(_("An extension request is already waiting for a decision."))
    request = ExtensionRequest(ticket=ticket, requested_by_id=actor.id,
                               current_deadline=ticket.deadline,
                               requested_deadline=new_deadline, reason=reason)
    db.session.add(request)
    _finish(actor, ticket, "request_extension", before, note=reason, request=request)
    return request


def pending_extension(ticket_id: int) -> ExtensionRequest | None:
    # No autoflush: asked in the middle of a change, it must not write the ticket early
    # (each flush of a changed ticket is one more version).
    with db.session.no_autoflush:
        return db.session.scalar(select(ExtensionRequest).where(
            ExtensionRequest.ticket_id == ticket_id,
            ExtensionRequest.status == ExtensionStatus.PENDING))


def _close_pending_extension(ticket: Ticket, actor: User, note: str) -> None:
    """A ticket that leaves the open states takes no extension: a waiting request is closed
    as refused, with the reason, so that it leaves the office's queue."""
    request = pending_extension(ticket.id)
    if request is not None:
        request.status = ExtensionStatus.REFUSED
        request.decided_by_id = actor.id
        request.decided_at = clock.now_utc()
        request.decision_note = note


# --- decisions --------------------------------------------------------------------------

def approve(actor: User, ticket_id: int, version: int | None, note: str | None = None) -> Ticket:
    ticket, before = _begin(actor, ticket_id, version, may_decide, "approve",
                            (S.SUBMITTED, S.VERIFIED))
    note = _text(note, "note", limit=MAX_REASON, required=False) or None
    two_levels = ticket.finding.inspection.signoff_levels == 2
    if two_levels and ticket.status == S.SUBMITTED:
        ticket.status = S.VERIFIED
        action = "verify"
    else:
        ticket.status = S.CLOSED
        ticket.closed_at = clock.now_utc()
        ticket.progress_percent = 100
        _close_pending_extension(ticket, actor, _("The ticket was signed off."))
        action = "approve"
    return _finish(actor, ticket, action, before, note=note)


def return_ticket(actor: User, ticket_id: int, version: int | None, reason: str | None) -> Ticket:
    ticket, before = _begin(actor, ticket_id, version, may_decide, "return",
                            (S.SUBMITTED, S.VERIFIED))
    reason = _text(reason, "reason", limit=MAX_REASON)
    ticket.status = S.RETURNED
    ticket.return_reason = reason
    return _finish(actor, ticket, "return", before, note=reason)


def mark_long_term(actor: User, ticket_id: int, version: int | None, stage_goal: str | None,
                   next_review_on: date | None, review_cycle_days: int | None) -> Ticket:
    ticket, before = _begin(actor, ticket_id, version, is_office_in_scope, "long_term",
                            (S.IN_PROGRESS, S.RETURNED))
    stage_goal = _text(stage_goal, "stage_goal")
    errors = {}
    if next_review_on is None:
        errors["next_review_on"] = [_("This field is required.")]
    elif next_review_on < clock.today():
        errors["next_review_on"] = [_("The review date cannot be in the past.")]
    if review_cycle_days is None or not 1 <= review_cycle_days <= 366:
        errors["review_cycle_days"] = [_("Between 1 and 366 days.")]
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), errors)
    ticket.status = S.LONG_TERM
    ticket.timeline = TimelineKind.LONG_TERM
    ticket.stage_goal = stage_goal
    ticket.next_review_on = next_review_on
    ticket.review_cycle_days = review_cycle_days
    return _finish(actor, ticket, "long_term", before)


def decide_extension(actor: User, request_id: int, approved: bool, note: str | None = None,
                     version: int | None = None) -> ExtensionRequest:
    """The office approves (the deadline moves, the original stays) or refuses a request.
    `version` is the ticket's: it is required like every write's."""
    request = db.session.get(ExtensionRequest, request_id)
    if request is None:
        raise NotFound(_("Extension request not found."))
    ticket = _load(actor, request.ticket_id)  # 404 outside the scope
    if not is_office_in_scope(actor, ticket):
        raise Forbidden(_("Only the office decides extension requests."))
    _check_version(ticket, version)
    if request.status != ExtensionStatus.PENDING:
        raise InvalidTransition(_("This extension request has already been decided."))
    if ticket.status not in OPEN_STATUSES:
        raise InvalidTransition(_("The ticket is no longer open."))
    decision_note = _text(note, "note", limit=MAX_REASON, required=False) or None
    before = audit.snapshot(ticket)
    request.status = ExtensionStatus.APPROVED if approved else ExtensionStatus.REFUSED
    request.decided_by_id = actor.id
    request.decided_at = clock.now_utc()
    request.decision_note = decision_note
    if approved:
        ticket.deadline = request.requested_deadline
    _finish(actor, ticket, "extension_approved" if approved else "extension_refused", before,
            note=decision_note, request=request)
    return request


# --- the office's edits -----------------------------------------------------------------

@dataclass(frozen=True)
class TicketDraft:
    """One ticket to create on a finding."""

    lead_unit_id: int
    deadline: date
    cooperating_unit_ids: tuple[int, ...] = ()
    measures: str = ""
    target: str = ""
    responsible_person: str = ""
    timeline: TimelineKind = TimelineKind.BY_DATE
    planned_completion_on: date | None = None


@dataclass(frozen=True)
class TicketChanges:
    """The office's edit of an open ticket; None leaves a field as it is."""

    lead_unit_id: int | None = None
    cooperating_unit_ids: tuple[int, ...] | None = None
    deadline: date | None = None
    measures: str | None = None
    target: str | None = None
    responsible_person: str | None = None
    planned_completion_on: date | None = None
    fields_set: frozenset[str] = field(default_factory=frozenset)


def _check_units(actor: User, lead_unit_id: int, cooperating: tuple[int, ...]) -> None:
    """An active lead unit in the actor's scope, known active cooperating units, none twice
    and none also the lead; ValidationFailed at the fields otherwise."""
    units = {unit_id: db.session.get(Unit, unit_id) for unit_id in {lead_unit_id, *cooperating}}
    covered = {lead_unit_id} if scoping.covers_unit(actor, lead_unit_id) else set()
    _check_units_known(lead_unit_id, cooperating, units, covered)


def _check_deadline(finding: Finding, deadline: date | None, name: str = "deadline") -> None:
    if deadline is None:
        raise ValidationFailed(_("Please fill in all required fields."),
                               {name: [_("This field is required.")]})
    if deadline < finding.inspection.feedback_on:
        raise ValidationFailed(_("Please correct the highlighted fields."), {
            name: [_("The deadline cannot be before the feedback date (%(d)s).",
                     d=finding.inspection.feedback_on.isoformat())]})


def create_tickets(actor: User, finding_id: int, drafts: list[TicketDraft]) -> list[Ticket]:
    """Split a finding into tickets, one per lead unit (拆分整改任务)."""
    finding = scoping.get_finding(actor, finding_id)
    if actor.role != Role.OFFICE or not scoping.covers_unit(
            actor, finding.inspection.owner_unit_id):
        raise Forbidden(_("Only the office that runs the inspection assigns its tickets."))
    if not drafts:
        raise ValidationFailed(_("Add at least one unit."), {"lead_unit_id": [_("Required.")]})
    leads = [d.lead_unit_id for d in drafts]
    if len(set(leads)) != len(leads):
        raise ValidationFailed(_("Please correct the highlighted fields."),
                               {"lead_unit_id": [_("A unit is listed twice.")]})
    created = []
    for draft in drafts:
        _check_units(actor, draft.lead_unit_id, draft.cooperating_unit_ids)
        _check_deadline(finding, draft.deadline)
        ticket = Ticket(
            finding=finding,
            lead_unit_id=draft.lead_unit_id,
            deadline=draft.deadline,
            original_deadline=draft.deadline,
            measures=_text(draft.measures, "measures", required=False),
            target=_text(draft.target, "target", required=False),
            responsible_person=_text(draft.responsible_person, "responsible_person",
                                     limit=100, required=False),
            timeline=draft.timeline,
            planned_completion_on=draft.planned_completion_on,
            status=S.ASSIGNED,
            assigned_at=clock.now_utc(),
            cooperating=[TicketUnit(unit_id=u) for u in draft.cooperating_unit_ids],
        )
        if draft.timeline == TimelineKind.LONG_TERM:
            ticket.next_review_on = draft.deadline
            ticket.review_cycle_days = 90
        db.session.add(ticket)
        db.session.flush()
        audit.record(actor, "ticket.create", "ticket", ticket.id, ticket_id=ticket.id,
                     after=audit.snapshot(ticket))
        events.emit("assigned", ticket, actor)
        created.append(ticket)
    return created


def create_tickets_bulk(actor: User, items: list[tuple[int, TicketDraft]]) -> list[Ticket]:
    """Tickets for many findings at once (a problem-list import): the same checks, one
    audit event each and the same "assigned" news as `create_tickets`, but the scope is
    asked once for the set of findings and units, and tickets, their units, audit events
    and notifications are written with multi-row INSERTs. Nothing is written unless every
    draft passes. Returns the tickets in the order of `items`."""
    if not items:
        return []
    finding_ids = {finding_id for finding_id, _draft in items}
    findings = {f.id: f for f in db.session.scalars(
        scoping.findings(actor).where(Finding.id.in_(finding_ids))
        .options(joinedload(Finding.inspection)))}
    if len(findings) != len(finding_ids):
        raise NotFound(_("Finding not found."))
    owners = {f.inspection.owner_unit_id for f in findings.values()}
    covered = _covered(actor, owners | {d.lead_unit_id for _f, d in items})
    if actor.role != Role.OFFICE or not owners <= covered:
        raise Forbidden(_("Only the office that runs the inspection assigns its tickets."))
    leads_of: dict[int, list[int]] = {}
    for finding_id, draft in items:
        leads_of.setdefault(finding_id, []).append(draft.lead_unit_id)
    if any(len(set(leads)) != len(leads) for leads in leads_of.values()):
        raise ValidationFailed(_("Please correct the highlighted fields."),
                               {"lead_unit_id": [_("A unit is listed twice.")]})
    unit_ids = {d.lead_unit_id for _f, d in items} | {
        u for _f, d in items for u in d.cooperating_unit_ids}
    units = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))}
    now = clock.now_utc()
    tickets = []
    for finding_id, draft in items:
        _check_units_known(draft.lead_unit_id, draft.cooperating_unit_ids, units, covered)
        finding = findings[finding_id]
        _check_deadline(finding, draft.deadline)
        ticket = Ticket(
            finding_id=finding_id, lead_unit_id=draft.lead_unit_id, deadline=draft.deadline,
            original_deadline=draft.deadline,
            measures=_text(draft.measures, "measures", required=False),
            target=_text(draft.target, "target", required=False),
            responsible_person=_text(draft.responsible_person, "responsible_person",
                                     limit=100, required=False),
            timeline=draft.timeline, planned_completion_on=draft.planned_completion_on,
            status=S.ASSIGNED, assigned_at=now,
            cooperating=[TicketUnit(unit_id=u) for u in draft.cooperating_unit_ids])
        if draft.timeline == TimelineKind.LONG_TERM:
            ticket.next_review_on = draft.deadline
            ticket.review_cycle_days = 90
        tickets.append(ticket)
    db.session.add_all(tickets)
    db.session.flush()  # batched INSERTs; the ids come back
    audit.record_many(actor, [
        {"action": "ticket.create", "object_type": "ticket", "object_id": t.id,
         "ticket_id": t.id, "after": audit.snapshot(t)} for t in tickets])
    # The news `create_tickets` emits one by one ("assigned"), written at once.
    people = notifications.unit_users(unit_ids)
    intents = []
    for ticket in tickets:
        finding = findings[ticket.finding_id]
        lead = units[ticket.lead_unit_id]
        facts = msg.TicketFacts(
            ticket_id=ticket.id, title=finding.title, unit=lead.name, deadline=ticket.deadline,
            next_review_on=ticket.next_review_on, person=ticket.responsible_person or "",
            inspection=finding.inspection.title,
            document_number=finding.inspection.document_number or "", is_long_term=False)
        key = {"ticket_id": ticket.id, "ref": f"v{ticket.version}"}
        intents += notifications.for_units([lead], NotificationKind.ASSIGNED,
                                           lambda f=facts: msg.assigned(f), people=people,
                                           exclude=actor, **key)
        for link in ticket.cooperating:
            name = units[link.unit_id].name
            intents += notifications.for_units(
                [units[link.unit_id]], NotificationKind.ASSIGNED,
                lambda f=facts, n=name: msg.cooperating(f, n), people=people, exclude=actor,
                **key)
    notifications.write(intents, now)
    return tickets


def _covered(actor: User, unit_ids: set[int]) -> set[int]:
    """Which of these units `scoping.covers_unit` would say the actor covers: one query."""
    if not unit_ids or not actor.is_active or actor.role not in (Role.OFFICE, Role.SUPERVISOR) \
            or actor.scope_unit_id is None:
        return set(unit_ids) if actor.is_active and actor.role == Role.ADMIN else set()
    return set(db.session.scalars(select(UnitClosure.descendant_id).where(
        UnitClosure.ancestor_id == actor.scope_unit_id,
        UnitClosure.descendant_id.in_(unit_ids))))


def _check_units_known(lead_unit_id: int, cooperating: tuple[int, ...],
                       units: dict[int, Unit], covered: set[int]) -> None:
    """`_check_units` over units read beforehand and the coverage asked beforehand."""
    errors = {}
    lead = units.get(lead_unit_id)
    if lead is None or not lead.is_active or lead_unit_id not in covered:
        errors["lead_unit_id"] = [_("Choose an active unit within your scope.")]
    for unit_id in cooperating:
        unit = units.get(unit_id)
        if unit is None or not unit.is_active:
            errors["cooperating_unit_ids"] = [_("Unknown unit: %(id)s", id=unit_id)]
        elif unit_id == lead_unit_id:
            errors["cooperating_unit_ids"] = [_("The lead unit cannot also cooperate.")]
    if len(set(cooperating)) != len(cooperating):
        errors["cooperating_unit_ids"] = [_("A unit is listed twice.")]
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), errors)


def edit_ticket(actor: User, ticket_id: int, version: int | None,
                changes: TicketChanges) -> Ticket:
    """The office changes an open ticket; its state stays as it is. Everything is checked
    before anything changes, so a refused edit leaves the ticket untouched."""
    ticket, before = _begin(actor, ticket_id, version, is_office_in_scope, "edit",
                            tuple(OPEN_STATUSES))
    lead = ticket.lead_unit_id if changes.lead_unit_id is None else changes.lead_unit_id
    lead_changed = lead != ticket.lead_unit_id
    coop = None
    if lead_changed or changes.cooperating_unit_ids is not None:
        coop = (changes.cooperating_unit_ids if changes.cooperating_unit_ids is not None
                else tuple(u for u in ticket.unit_ids[1:] if u != lead))
        _check_units(actor, lead, coop)
    if changes.deadline is not None:
        _check_deadline(ticket.finding, changes.deadline)
    texts = {name: _text(getattr(changes, name), name, required=False,
                         limit=100 if name == "responsible_person" else MAX_TEXT)
             for name in ("measures", "target", "responsible_person")
             if getattr(changes, name) is not None}

    ticket.lead_unit_id = lead
    if coop is not None and [c.unit_id for c in ticket.cooperating] != list(coop):
        ticket.cooperating = [TicketUnit(unit_id=u) for u in coop]
    if changes.deadline is not None:
        ticket.deadline = changes.deadline
    for name, value in texts.items():
        setattr(ticket, name, value)
    if changes.planned_completion_on is not None:
        ticket.planned_completion_on = changes.planned_completion_on
    if lead_changed:
        # Reassignment (after a decline, or a correction): the decline is settled.
        ticket.is_declined = False
        ticket.decline_reason = None
    deadline_moved = before["deadline"] != ticket.deadline.isoformat()
    _finish(actor, ticket, "edit", before, deadline_moved=deadline_moved,
            lead_changed=lead_changed)
    if lead_changed:
        events.emit("assigned", ticket, actor)
    return ticket


def cancel(actor: User, ticket_id: int, version: int | None, reason: str | None) -> Ticket:
    ticket, before = _begin(actor, ticket_id, version, is_office_in_scope, "cancel",
                            tuple(OPEN_STATUSES))
    reason = _text(reason, "reason", limit=MAX_REASON)
    ticket.status = S.CANCELLED
    _close_pending_extension(ticket, actor, reason)
    return _finish(actor, ticket, "cancel", before, note=reason)


def reopen(actor: User, ticket_id: int, version: int | None, reason: str | None,
           deadline: date | None) -> Ticket:
    ticket, before = _begin(actor, ticket_id, version, is_office_in_scope, "reopen",
                            (S.CLOSED,))
    reason = _text(reason, "reason", limit=MAX_REASON)
    if deadline is None or deadline < clock.today():
        raise ValidationFailed(_("Please correct the highlighted fields."),
                               {"deadline": [_("Give a new deadline from today on.")]})
    ticket.status = S.IN_PROGRESS
    ticket.deadline = deadline
    ticket.closed_at = None
    ticket.submitted_on = None
    ticket.deadline_at_submission = None
    return _finish(actor, ticket, "reopen", before, note=reason)


# --- labels -----------------------------------------------------------------------------

#: Labels are lazy strings, so that a call translates only the label it returns (a list
#: page asks for one per row).
STATUS_LABELS = {
    S.ASSIGNED: _l("assigned"),
    S.IN_PROGRESS: _l("in progress"),
    S.SUBMITTED: _l("submitted"),
    S.VERIFIED: _l("verified"),
    S.RETURNED: _l("returned"),
    S.CLOSED: _l("closed"),
    S.LONG_TERM: _l("long-term"),
    S.CANCELLED: _l("cancelled"),
}

ACTION_LABELS = {
    "acknowledge": _l("acknowledge"),
    "decline": _l("decline"),
    "progress": _l("write progress on"),
    "submit": _l("submit"),
    "approve": _l("approve"),
    "return": _l("return"),
    "long_term": _l("mark as long-term"),
    "request_extension": _l("request an extension for"),
    "edit": _l("edit"),
    "cancel": _l("cancel"),
    "reopen": _l("reopen"),
}


def status_label(status: TicketStatus | str) -> str:
    return str(STATUS_LABELS[TicketStatus(status)])


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return action if label is None else str(label)


def days_between(start: date, end: date) -> int:
    return (end - start) // timedelta(days=1)


# --- the office's entry of a unit's progress (roll-up: ledger reconciliation) ------------

def add_progress_on_behalf(actor: User, ticket_id: int, version: int | None, unit_id: int,
                           text: str | None, percent: int | None = None,
                           planned_completion_on: date | None = None) -> ProgressUpdate:
    """Progress a unit reported offline (a returned ledger, 对账), entered by the office in
    scope on the unit's behalf. Same states and checks as `add_progress`; the update names
    the unit, its author is the office user, and the audit event says "on behalf"."""
    ticket, before = _begin(actor, ticket_id, version, is_office_in_scope, "progress",
                            (S.ASSIGNED, S.IN_PROGRESS, S.RETURNED, S.LONG_TERM))
    if unit_id not in ticket.unit_ids:
        raise ValidationFailed(_("Please correct the highlighted fields."),
                               {"unit_id": [_("Not a unit of this ticket.")]})
    text = _text(text, "text")
    lead = unit_id == ticket.lead_unit_id
    if (percent is not None or planned_completion_on is not None) and not lead:
        raise Forbidden(_("Only the lead unit sets the progress percent."))
    if percent is not None:
        if not 0 <= percent <= 100:
            raise ValidationFailed(_("Please correct the highlighted fields."),
                                   {"percent": [_("Between 0 and 100.")]})
        ticket.progress_percent = percent
    if planned_completion_on is not None:
        ticket.planned_completion_on = planned_completion_on
    if lead and ticket.status == S.ASSIGNED:
        _take_on(ticket)
    elif lead and ticket.status == S.RETURNED:
        ticket.status = S.IN_PROGRESS
    update = ProgressUpdate(ticket_id=ticket.id, author_id=actor.id, unit_id=unit_id,
                            text=text, percent=percent)
    db.session.add(update)
    unit = db.session.get(Unit, unit_id)
    _finish(actor, ticket, "progress", before, recorded_as="progress_on_behalf",
            recorded_extra={"on_behalf_of_unit_id": unit_id},
            note=_("On behalf of %(unit)s: %(text)s", unit=unit.name, text=text)[:200],
            update=update, on_behalf_of=unit_id)
    return update
