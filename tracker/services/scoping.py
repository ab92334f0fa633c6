"""What a user may see. Every query of user data starts here.

`ticket_clause(user)` is the one rule: admin sees everything; office and supervisor see
tickets whose lead unit lies in their scope subtree; a unit user sees tickets their unit
leads or cooperates on. Inspections, findings, units, evidence and counts are derived from
it, so a unit never learns of another unit's tickets by any route.
"""
from flask import has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import Select, exists, false, or_, select, true
from sqlalchemy.sql import ColumnElement

from tracker.extensions import db
from tracker.models import (
    Finding,
    Inspection,
    Role,
    Ticket,
    TicketUnit,
    Unit,
    UnitClosure,
    User,
)
from tracker.services.errors import NotFound


def subtree_ids(unit_id: int) -> Select:
    """Ids of a unit and every unit below it, as a subquery."""
    return select(UnitClosure.descendant_id).where(UnitClosure.ancestor_id == unit_id)


def in_subtree(column, unit_id: int) -> ColumnElement[bool]:
    return column.in_(subtree_ids(unit_id))


def _sees_nothing(user: User | None) -> bool:
    """No user, or a deactivated one, sees nothing at all."""
    return user is None or not user.is_active


def ticket_clause(user: User) -> ColumnElement[bool]:
    if _sees_nothing(user):
        return false()
    if user.role == Role.ADMIN:
        return true()
    if user.role in (Role.OFFICE, Role.SUPERVISOR):
        if user.scope_unit_id is None:
            return false()
        return in_subtree(Ticket.lead_unit_id, user.scope_unit_id)
    return or_(
        Ticket.lead_unit_id == user.unit_id,
        exists().where(TicketUnit.ticket_id == Ticket.id, TicketUnit.unit_id == user.unit_id),
    )


def tickets(user: User) -> Select:
    """Every ticket the user may see, as a select to narrow further."""
    return select(Ticket).where(ticket_clause(user))


def unit_clause(user: User) -> ColumnElement[bool]:
    """Units the user may see and pick: the scope subtree, or the own unit."""
    if _sees_nothing(user):
        return false()
    if user.role == Role.ADMIN:
        return true()
    if user.role in (Role.OFFICE, Role.SUPERVISOR) and user.scope_unit_id is not None:
        return in_subtree(Unit.id, user.scope_unit_id)
    return Unit.id == user.unit_id


def units(user: User) -> Select:
    return select(Unit).where(unit_clause(user))


def inspection_clause(user: User) -> ColumnElement[bool]:
    """Inspections run by an office within the user's scope, or holding a visible ticket."""
    if _sees_nothing(user):
        return false()
    if user.role == Role.ADMIN:
        return true()
    has_ticket = exists().where(
        Finding.inspection_id == Inspection.id, Ticket.finding_id == Finding.id,
        ticket_clause(user),
    )
    if user.role in (Role.OFFICE, Role.SUPERVISOR) and user.scope_unit_id is not None:
        return or_(in_subtree(Inspection.owner_unit_id, user.scope_unit_id), has_ticket)
    return has_ticket


def inspections(user: User) -> Select:
    return select(Inspection).where(inspection_clause(user))


def finding_clause(user: User) -> ColumnElement[bool]:
    if _sees_nothing(user):
        return false()
    if user.role == Role.ADMIN:
        return true()
    has_ticket = exists().where(Ticket.finding_id == Finding.id, ticket_clause(user))
    if user.role in (Role.OFFICE, Role.SUPERVISOR) and user.scope_unit_id is not None:
        owned = exists().where(
            Inspection.id == Finding.inspection_id,
            in_subtree(Inspection.owner_unit_id, user.scope_unit_id),
        )
        return or_(owned, has_ticket)
    return has_ticket


def findings(user: User) -> Select:
    return select(Finding).where(finding_clause(user))


def _one(statement: Select, what: str):
    obj = db.session.scalars(statement).first()
    if obj is None:
        raise NotFound(what)
    return obj


def get_ticket(user: User, ticket_id: int, *, for_update: bool = False) -> Ticket:
    statement = tickets(user).where(Ticket.id == ticket_id)
    if for_update:
        # The locked row is read afresh, also when the ticket was loaded earlier in the
        # session: a version check must compare with what is committed now.
        statement = statement.with_for_update(of=Ticket).execution_options(
            populate_existing=True)
    return _one(statement, _("Ticket not found."))


def get_inspection(user: User, inspection_id: int) -> Inspection:
    return _one(inspections(user).where(Inspection.id == inspection_id),
                _("Inspection not found."))


def get_finding(user: User, finding_id: int) -> Finding:
    return _one(findings(user).where(Finding.id == finding_id), _("Finding not found."))


def get_unit(user: User, unit_id: int) -> Unit:
    return _one(units(user).where(Unit.id == unit_id), _("Unit not found."))


def covers_unit(user: User, unit_id: int) -> bool:
    """Whether the unit lies inside the user's scope subtree (office and supervisor)."""
    if _sees_nothing(user):
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role not in (Role.OFFICE, Role.SUPERVISOR) or user.scope_unit_id is None:
        return False
    memo = _coverage_memo()
    key = (user.scope_unit_id, unit_id)
    if key not in memo:
        memo[key] = db.session.get(UnitClosure, key) is not None
    return memo[key]


def preload_coverage(user: User, unit_ids) -> None:
    """Answer `covers_unit` for many units with one statement (a page of rows that each
    ask whether the user's scope covers their lead unit)."""
    if _sees_nothing(user) or user.role not in (Role.OFFICE, Role.SUPERVISOR) \
            or user.scope_unit_id is None:
        return
    memo = _coverage_memo()
    wanted = {u for u in unit_ids if (user.scope_unit_id, u) not in memo}
    if not wanted:
        return
    covered = set(db.session.scalars(select(UnitClosure.descendant_id).where(
        UnitClosure.ancestor_id == user.scope_unit_id, UnitClosure.descendant_id.in_(wanted))))
    memo.update({(user.scope_unit_id, u): u in covered for u in wanted})


def _coverage_memo() -> dict:
    """Answers of `covers_unit` for the span of one request (the tree does not move under
    a page being built); outside a request, nothing is kept."""
    if not has_request_context():
        return {}
    return request.environ.setdefault("tracker.covers_unit", {})
