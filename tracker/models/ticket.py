"""Tickets (整改任务): one job on one finding, led by one unit, and what hangs off it."""
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy import text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, UTCDateTime, utcnow
from tracker.models.enums import ExtensionStatus, TicketStatus, TimelineKind, enum_column
from tracker.models.inspection import Finding
from tracker.models.unit import Unit
from tracker.models.user import User


#: Tickets that owe work against a date (deadlines.DUE_STATES): the partial index's rows.
DUE_WHERE = "status IN ('assigned', 'in_progress', 'returned', 'long_term')"
#: What the roll-up reads of a finding's tickets (a ticket's state, due and planned dates).
ROLLUP_COLUMNS = ["status", "timeline", "deadline", "next_review_on", "planned_completion_on",
                  "submitted_on", "deadline_at_submission"]


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"))
    #: 牵头单位: every count by unit or region uses it, so each ticket counts once.
    lead_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    #: 责任人, free text: the person answerable in the lead unit.
    responsible_person: Mapped[str] = mapped_column(String(100), default="")
    #: 整改措施.
    measures: Mapped[str] = mapped_column(Text, default="")
    #: 整改目标.
    target: Mapped[str] = mapped_column(Text, default="")
    timeline: Mapped[TimelineKind] = mapped_column(
        enum_column(TimelineKind, "timeline_kind"), default=TimelineKind.BY_DATE
    )
    #: 整改时限 in force; moves with approved extensions and office edits.
    deadline: Mapped[date] = mapped_column(Date)
    #: The deadline first set; never changes.
    original_deadline: Mapped[date] = mapped_column(Date)
    #: 计划完成时间, the unit's own plan; drives the "by year end / by June" roll-up.
    planned_completion_on: Mapped[date | None] = mapped_column(Date)
    progress_percent: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[TicketStatus] = mapped_column(
        enum_column(TicketStatus, "ticket_status"), default=TicketStatus.ASSIGNED
    )
    #: Long-term tickets: the current stage goal, the next review date and the cycle.
    stage_goal: Mapped[str | None] = mapped_column(Text)
    next_review_on: Mapped[date | None] = mapped_column(Date)
    review_cycle_days: Mapped[int | None] = mapped_column(Integer)
    #: The lead unit declined (拒签); the ticket waits in the office's queue to reassign.
    is_declined: Mapped[bool] = mapped_column(Boolean, default=False)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    #: Reason of the last return (退回), shown to the unit.
    return_reason: Mapped[str | None] = mapped_column(Text)
    #: Optimistic lock: every write names the version it read.
    version: Mapped[int] = mapped_column(Integer, default=1)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Date (office zone) of the last submission and the deadline then in force:
    #: a closed ticket is a late sign-off when the first is after the second.
    submitted_on: Mapped[date | None] = mapped_column(Date)
    deadline_at_submission: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    finding: Mapped[Finding] = relationship(back_populates="tickets")
    lead_unit: Mapped[Unit] = relationship()
    cooperating: Mapped[list["TicketUnit"]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketUnit.unit_id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("progress_percent BETWEEN 0 AND 100", name="progress_percent"),
        CheckConstraint("deadline IS NOT NULL", name="deadline_set"),
        # A unit's tickets of a status in deadline order; on PostgreSQL it also carries
        # what the overdue rule reads, so a subtree's overdue tickets are counted and
        # paged from the index alone (migration 0004).
        Index("ix_tickets_lead_status_deadline_id", "lead_unit_id", "status", "deadline", "id",
              postgresql_include=["next_review_on"]),
        # The list's orders and filters (docs/performance.md, issue 6): a subtree scope or
        # unit filter in deadline order; a status filter in deadline order; the whole
        # organisation in deadline order; open tickets that owe work (overdue, near-due) in
        # deadline order, with what the overdue rule reads (index-only on PostgreSQL).
        Index("ix_tickets_lead_deadline_id", "lead_unit_id", "deadline", "id"),
        Index("ix_tickets_status_deadline_id", "status", "deadline", "id"),
        Index("ix_tickets_deadline_id", "deadline", "id"),
        Index("ix_tickets_due_deadline_id", "deadline", "id",
              postgresql_include=["status", "next_review_on"],
              postgresql_where=text(DUE_WHERE), sqlite_where=text(DUE_WHERE)),
        Index("ix_tickets_updated_id", "updated_at", "id"),
        # A finding's tickets; on PostgreSQL it also carries what the roll-up reads of
        # them, so that the findings' states are counted from the index alone, in finding
        # order (rollup._finding_branch; migration 0007).
        Index("ix_tickets_finding_rollup", "finding_id",
              postgresql_include=ROLLUP_COLUMNS),
    )

    @property
    def unit_ids(self) -> list[int]:
        return [self.lead_unit_id] + [c.unit_id for c in self.cooperating]


class TicketUnit(Base):
    """A cooperating unit (配合单位) of a ticket."""

    __tablename__ = "ticket_units"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)

    ticket: Mapped[Ticket] = relationship(back_populates="cooperating")
    unit: Mapped[Unit] = relationship(lazy="joined")

    __table_args__ = (Index("ix_ticket_units_unit", "unit_id", "ticket_id"),)


class ProgressUpdate(Base):
    """整改进展: dated text written by the lead or a cooperating unit."""

    __tablename__ = "progress_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: The unit on whose behalf it was written (the author's, or the lead unit's
    #: when the office enters a reconciled ledger row).
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    text: Mapped[str] = mapped_column(Text)
    percent: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship(lazy="joined")
    unit: Mapped[Unit] = relationship(lazy="joined")

    __table_args__ = (Index("ix_progress_updates_ticket_created", "ticket_id", "created_at"),)


class ExtensionRequest(Base):
    """延期申请: one pending per ticket; the original deadline is kept on the ticket."""

    __tablename__ = "extension_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    current_deadline: Mapped[date] = mapped_column(Date)
    requested_deadline: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ExtensionStatus] = mapped_column(
        enum_column(ExtensionStatus, "extension_status"), default=ExtensionStatus.PENDING
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (Index("ix_extension_requests_status", "status", "ticket_id"),)
