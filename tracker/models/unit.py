"""Units (单位) form a tree; `UnitClosure` makes "this unit and all below it" one indexed join."""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, UTCDateTime, utcnow
from tracker.models.enums import UnitKind, enum_column


class Unit(Base):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Administrative or organisation code, unique across the tree.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    #: Indexed: a unit is looked up by its exact name as well as by code and id.
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, "unit_kind"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    #: 0 for the root; kept equal to the number of ancestors.
    depth: Mapped[int] = mapped_column(Integer, default=0, index=True)
    #: Units are deactivated, never deleted: tickets and history refer to them.
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Work-chat robot webhook for the unit's group (企业微信 / 钉钉), optional.
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped["Unit | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Unit"]] = relationship(back_populates="parent", order_by="Unit.code")

    def __repr__(self) -> str:
        return f"<Unit {self.code} {self.name}>"


class UnitClosure(Base):
    """One row per (ancestor, descendant) pair, a unit being its own ancestor at depth 0."""

    __tablename__ = "unit_closure"

    ancestor_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    descendant_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    #: Distance between the two; 0 for the unit itself.
    depth: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_unit_closure_descendant", "descendant_id", "ancestor_id"),)
