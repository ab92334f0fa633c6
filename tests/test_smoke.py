from tracker.models import TicketStatus
from tracker.services import workflow


def test_lead_unit_acknowledges_and_ticket_moves_to_in_progress(world):
    ticket = workflow.acknowledge(world.unit_k1, world.t1.id, world.t1.version)
    assert ticket.status == TicketStatus.IN_PROGRESS
