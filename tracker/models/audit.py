"""Audit events: who did what, when, before and after. Append-only."""
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
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

    actor: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (
        Index("ix_audit_events_ticket", "ticket_id", "id"),
        Index("ix_audit_events_object", "object_type", "object_id"),
    )
