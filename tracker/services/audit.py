"""Writing audit events. Every change a service makes writes exactly one, in the same transaction.

The events form a hash chain: when an event is inserted, the chain's head (the single
`audit_chain` row) is locked, the event gets the head's hash as `prev_hash` and its own
`hash` = SHA-256 of its canonical content, and the head moves to it. Concurrent
transactions therefore extend the chain one after the other: the head row is locked by an
upsert (a row lock on PostgreSQL and MariaDB, the single write lock on SQLite) and read
with SELECT … FOR UPDATE, before the event is inserted, so ids follow the chain's order.
`verify()` walks the chain in id order and reports any event that was changed, removed or
inserted out of turn.
"""
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from enum import Enum
from typing import Any, Iterator

from flask import has_request_context, request
from sqlalchemy import event as sa_event
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from tracker.extensions import db
from tracker.models import AuditChain, AuditEvent, Ticket, User
from tracker.services import clock

#: prev_hash of the first event.
GENESIS = "0" * 64
HEAD_ID = 1

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


# --- the hash chain -----------------------------------------------------------------------

def _json_safe(value: Any) -> Any:
    """The value as the JSON column gives it back (keys become strings, tuples lists), so
    that what is hashed is exactly what is stored."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical(row: Any) -> bytes:
    """The bytes an event's hash covers: every column but id and hash, in a fixed form.
    `row` is an AuditEvent or a row of the table with the same attribute names."""
    data = {
        "prev_hash": row.prev_hash, "actor_id": row.actor_id, "action": row.action,
        "object_type": row.object_type, "object_id": row.object_id,
        "ticket_id": row.ticket_id, "before": row.before, "after": row.after,
        "note": row.note, "remote_addr": row.remote_addr, "created_at": _stamp(row.created_at),
    }
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str).encode("utf-8")


def compute_hash(row: Any) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


def _lock_head(connection: Connection) -> tuple[str, int]:
    """The chain's head, locked until the transaction ends (created if missing).

    One upsert takes the lock whether or not the row exists yet (creating it for the
    very first event), so concurrent writers queue on the row instead of deadlocking on
    its absence; then a locking read fetches the newest committed head (MariaDB's
    repeatable-read snapshot could otherwise be older than the lock)."""
    table = AuditChain.__table__
    values = {"id": HEAD_ID, "last_hash": GENESIS, "event_count": 0,
              "updated_at": clock.now_utc()}
    name = connection.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        from sqlalchemy.dialects.mysql import insert as dialect_insert
    statement = dialect_insert(table).values(values)
    if name == "mysql":
        statement = statement.on_duplicate_key_update(event_count=table.c.event_count)
    else:
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.id], set_={"event_count": table.c.event_count})
    connection.execute(statement)
    head = select(table.c.last_hash, table.c.event_count).where(table.c.id == HEAD_ID)
    if name != "sqlite":
        head = head.with_for_update()
    row = connection.execute(head).one()
    return row.last_hash, row.event_count


@sa_event.listens_for(AuditEvent, "before_insert")
def _chain(mapper, connection: Connection, target: AuditEvent) -> None:
    """Link the event to the chain as it is inserted (inside the flush, same transaction)."""
    moment = target.created_at or clock.now_utc()
    target.created_at = moment.replace(microsecond=0)  # every database keeps whole seconds
    target.before = _json_safe(target.before)
    target.after = _json_safe(target.after)
    last_hash, count = _lock_head(connection)
    target.prev_hash = last_hash
    target.hash = compute_hash(target)
    table = AuditChain.__table__
    connection.execute(update(table).where(table.c.id == HEAD_ID).values(
        last_hash=target.hash, event_count=count + 1, updated_at=clock.now_utc()))


def record_many(actor: User | None, items: list[dict[str, Any]]) -> int:
    """Write many events at once, chained exactly as `record` chains one: the head is
    locked once, each event hashed on the one before it in order, and all are inserted in
    that order with one multi-row INSERT (ids follow the chain). Each item holds action,
    object_type, object_id and optionally ticket_id, before, after, note."""
    if not items:
        return 0
    db.session.flush()  # events already pending take their place in the chain first
    connection = db.session.connection()
    last_hash, count = _lock_head(connection)
    moment = clock.now_utc().replace(microsecond=0)
    remote = request.remote_addr if has_request_context() else None

    class _Event:
        pass

    rows = []
    for item in items:
        event = _Event()
        event.actor_id = actor.id if actor else None
        event.action, event.object_type = item["action"], item["object_type"]
        event.object_id, event.ticket_id = item["object_id"], item.get("ticket_id")
        before, after = item.get("before"), item.get("after")
        event.before = _json_safe({k: _plain(v) for k, v in before.items()} if before else None)
        event.after = _json_safe({k: _plain(v) for k, v in after.items()} if after else None)
        note = item.get("note")
        event.note = note[:2000] if note else None
        event.remote_addr, event.created_at, event.prev_hash = remote, moment, last_hash
        event.hash = last_hash = compute_hash(event)
        rows.append(dict(event.__dict__))
    connection.execute(insert(AuditEvent.__table__), rows)
    table = AuditChain.__table__
    connection.execute(update(table).where(table.c.id == HEAD_ID).values(
        last_hash=last_hash, event_count=count + len(rows), updated_at=clock.now_utc()))
    return len(rows)


@dataclass
class Verification:
    events: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _events(connection: Connection, batch: int = 1000) -> Iterator[Any]:
    table = AuditEvent.__table__
    last_id = 0
    while True:
        rows = connection.execute(select(table).where(table.c.id > last_id)
                                  .order_by(table.c.id).limit(batch)).all()
        if not rows:
            return
        for row in rows:
            yield row
        last_id = rows[-1].id


class _Row:
    """A table row with UTC-aware created_at (Core rows come back naive)."""

    def __init__(self, row):
        self._row = row
        created = row.created_at
        self.created_at = created if created.tzinfo else created.replace(tzinfo=timezone.utc)

    def __getattr__(self, name):
        return getattr(self._row, name)


def verify(connection: Connection | None = None, max_problems: int = 50) -> Verification:
    """Walk the whole chain: each event's hash must match its content, each prev_hash the
    hash of the event before it, and the head the last event and the number of events."""
    connection = connection or db.session.connection()
    result = Verification()
    expected_prev = GENESIS
    for raw in _events(connection):
        row = _Row(raw)
        result.events += 1
        if row.hash is None or row.prev_hash is None:
            result.problems.append(f"event {row.id}: not chained (no hash)")
        else:
            if row.prev_hash != expected_prev:
                result.problems.append(
                    f"event {row.id}: does not follow the event before it (an event was "
                    f"removed or inserted before it)")
            if compute_hash(row) != row.hash:
                result.problems.append(f"event {row.id}: content changed after it was written")
        expected_prev = row.hash or ""
        if len(result.problems) >= max_problems:
            result.problems.append("… further problems not listed")
            return result
    result.head_hash = expected_prev if result.events else GENESIS
    table = AuditChain.__table__
    head = connection.execute(select(table.c.last_hash, table.c.event_count)
                              .where(table.c.id == HEAD_ID)).first()
    if head is None:
        if result.events:
            result.problems.append("the chain head is missing")
    else:
        if head.last_hash != result.head_hash:
            result.problems.append("the last event is not the chain's head (events at the end "
                                   "were removed or changed)")
        if head.event_count != result.events:
            result.problems.append(f"the chain holds {head.event_count} events, the table "
                                   f"{result.events}")
    return result


def backfill_chain(connection: Connection) -> int:
    """Chain events written before the chain existed (for the migration that adds the
    columns; run it before the append-only triggers are installed). Returns how many."""
    table = AuditEvent.__table__
    prev = GENESIS
    count = 0
    for raw in list(_events(connection)):
        row = _Row(raw)

        class _Linked:
            pass

        linked = _Linked()
        for name in ("actor_id", "action", "object_type", "object_id", "ticket_id", "before",
                     "after", "note", "remote_addr"):
            setattr(linked, name, getattr(row, name))
        linked.created_at = row.created_at
        linked.prev_hash = prev
        digest = compute_hash(linked)
        connection.execute(update(table).where(table.c.id == row.id)
                           .values(prev_hash=prev, hash=digest))
        prev = digest
        count += 1
    head = AuditChain.__table__
    connection.execute(head.delete())
    connection.execute(insert(head).values(id=HEAD_ID, last_hash=prev, event_count=count,
                                           updated_at=clock.now_utc()))
    return count
