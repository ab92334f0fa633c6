"""Audit events: who did what, when, before and after. Append-only and chained.

Each event carries the hash of the event before it (`prev_hash`) and its own (`hash`,
SHA-256 over its content and `prev_hash`), computed by tracker.services.audit when it is
inserted. `AuditChain` is the single row holding the chain's head: writers lock it, so
that concurrent transactions extend the chain one after the other, and
`flask verify-audit` compares it with the last event (a removed last event shows).
The database refuses UPDATE and DELETE on the table (tracker.db_guards)."""
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, UTCDateTime, utcnow
from tracker.models.user import User


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None for the system itself (scheduler, migrations).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: verb of the change, e.g. "ticket.acknowledge".
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int] = mapped_column()
    #: The ticket the event belongs to, for the ticket's history timeline.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Free text given with the action (reason, comment).
    note: Mapped[str | None] = mapped_column(String(2000))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: SHA-256 (hex) of the previous event; 64 zeros for the first event.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    #: SHA-256 (hex) of this event's content and prev_hash.
    hash: Mapped[str | None] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (
        Index("ix_audit_events_ticket", "ticket_id", "id"),
        Index("ix_audit_events_object", "object_type", "object_id"),
    )


class AuditChain(Base):
    """The head of the audit chain: one row (id 1)."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: Hash of the last event, and how many events the chain holds.
    last_hash: Mapped[str] = mapped_column(String(64))
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _guard_table() -> None:
    from tracker import db_guards

    db_guards.register(AuditEvent.__table__)


_guard_table()
