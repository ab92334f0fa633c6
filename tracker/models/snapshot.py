"""Daily roll-up snapshots: the counts of each scope unit's subtree, one row per unit and
day, so that dashboards can draw how open, closed and overdue changed over time."""
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base, UTCDateTime, utcnow


class RollupSnapshot(Base):
    __tablename__ = "rollup_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The office-zone date the counts are of.
    taken_on: Mapped[date] = mapped_column(Date)
    #: The scope unit: tickets whose lead unit lies in its subtree are counted.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    total: Mapped[int] = mapped_column(Integer, default=0)
    open: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    overdue: Mapped[int] = mapped_column(Integer, default=0)
    near_due: Mapped[int] = mapped_column(Integer, default=0)
    closed_late: Mapped[int] = mapped_column(Integer, default=0)
    #: submitted or verified: waiting for a decision.
    waiting: Mapped[int] = mapped_column(Integer, default=0)
    long_term: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("unit_id", "taken_on"),)
