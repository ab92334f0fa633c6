"""Evidence (佐证材料): files uploaded to a ticket, kept as the record the sign-off rests on."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, UTCDateTime, utcnow
from tracker.models.enums import enum_column
from tracker.models.ticket import ProgressUpdate, Ticket
from tracker.models.unit import Unit
from tracker.models.user import User


class EvidenceStatus(StrEnum):
    ACTIVE = "active"
    #: Taken back by its uploader before submission; kept and still listed.
    WITHDRAWN = "withdrawn"
    #: Replaced by a newer version; kept and still listed in the history.
    SUPERSEDED = "superseded"


class Evidence(Base):
    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    #: The progress update the file was posted with, if any.
    progress_update_id: Mapped[int | None] = mapped_column(
        ForeignKey("progress_updates.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: The uploader's unit at the time of upload (lead or cooperating unit).
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    #: The name as uploaded, for display and download only; never used on disk.
    original_name: Mapped[str] = mapped_column(String(255))
    #: Extension checked against the content (pdf, docx, jpg, …), lower case.
    extension: Mapped[str] = mapped_column(String(10))
    #: Media type decided by the server from the checked content, never the client's.
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    #: Equal to sha256 while the file counts (active or superseded), NULL once withdrawn:
    #: the unique constraint below makes the database refuse a second copy on a ticket.
    live_sha256: Mapped[str | None] = mapped_column(String(64))
    #: Where the storage backend keeps the bytes; generated from ids, never from the name.
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    #: Code of an evidence type (config EVIDENCE_TYPES): notice, photo, ledger, …
    evidence_type: Mapped[str] = mapped_column(String(40))
    #: The finding's required evidence item this file covers (a line of required_evidence).
    item: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[EvidenceStatus] = mapped_column(
        enum_column(EvidenceStatus, "evidence_status"), default=EvidenceStatus.ACTIVE)
    #: 1 for a first upload; the superseded file's version + 1 for a new version.
    version_no: Mapped[int] = mapped_column(Integer, default=1)
    #: The earlier version this file replaces.
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when the ticket is submitted with this file: from then on it is part of the
    #: record and can only be superseded, never withdrawn.
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdraw_reason: Mapped[str | None] = mapped_column(String(500))

    ticket: Mapped[Ticket] = relationship()
    progress_update: Mapped[ProgressUpdate | None] = relationship()
    uploaded_by: Mapped[User] = relationship(foreign_keys=[uploaded_by_id], lazy="joined")
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])
    unit: Mapped[Unit] = relationship(lazy="joined")
    supersedes: Mapped["Evidence | None"] = relationship(remote_side=[id])

    __table_args__ = (
        UniqueConstraint("ticket_id", "live_sha256", name="uq_evidence_ticket_live_sha256"),
        Index("ix_evidence_ticket_uploaded", "ticket_id", "uploaded_at"),
    )

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None

    @property
    def is_previewable(self) -> bool:
        return self.extension in PREVIEWABLE

    def __repr__(self) -> str:
        return f"<Evidence {self.id} {self.original_name!r}>"


#: Shown inline (preview); everything else is only ever sent as an attachment.
PREVIEWABLE = frozenset({"pdf", "jpg", "jpeg", "png"})
