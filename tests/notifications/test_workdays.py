"""Working days: the office's entries, then the holiday package, then weekends."""
from datetime import date

import pytest

from tracker.extensions import db
from tracker.services import workdays
from tracker.services.errors import Forbidden, ValidationFailed


def test_package_knows_national_day_and_its_make_up_working_day(app):
    calendar = workdays.WorkCalendar()
    assert not calendar.is_workday(date(2026, 10, 1))
    assert calendar.is_workday(date(2026, 10, 10))  # a Saturday worked (调休)
    assert calendar.source(date(2026, 10, 1)) == "package"


def test_counting_back_skips_holidays(app):
    calendar = workdays.WorkCalendar()
    assert calendar.subtract(date(2026, 10, 8), 1) == date(2026, 9, 30)
    assert calendar.subtract(date(2026, 10, 4), 0) == date(2026, 9, 30)
    assert calendar.add(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert calendar.between(date(2026, 9, 30), date(2026, 10, 9)) == 2


def test_unknown_year_counts_weekends_until_the_office_enters_its_holidays(world):
    day = date(2099, 1, 1)  # a Thursday in a year no package knows
    assert workdays.WorkCalendar().is_workday(day)
    assert workdays.WorkCalendar().source(day) == "weekends"
    workdays.save_holiday(world.office, workdays.HolidayDraft(day, False, "元旦"))
    workdays.save_holiday(world.office, workdays.HolidayDraft(date(2099, 1, 3), True, "调休"))
    db.session.commit()
    calendar = workdays.WorkCalendar()
    assert not calendar.is_workday(day) and calendar.source(day) == "office"
    assert calendar.is_workday(date(2099, 1, 3))  # a Saturday made a working day


def test_office_entry_overrides_the_package(world):
    workdays.save_holiday(world.office, workdays.HolidayDraft(date(2026, 10, 10), False, ""))
    db.session.commit()
    assert not workdays.WorkCalendar().is_workday(date(2026, 10, 10))


def test_unit_user_cannot_enter_holidays(world):
    with pytest.raises(Forbidden):
        workdays.save_holiday(world.unit_k1, workdays.HolidayDraft(date(2099, 1, 1), False, ""))


def test_holiday_needs_a_date(world):
    with pytest.raises(ValidationFailed) as caught:
        workdays.save_holiday(world.office, workdays.HolidayDraft(None, False, ""))
    assert "day" in caught.value.fields
