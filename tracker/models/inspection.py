"""Inspections (检查/督导评价), the findings (问题) they fed back, and the category taxonomy."""
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, UTCDateTime, utcnow
from tracker.models.enums import InspectionKind, Severity, enum_column
from tracker.models.unit import Unit


class Category(Base):
    """A configurable problem category (党的建设, 经费投入, 校园安全, …)."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class Inspection(Base):
    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[InspectionKind] = mapped_column(enum_column(InspectionKind, "inspection_kind"))
    year: Mapped[int] = mapped_column(Integer, index=True)
    #: The office (an office unit) that runs the inspection and owns its findings.
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    #: 被评价对象, e.g. "临夏州人民政府".
    inspected_body: Mapped[str] = mapped_column(String(200))
    #: 检查单位, e.g. "甘肃省人民政府教育督导委员会办公室".
    inspecting_body: Mapped[str] = mapped_column(String(200))
    #: 文号, e.g. "甘政教督办函〔2021〕14号".
    document_number: Mapped[str | None] = mapped_column(String(100))
    feedback_on: Mapped[date] = mapped_column(Date)
    default_deadline: Mapped[date] = mapped_column(Date)
    #: 1: one sign-off; 2: a supervisor verifies, then the office signs off.
    signoff_levels: Mapped[int] = mapped_column(Integer, default=1)
    #: One-level chain only: supervisors in scope may sign off too.
    supervisors_may_sign_off: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner_unit: Mapped[Unit] = relationship()
    findings: Mapped[list["Finding"]] = relationship(
        back_populates="inspection", order_by="Finding.number"
    )

    __table_args__ = (
        CheckConstraint("signoff_levels IN (1, 2)", name="signoff_levels"),
        CheckConstraint("default_deadline >= feedback_on", name="deadline_after_feedback"),
    )


class Finding(Base):
    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    #: Number within the inspection (一、二、三 … are shown from it).
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    severity: Mapped[Severity] = mapped_column(
        enum_column(Severity, "severity"), default=Severity.GENERAL
    )
    #: 评价指标/依据: the indicator or rule the finding breaks.
    basis: Mapped[str] = mapped_column(Text, default="")
    #: 整改要求: what rectification must achieve.
    requirement: Mapped[str] = mapped_column(Text, default="")
    #: Evidence items the ticket must carry before submission, one per line.
    required_evidence: Mapped[str] = mapped_column(Text, default="")
    #: 屡查屡犯: the earlier finding this one repeats.
    repeats_finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    inspection: Mapped[Inspection] = relationship(back_populates="findings")
    category: Mapped[Category | None] = relationship(lazy="joined")
    repeats: Mapped["Finding | None"] = relationship(remote_side=[id])
    tickets: Mapped[list["Ticket"]] = relationship(  # noqa: F821
        back_populates="finding", order_by="Ticket.id"
    )

    __table_args__ = (UniqueConstraint("inspection_id", "number"),)

    @property
    def required_evidence_items(self) -> list[str]:
        return [line.strip() for line in self.required_evidence.splitlines() if line.strip()]
