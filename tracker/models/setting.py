"""Installation settings: one row per key, for values an administrator can change at run
time (organisation defaults, the demo flag). A key without a row takes the configured default."""
from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base, UTCDateTime, utcnow


class Setting(Base):
    __tablename__ = "settings"

    #: Dotted name, e.g. "demo" or "organisation.name".
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    #: The value as text; its reader parses it (numbers, dates, JSON).
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Setting {self.key}={self.value!r}>"
