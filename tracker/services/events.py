"""Signals sent by the workflow after a change is flushed, inside its transaction.

Receivers (notifications) write their rows in the same transaction, so a change and the
news of it are committed together or not at all.
"""
from blinker import Namespace

_signals = Namespace()

#: sender: the action name ("assigned", "declined", "submitted", …);
#: kwargs: ticket, actor, and action-specific data.
ticket_event = _signals.signal("ticket-event")


def emit(action: str, ticket, actor, **data) -> None:
    ticket_event.send(action, ticket=ticket, actor=actor, **data)
