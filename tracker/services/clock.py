"""The one place that knows what time it is. "Today" is a date in the office's zone."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from tracker.models.base import replaying_at, utcnow

__all__ = ["office_zone", "now_utc", "today", "local_date", "replaying_at"]


def office_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def now_utc() -> datetime:
    return utcnow()


def today() -> date:
    """Today's date in the office's time zone; passed into queries, never asked of the database."""
    return now_utc().astimezone(office_zone()).date()


def local_date(moment: datetime) -> date:
    return moment.astimezone(office_zone()).date()
