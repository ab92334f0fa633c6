"""Bringing a ticket into a state the way its users would: through the workflow services,
each step naming the version it read. Shared by the core rule tests."""
from datetime import timedelta

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import AuditEvent, Ticket, TicketStatus
from tracker.services import clock, workflow

S = TicketStatus


def bring_to(ticket: Ticket, state: TicketStatus, *, lead, office, first_level=None) -> Ticket:
    """Move a freshly assigned ticket into `state`.

    `first_level` approves or returns at the first level of a two-level chain (a supervisor,
    or the office where no supervisor covers the unit); it defaults to the office."""
    first_level = first_level or office
    if state == S.ASSIGNED:
        return ticket
    if state == S.CANCELLED:
        return workflow.cancel(office, ticket.id, ticket.version, "问题已不存在，撤销任务")
    workflow.acknowledge(lead, ticket.id, ticket.version)
    workflow.add_progress(lead, ticket.id, ticket.version, "已制定整改方案，正在落实")
    if state == S.IN_PROGRESS:
        return ticket
    if state == S.LONG_TERM:
        return workflow.mark_long_term(office, ticket.id, ticket.version, "完成年度阶段目标",
                                       clock.today() + timedelta(days=90), 90)
    workflow.submit(lead, ticket.id, ticket.version)
    if state == S.SUBMITTED:
        return ticket
    if state == S.RETURNED:
        return workflow.return_ticket(first_level, ticket.id, ticket.version, "佐证材料不全")
    workflow.approve(first_level, ticket.id, ticket.version)
    if ticket.status != state:
        workflow.approve(office, ticket.id, ticket.version)
    assert ticket.status == state, (ticket.status, state)
    return ticket


def audit_count() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)))


def stored_version(ticket_id: int) -> int:
    """The version as the database holds it (pending changes flushed first)."""
    return db.session.scalar(select(Ticket.version).where(Ticket.id == ticket_id))
