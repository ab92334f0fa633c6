"""Forms of the exports area: uploads of problem lists, returned ledgers, unit and user
files, their confirmation, and the hand-over of a leaving user's work."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice
from wtforms.validators import DataRequired, Regexp

from tracker.forms.fields import SelectField

SHEET_TYPES = ["xlsx", "csv"]
TOKEN = Regexp(r"^[A-Za-z0-9_-]{16,64}$")


def _optional_int(value):
    if value in (None, ""):
        return None
    return int(value)


class SheetUpload(FlaskForm):
    file = FileField(_l("File (Excel .xlsx or CSV)"), validators=[
        FileRequired(_l("Choose a file.")),
        FileAllowed(SHEET_TYPES, _l("Upload an Excel (.xlsx) or CSV file."))])


class FindingsUploadForm(SheetUpload):
    inspection = SelectField(_l("Inspection"), coerce=_optional_int,
                             validators=[DataRequired(_l("Choose an inspection."))])


class UnitsUploadForm(SheetUpload):
    kind = RadioField(_l("What the file holds"), default="units",
                      choices=[SelectChoice("units", _l("Units")),
                               SelectChoice("users", _l("Users"))])


class ConfirmForm(FlaskForm):
    """Carries the stashed upload's token from the preview to the confirmation."""

    token = HiddenField(validators=[DataRequired(), TOKEN])
    inspection = HiddenField()
    kind = HiddenField()


class HandoverForm(FlaskForm):
    leaving = SelectField(_l("Leaving user"), coerce=_optional_int,
                          validators=[DataRequired(_l("Choose a user."))])
    colleague = SelectField(_l("Colleague who takes over"), coerce=_optional_int,
                            validators=[DataRequired(_l("Choose a user."))])
    deactivate = BooleanField(_l("Deactivate the leaving user's account"), default=True)
