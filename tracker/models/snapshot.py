"""Daily roll-up snapshots: the counts of each scope unit's subtree, one row per unit and
day, so that dashboards can draw how open, closed and overdue changed over time; and the
dashboard figures kept for scopes too large to count on every view."""
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
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


class DashboardFigures(Base):
    """The office dashboard's figures for one scope and day, kept when counting them live
    costs too much (a province-sized scope: `rollup_cache`). `stamp` is the newest audit
    event when they were counted: every change that can move a figure writes one."""

    __tablename__ = "dashboard_figures"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What was counted: the viewer's scope, the dashboard's filters, the day and the
    #: near-due window (a hash of `params`).
    key: Mapped[str] = mapped_column(String(64), unique=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    counted_on: Mapped[date] = mapped_column(Date)
    #: Who last read them: the scheduler counts again as that user (same scope).
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    stamp: Mapped[int] = mapped_column(BigInteger, default=0)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Seconds the live count took (shown to the office, and the reason to keep it).
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
