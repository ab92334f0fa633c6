"""Ticket endpoints: the list, one ticket, every workflow action, the office's edit and
extension requests. Each view parses (the `endpoint` decorator), calls the same service as
the pages with the caller as actor, commits once, and answers the ticket as it now is."""
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from tracker.api.spec import current_api_user, endpoint
from tracker.api.ticket_schemas import (
    ApproveBody,
    DeclineBody,
    ExtensionDecisionBody,
    ExtensionRequestBody,
    ExtensionRequestListQuery,
    ExtensionRequestListResponse,
    ExtensionRequestOut,
    LongTermBody,
    ProgressBody,
    ProgressResponse,
    ProgressUpdateOut,
    ReasonBody,
    ReopenBody,
    TicketListQuery,
    TicketListResponse,
    TicketOut,
    TicketPatchBody,
    VersionBody,
)
from tracker.extensions import db
from tracker.models import ExtensionRequest, ExtensionStatus, ProgressUpdate, Ticket
from tracker.services import clock, deadlines, scoping, ticket_queries, workflow
from tracker.services.errors import ValidationFailed

#: Extra status codes the write endpoints document.
WRITE_ERRORS = {409: "invalid_transition or version_conflict"}


# --- building responses -----------------------------------------------------------------

def _near_days() -> int:
    return current_app.config["NEAR_DUE_DAYS"]


def _waiting_days(ticket: Ticket, today: date) -> int | None:
    if ticket.status in deadlines.WAITING_STATES and ticket.submitted_on is not None:
        return workflow.days_between(ticket.submitted_on, today)
    return None


def extension_out(request: ExtensionRequest, ticket_version: int) -> ExtensionRequestOut:
    return ExtensionRequestOut(
        id=request.id, ticket_id=request.ticket_id, ticket_version=ticket_version,
        status=request.status, current_deadline=request.current_deadline,
        requested_deadline=request.requested_deadline, reason=request.reason,
        requested_by_id=request.requested_by_id,
        requested_by_name=request.requested_by.full_name,
        created_at=request.created_at, decided_by_id=request.decided_by_id,
        decided_at=request.decided_at, decision_note=request.decision_note)


def ticket_out(ticket: Ticket, flags: dict, cooperating_ids: list[int],
               pending: ExtensionRequest | None, today: date) -> TicketOut:
    finding = ticket.finding
    return TicketOut(
        id=ticket.id, finding_id=ticket.finding_id, finding_number=finding.number,
        finding_title=finding.title, inspection_id=finding.inspection_id,
        status=ticket.status, timeline=ticket.timeline, deadline=ticket.deadline,
        original_deadline=ticket.original_deadline,
        planned_completion_on=ticket.planned_completion_on,
        is_overdue=flags["is_overdue"], is_near_due=flags["is_near_due"], light=flags["light"],
        waiting_days=_waiting_days(ticket, today),
        lead_unit_id=ticket.lead_unit_id, lead_unit_name=ticket.lead_unit.name,
        unit_ids=[ticket.lead_unit_id, *cooperating_ids],
        cooperating_unit_ids=list(cooperating_ids),
        responsible_person=ticket.responsible_person or "", measures=ticket.measures or "",
        target=ticket.target or "", progress_percent=ticket.progress_percent,
        stage_goal=ticket.stage_goal, next_review_on=ticket.next_review_on,
        review_cycle_days=ticket.review_cycle_days, is_declined=ticket.is_declined,
        decline_reason=ticket.decline_reason, return_reason=ticket.return_reason,
        version=ticket.version, assigned_at=ticket.assigned_at,
        acknowledged_at=ticket.acknowledged_at, submitted_at=ticket.submitted_at,
        closed_at=ticket.closed_at, updated_at=ticket.updated_at,
        pending_extension=extension_out(pending, ticket.version) if pending else None)


def one_ticket(ticket: Ticket) -> TicketOut:
    """A single ticket with its flags read through the one definition in `deadlines`."""
    today = clock.today()
    flags = deadlines.ticket_flags(ticket.id, today, _near_days())
    return ticket_out(ticket, flags, [c.unit_id for c in ticket.cooperating],
                      workflow.pending_extension(ticket.id), today)


def _pending_by_ticket(ticket_ids: list[int]) -> dict[int, ExtensionRequest]:
    if not ticket_ids:
        return {}
    return {r.ticket_id: r for r in db.session.scalars(select(ExtensionRequest).where(
        ExtensionRequest.ticket_id.in_(ticket_ids),
        ExtensionRequest.status == ExtensionStatus.PENDING))}


def _committed_ticket(ticket_id: int) -> TicketOut:
    """Commit the request's one transaction, then answer the ticket as it now stands."""
    db.session.commit()
    return one_ticket(scoping.get_ticket(current_api_user(), ticket_id))


# --- reading ----------------------------------------------------------------------------

@endpoint("/tickets", "GET", "List the tickets in the caller's scope",
          query=TicketListQuery, response=TicketListResponse)
def ticket_list(query: TicketListQuery):
    """All states unless `status` narrows. Page by `page` (offset) or by `cursor` (keyset,
    stable while tickets change), never both."""
    if query.page is not None and query.cursor is not None:
        raise ValidationFailed(_("Please correct the fields listed."), {
            "cursor": [_("Use either page or cursor, not both.")]})
    flt = ticket_queries.TicketFilter(
        statuses=tuple(dict.fromkeys(query.status)), overdue=query.overdue,
        near_due=query.near_due, unit_id=query.unit, inspection_id=query.inspection,
        finding_id=query.finding, category_id=query.category,
        deadline_from=query.deadline_from, deadline_to=query.deadline_to, q=query.q or None,
        sort=query.sort)
    today = clock.today()
    try:
        result = ticket_queries.page(current_api_user(), flt, today, _near_days(),
                                     page_number=query.page or 1, per_page=query.per_page,
                                     cursor=query.cursor)
    except ValidationFailed as error:
        if "cursor" not in error.fields:
            raise
        raise ValidationFailed(_("Please correct the fields listed."), {
            "cursor": [_("Invalid cursor: start again from the first page.")]}) from None
    tickets = [row.ticket for row in result.rows]
    cooperating = ticket_queries.load_cooperating(tickets)
    pending = _pending_by_ticket([t.id for t in tickets])
    items = [ticket_out(row.ticket,
                        {"is_overdue": row.is_overdue, "is_near_due": row.is_near_due,
                         "light": row.light},
                        [u.id for u in cooperating.get(row.ticket.id, [])],
                        pending.get(row.ticket.id), today)
             for row in result.rows]
    return TicketListResponse(items=items, total=result.total,
                              total_capped=result.total_capped,
                              page=result.page if query.cursor is None else None,
                              per_page=result.per_page, next_cursor=result.next_cursor,
                              prev_cursor=result.prev_cursor)


@endpoint("/tickets/<int:ticket_id>", "GET", "One ticket", response=TicketOut)
def ticket_detail(ticket_id: int):
    return one_ticket(scoping.get_ticket(current_api_user(), ticket_id))


# --- the unit's actions -----------------------------------------------------------------

@endpoint("/tickets/<int:ticket_id>/acknowledge", "POST", "Acknowledge (签收) an assigned ticket",
          body=VersionBody, response=TicketOut, extra_responses=WRITE_ERRORS)
def ticket_acknowledge(ticket_id: int, body: VersionBody):
    workflow.acknowledge(current_api_user(), ticket_id, body.version)
    return _committed_ticket(ticket_id)


@endpoint("/tickets/<int:ticket_id>/decline", "POST", "Decline (拒签) a ticket that is not the "
          "unit's", body=DeclineBody, response=TicketOut, extra_responses=WRITE_ERRORS)
def ticket_decline(ticket_id: int, body: DeclineBody):
    workflow.decline(current_api_user(), ticket_id, body.version, body.reason)
    return _committed_ticket(ticket_id)


@endpoint("/tickets/<int:ticket_id>/progress", "POST", "Write a progress update (整改进展)",
          body=ProgressBody, response=ProgressResponse, status=201,
          extra_responses=WRITE_ERRORS)
def ticket_progress(ticket_id: int, body: ProgressBody):
    update = workflow.add_progress(current_api_user(), ticket_id, body.version, body.text,
                                   body.percent, body.planned_completion_on)
    db.session.commit()
    update = db.session.get(ProgressUpdate, update.id)
    return ProgressResponse(
        update=ProgressUpdateOut(
            id=update.id, ticket_id=update.ticket_id, author_id=update.author_id,
            author_name=update.author.full_name, unit_id=update.unit_id, text=update.text,
            percent=update.percent, created_at=update.created_at),
        ticket=one_ticket(scoping.get_ticket(current_api_user(), ticket_id)))


@endpoint("/tickets/<int:ticket_id>/submit", "POST", "Submit for sign-off (申请销号)",
          body=VersionBody, response=TicketOut, extra_responses=WRITE_ERRORS)
def ticket_submit(ticket_id: int, body: VersionBody):
    workflow.submit(current_api_user(), ticket_id, body.version)
    return _committed_ticket(ticket_id)


@endpoint("/tickets/<int:ticket_id>/extension-requests", "POST",
          "Request a later deadline (延期申请)", body=ExtensionRequestBody,
          response=ExtensionRequestOut, status=201, extra_responses=WRITE_ERRORS)
def ticket_request_extension(ticket_id: int, body: ExtensionRequestBody):
    request = workflow.request_extension(current_api_user(), ticket_id, body.version,
                                         body.deadline, body.reason)
    db.session.commit()
    return extension_out(request, request.ticket.version)


# --- decisions and the office's changes -------------------------------------------------

@endpoint("/tickets/<int:ticket_id>/approve", "POST",
          "Approve at the current sign-off level (核验/销号)", body=ApproveBody,
          response=TicketOut, extra_responses=WRITE_ERRORS)
def ticket_approve(ticket_id: int, body: ApproveBody):
    workflow.approve(current_api_user(), ticket_id, body.version, body.note)
    return _committed_ticket(ticket_id)


@endpoint("/tickets/<int:ticket_id>/return", "POST", "Return to the unit (退回) with a reason",
          body=ReasonBody, response=TicketOut, extra_responses=WRITE_ERRORS)
def ticket_return(ticket_id: int, body: ReasonBody):
    workflow.return_ticket(current_api_user(), ticket_id, body.version, body.reason)
    return _committed_ticket(ticket_id)


@endpoint("/tickets/<int:ticket_id>/long-term", "POST", "Mark as long-term (长期坚持)",
          body=LongTermBody, response=TicketOut, extra_responses=WRITE_ERRORS)
def ticket_long_term(ticket_id: int, body: LongTermBody):
    workflow.mark_long_term(current_api_user(), ticket_id, body.version, body.stage_goal,
                            body.next_review_on, body.review_cycle_days)
    return _committed_ticket(ticket_id)


@endpoint("/tickets/<int:ticket_id>/cancel", "POST", "Cancel (撤销) an open ticket",
          body=ReasonBody, response=TicketOut, extra_responses=WRITE_ERRORS)
def ticket_cancel(ticket_id: int, body: ReasonBody):
    workflow.cancel(current_api_user(), ticket_id, body.version, body.reason)
    return _committed_ticket(ticket_id)


@endpoint("/tickets/<int:ticket_id>/reopen", "POST", "Reopen a closed ticket (回头看)",
          body=ReopenBody, response=TicketOut, extra_responses=WRITE_ERRORS)
def ticket_reopen(ticket_id: int, body: ReopenBody):
    workflow.reopen(current_api_user(), ticket_id, body.version, body.reason, body.deadline)
    return _committed_ticket(ticket_id)


@endpoint("/tickets/<int:ticket_id>", "PATCH",
          "Change the lead unit, cooperating units, deadline, measures, target, responsible "
          "person or planned completion", body=TicketPatchBody, response=TicketOut,
          extra_responses=WRITE_ERRORS)
def ticket_patch(ticket_id: int, body: TicketPatchBody):
    """Only the office in scope; every other field is refused (422), so no role can set the
    status, the owner or an id through this route."""
    changed = frozenset(body.model_fields_set - {"version"})
    if not changed:
        raise ValidationFailed(_("Nothing to change."),
                               {"body": [_("Give at least one field to change.")]})
    coop = body.cooperating_unit_ids
    changes = workflow.TicketChanges(
        lead_unit_id=body.lead_unit_id,
        cooperating_unit_ids=tuple(coop) if coop is not None else None,
        deadline=body.deadline, measures=body.measures, target=body.target,
        responsible_person=body.responsible_person,
        planned_completion_on=body.planned_completion_on, fields_set=changed)
    workflow.edit_ticket(current_api_user(), ticket_id, body.version, changes)
    return _committed_ticket(ticket_id)


# --- extension requests -----------------------------------------------------------------

@endpoint("/extension-requests", "GET", "Extension requests on tickets in the caller's scope",
          query=ExtensionRequestListQuery, response=ExtensionRequestListResponse)
def extension_request_list(query: ExtensionRequestListQuery):
    """Pending ones by default, oldest first: the office's queue of decisions."""
    statement = (select(ExtensionRequest, Ticket.version)
                 .join(Ticket, Ticket.id == ExtensionRequest.ticket_id)
                 .where(scoping.ticket_clause(current_api_user()),
                        ExtensionRequest.status == query.status))
    if query.ticket is not None:
        statement = statement.where(ExtensionRequest.ticket_id == query.ticket)
    total = db.session.scalar(select(func.count()).select_from(
        statement.with_only_columns(ExtensionRequest.id).subquery()))
    rows = db.session.execute(
        statement.order_by(ExtensionRequest.created_at, ExtensionRequest.id)
        .offset((query.page - 1) * query.per_page).limit(query.per_page)).all()
    return ExtensionRequestListResponse(
        items=[extension_out(request, version) for request, version in rows],
        total=total, page=query.page, per_page=query.per_page)


def _decide(request_id: int, body: ExtensionDecisionBody, approved: bool) -> ExtensionRequestOut:
    request = workflow.decide_extension(current_api_user(), request_id, approved, body.note,
                                        body.version)
    db.session.commit()
    return extension_out(request, request.ticket.version)


@endpoint("/extension-requests/<int:request_id>/approve", "POST",
          "Approve an extension request: the deadline moves", body=ExtensionDecisionBody,
          response=ExtensionRequestOut, extra_responses=WRITE_ERRORS)
def extension_request_approve(request_id: int, body: ExtensionDecisionBody):
    return _decide(request_id, body, approved=True)


@endpoint("/extension-requests/<int:request_id>/refuse", "POST",
          "Refuse an extension request: the deadline stays", body=ExtensionDecisionBody,
          response=ExtensionRequestOut, extra_responses=WRITE_ERRORS)
def extension_request_refuse(request_id: int, body: ExtensionDecisionBody):
    return _decide(request_id, body, approved=False)
