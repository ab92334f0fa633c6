"""Writing audit events. Every change a service makes writes exactly one, in the same transaction."""
from datetime import date, datetime
from enum import Enum
from typing import Any

from flask import has_request_context, request

from tracker.extensions import db
from tracker.models import AuditEvent, Ticket, User

#: Ticket fields captured before and after each change.
TICKET_FIELDS = (
    "status", "lead_unit_id", "deadline", "original_deadline", "planned_completion_on",
    "progress_percent", "measures", "target", "responsible_person", "timeline", "stage_goal",
    "next_review_on", "review_cycle_days", "is_declined", "version",
)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def snapshot(ticket: Ticket) -> dict[str, Any]:
    data = {name: _plain(getattr(ticket, name)) for name in TICKET_FIELDS}
    data["cooperating_unit_ids"] = [c.unit_id for c in ticket.cooperating]
    return data


def record(
    actor: User | None,
    action: str,
    object_type: str,
    object_id: int,
    *,
    ticket_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    note: str | None = None,
) -> AuditEvent:
    if before is not None and after is not None:
        # Keep only what changed, so the history reads as a list of differences.
        changed = {k for k in after if before.get(k) != after.get(k)}
        before = {k: v for k, v in before.items() if k in changed}
        after = {k: v for k, v in after.items() if k in changed}
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        ticket_id=ticket_id,
        before={k: _plain(v) for k, v in before.items()} if before else None,
        after={k: _plain(v) for k, v in after.items()} if after else None,
        note=note[:2000] if note else None,
        remote_addr=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event
