"""Working days (工作日) by China's official holiday calendar.

Three sources, in this order: days the office entered itself (the `holidays` table: a
holiday, or a make-up working day 调休), then the `chinese_calendar` package, which knows
the State Council's announcements up to the year it was released for, and for a year it
does not know yet, weekends alone. The office enters next year's holidays as soon as they
are announced (usually in November), until the package is upgraded.
"""
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
from flask_babel import gettext as _
from sqlalchemy import extract, select

from tracker.extensions import db
from tracker.models import Holiday, Role, User
from tracker.services import audit
from tracker.services.errors import Forbidden, NotFound, ValidationFailed

ONE_DAY = timedelta(days=1)
#: Longest run of days off in the calendar (Spring Festival: 9 days) plus slack: a bound
#: for searches, so that a wrong table can never loop forever.
MAX_SEARCH_DAYS = 40


def package_years() -> range:
    """The years the installed holiday package knows."""
    years = [d.year for d in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


class WorkCalendar:
    """Answers "is this a working day?" for any date, loading the office's entries one
    year at a time, so a reminder pass asks the database once per year it touches."""

    def __init__(self) -> None:
        self._entries: dict[int, dict[date, bool]] = {}

    def _year(self, year: int) -> dict[date, bool]:
        if year not in self._entries:
            rows = db.session.execute(
                select(Holiday.day, Holiday.is_workday).where(extract("year", Holiday.day) == year))
            self._entries[year] = {day: bool(is_workday) for day, is_workday in rows}
        return self._entries[year]

    def source(self, day: date) -> str:
        """"office", "package" or "weekends": where the answer for the day comes from."""
        if day in self._year(day.year):
            return "office"
        return "package" if day.year in package_years() else "weekends"

    def is_workday(self, day: date) -> bool:
        entered = self._year(day.year).get(day)
        if entered is not None:
            return entered
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:  # a year the package does not know yet
            return day.weekday() < 5

    def on_or_before(self, day: date) -> date:
        """The day itself if it is a working day, else the working day before it."""
        for _step in range(MAX_SEARCH_DAYS):
            if self.is_workday(day):
                return day
            day -= ONE_DAY
        return day

    def subtract(self, day: date, workdays: int) -> date:
        """The working day `workdays` working days before `day` (0: `day`, or the working
        day before it when `day` is a day off)."""
        day = self.on_or_before(day)
        for _step in range(workdays):
            day = self.on_or_before(day - ONE_DAY)
        return day

    def add(self, day: date, workdays: int) -> date:
        """The working day `workdays` working days after `day`."""
        for _step in range(workdays):
            day += ONE_DAY
            for _skip in range(MAX_SEARCH_DAYS):
                if self.is_workday(day):
                    break
                day += ONE_DAY
        return day

    def between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        count, day = 0, start
        while day < end:
            day += ONE_DAY
            count += self.is_workday(day)
        return count


# --- the office's table ---------------------------------------------------------------

@dataclass(frozen=True)
class HolidayDraft:
    day: date | None
    is_workday: bool
    name: str


def _check_office(actor: User) -> None:
    if actor.role not in (Role.OFFICE, Role.ADMIN):
        raise Forbidden(_("Only the office enters holidays and make-up working days."))


def holidays_of(year: int) -> list[Holiday]:
    return list(db.session.scalars(
        select(Holiday).where(extract("year", Holiday.day) == year).order_by(Holiday.day)))


def save_holiday(actor: User, draft: HolidayDraft) -> Holiday:
    """Enter (or correct) one day: a day off, or a make-up working day."""
    _check_office(actor)
    name = (draft.name or "").strip()
    errors = {}
    if draft.day is None:
        errors["day"] = [_("This field is required.")]
    if len(name) > 60:
        errors["name"] = [_("At most %(n)s characters.", n=60)]
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), errors)
    row = db.session.get(Holiday, draft.day)
    before = {"is_workday": row.is_workday, "name": row.name} if row else None
    if row is None:
        row = Holiday(day=draft.day, created_by_id=actor.id)
        db.session.add(row)
    row.is_workday = draft.is_workday
    row.name = name
    db.session.flush()
    audit.record(actor, "holiday.save", "holiday", _object_id(draft.day), before=before,
                 after={"day": draft.day.isoformat(), "is_workday": draft.is_workday,
                        "name": name})
    return row


def delete_holiday(actor: User, day: date) -> None:
    _check_office(actor)
    row = db.session.get(Holiday, day)
    if row is None:
        raise NotFound(_("No entry for this day."))
    audit.record(actor, "holiday.delete", "holiday", _object_id(day),
                 before={"day": day.isoformat(), "is_workday": row.is_workday,
                         "name": row.name})
    db.session.delete(row)
    db.session.flush()


def _object_id(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day
