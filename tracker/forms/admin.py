"""Forms of the administration pages: units, users, categories. The rules live in the
services; choices are filled in by the view from what the user may see."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import InputRequired, Length, Optional, Regexp

from tracker.forms.fields import EmailField, SelectField, StringField, URLField
from tracker.forms.inspections import choices, optional_int
from tracker.models import Role, UnitKind

UNIT_KIND_LABELS = {
    UnitKind.PROVINCE: _l("Province"),
    UnitKind.CITY: _l("City or prefecture"),
    UnitKind.COUNTY: _l("County or district"),
    UnitKind.TOWNSHIP: _l("Township or street"),
    UnitKind.SCHOOL: _l("School"),
    UnitKind.DEPARTMENT: _l("Government department"),
    UnitKind.OFFICE: _l("Inspection office"),
}
ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.OFFICE: _l("Inspection office"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.UNIT_USER: _l("Unit staff"),
}


class NewUnitForm(FlaskForm):
    parent_id = SelectField(_l("Parent unit"), coerce=optional_int)
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=64)])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=choices(UNIT_KIND_LABELS.items()))


class UnitForm(FlaskForm):
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=64)])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=choices(UNIT_KIND_LABELS.items()))
    webhook_url = URLField(_l("Work-chat webhook"), validators=[Optional(), Length(max=500)])


class MoveUnitForm(FlaskForm):
    parent_id = SelectField(_l("New parent unit"), coerce=optional_int)


class UserForm(FlaskForm):
    """An account as the administrator edits it: never its password."""

    full_name = StringField(_l("Full name"), validators=[InputRequired(), Length(max=100)])
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS.items()),
                       default=Role.UNIT_USER.value)
    unit_id = SelectField(_l("Unit"), coerce=optional_int)
    scope_unit_id = SelectField(_l("Scope (office and supervisor)"), coerce=optional_int)
    email = EmailField(_l("E-mail"), validators=[
        Optional(), Length(max=200),
        Regexp(r"^[^@\s]+@[^@\s]+$", message=_l("Enter a valid e-mail address."))])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])


class NewUserForm(UserForm):
    username = StringField(_l("User name"), validators=[InputRequired(), Length(max=80)])


class CategoryForm(FlaskForm):
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=100)])
