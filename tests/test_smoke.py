from tracker.models import TicketStatus
from tracker.services import workflow


def test_lead_unit_acknowledges_and_ticket_moves_to_in_progress(world):
    ticket = workflow.acknowledge(world.unit_k1, world.t1.id, world.t1.version)
    assert ticket.status == TicketStatus.IN_PROGRESS


def test_office_lists_both_tickets_unit_user_only_its_own(world):
    from tracker.services import ticket_queries as tq
    from tests.factories import TODAY

    office = tq.page(world.office, tq.TicketFilter(), TODAY, 7)
    unit = tq.page(world.unit_k1, tq.TicketFilter(), TODAY, 7)
    coop = tq.page(world.unit_d1, tq.TicketFilter(), TODAY, 7)
    assert office.total == 2
    assert [r.ticket.id for r in unit.rows] == [world.t1.id]
    assert [r.ticket.id for r in coop.rows] == [world.t1.id]
