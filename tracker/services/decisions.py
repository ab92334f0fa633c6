"""What awaits a user's decision (待我处理), as SQL conditions on the tickets table.

`awaiting_approval(user)` is `workflow.can_approve` written as one SQL condition, so the
queue filters, counts and pages in the database instead of looping over every ticket in
Python. The two must agree; tests check them against each other. Callers still ask
`workflow.can_approve` for the rows they show, so the page never offers a button the
service would refuse.
"""
from sqlalchemy import and_, exists, false, or_
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from tracker.models import (
    OPEN_STATUSES,
    ExtensionRequest,
    ExtensionStatus,
    Finding,
    Inspection,
    Role,
    Ticket,
    TicketStatus,
    UnitClosure,
    User,
)
from tracker.services import scoping

S = TicketStatus


def _inspection_has(*conditions) -> ColumnElement[bool]:
    """The ticket's inspection satisfies the conditions."""
    return exists().where(Finding.id == Ticket.finding_id,
                          Inspection.id == Finding.inspection_id, *conditions)


def _supervisor_covers_lead_unit() -> ColumnElement[bool]:
    """Some active supervisor's scope covers the ticket's lead unit
    (`workflow.supervisor_covers`, correlated to the ticket row)."""
    closure = aliased(UnitClosure)
    supervisor = aliased(User)
    return exists().where(
        supervisor.role == Role.SUPERVISOR, supervisor.is_active_user.is_(True),
        closure.ancestor_id == supervisor.scope_unit_id,
        closure.descendant_id == Ticket.lead_unit_id,
    )


def awaiting_approval(user: User) -> ColumnElement[bool]:
    """Tickets the user may approve or return at their current level."""
    if user.role not in (Role.OFFICE, Role.SUPERVISOR) or user.scope_unit_id is None:
        return false()
    one_level = Inspection.signoff_levels == 1
    two_levels = Inspection.signoff_levels == 2
    if user.role == Role.OFFICE:
        decidable = or_(
            and_(Ticket.status == S.SUBMITTED, _inspection_has(one_level)),
            and_(Ticket.status == S.VERIFIED, _inspection_has(two_levels)),
            # First level of a two-level chain falls to the office where no supervisor
            # covers the unit.
            and_(Ticket.status == S.SUBMITTED, _inspection_has(two_levels),
                 ~_supervisor_covers_lead_unit()),
        )
    else:
        decidable = and_(Ticket.status == S.SUBMITTED, or_(
            _inspection_has(one_level, Inspection.supervisors_may_sign_off.is_(True)),
            _inspection_has(two_levels),
        ))
    return and_(scoping.ticket_clause(user), decidable)


def extension_pending(user: User) -> ColumnElement[bool]:
    """Open tickets with an extension request the user (an office in scope) may decide."""
    if user.role != Role.OFFICE or user.scope_unit_id is None:
        return false()
    return and_(
        scoping.ticket_clause(user), Ticket.status.in_(OPEN_STATUSES),
        exists().where(ExtensionRequest.ticket_id == Ticket.id,
                       ExtensionRequest.status == ExtensionStatus.PENDING),
    )


def declined_to_reassign(user: User) -> ColumnElement[bool]:
    """Tickets the lead unit declined (拒签), waiting for the office to reassign them."""
    if user.role != Role.OFFICE or user.scope_unit_id is None:
        return false()
    return and_(scoping.ticket_clause(user), Ticket.status == S.ASSIGNED,
                Ticket.is_declined.is_(True))
