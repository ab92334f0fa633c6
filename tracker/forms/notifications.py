"""Forms of the notification pages: urging notices, reminder settings, holidays.

The preference and default tables (one row per kind) are read straight from the posted
form by the view; a bare `CsrfForm` protects them."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectChoice,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from tracker.forms.fields import DateField, IntegerField, SelectField, StringField
from tracker.models import UrgingLevel


class CsrfForm(FlaskForm):
    """Only the CSRF token: for buttons and tables read by the view itself."""


class UrgingForm(FlaskForm):
    level = SelectField(_l("Urging level"), choices=[
        SelectChoice(UrgingLevel.GENERAL.value, _l("general urging")),
        SelectChoice(UrgingLevel.IMPORTANT.value, _l("key urging")),
        SelectChoice(UrgingLevel.LISTED.value, _l("listed urging")),
    ], validators=[DataRequired()])
    text = TextAreaField(_l("Requirement"), validators=[DataRequired(), Length(max=2000)])
    respond_by = DateField(_l("Report back by"), validators=[Optional()])


class AcknowledgeUrgingForm(FlaskForm):
    response = TextAreaField(_l("Reply (optional)"), validators=[Optional(), Length(max=2000)])


def _days(label, lo, hi):
    return IntegerField(label, validators=[InputRequired(), NumberRange(min=lo, max=hi)])


class SettingsForm(FlaskForm):
    offsets = StringField(_l("Reminders before the deadline (days)"),
                          validators=[DataRequired(), Length(max=60)])
    overdue_repeat_days = _days(_l("Repeat overdue notices every (days)"), 1, 90)
    escalate_supervisor_days = _days(_l("Tell the supervisors after overdue (days)"), 1, 365)
    escalate_office_days = _days(_l("Tell the office after overdue (days)"), 1, 365)
    unacknowledged_days = _days(_l("Remind of unsigned tasks after (days)"), 1, 60)
    decision_wait_days = _days(_l("Remind deciders after waiting (days)"), 1, 90)
    urging_ack_days = _days(_l("Remind of unacknowledged urging notices after (days)"), 1, 60)
    report_day = _days(_l("Monthly progress report due on day (0: none)"), 0, 28)
    weekly_digest_weekday = SelectField(_l("Weekly digest on"), coerce=int, choices=[
        SelectChoice(day, label) for day, label in enumerate((
            _l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
            _l("Saturday"), _l("Sunday")))])
    daily_digest_hour = _days(_l("Digests from (hour)"), 0, 23)
    use_workdays = BooleanField(_l("Count reminder days in working days (official holiday "
                                   "calendar)"))


class HolidayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired()])
    is_workday = SelectField(_l("Kind of day"), choices=[
        SelectChoice("0", _l("Day off (holiday)")), SelectChoice("1", _l("Make-up working day"))],
        default="0")
    name = StringField(_l("Name"), validators=[Optional(), Length(max=60)])
