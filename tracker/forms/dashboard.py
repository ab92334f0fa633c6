"""The dashboard's filter (a GET form whose URL can be shared): which part of the caller's
scope to roll up. The inspection is a picker (a province has thousands of inspections):
typed by title with suggestions, or given by id in a shared URL (`?inspection=3`)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice
from wtforms.validators import NumberRange, Optional

from tracker.forms.fields import IntegerField, SelectField
from tracker.forms.tickets import InspectionField
from tracker.models import Severity
from tracker.services import rollup


def _optional_int(value):
    if value in (None, ""):
        return None
    return int(value)


def _optional_str(value):
    return value or None


class DashboardFilterForm(FlaskForm):
    class Meta:
        csrf = False

    unit = SelectField(_l("Unit (and units below)"), coerce=_optional_int)
    inspection = InspectionField(_l("Inspection"))
    year = IntegerField(_l("Inspection year"), validators=[Optional(), NumberRange(2000, 2099)])
    category = SelectField(_l("Category"), coerce=_optional_int)
    severity = SelectField(_l("Severity"), coerce=_optional_str)

    def set_choices(self, units, resolve_inspection, categories) -> None:
        """Only what the user may see is offered; anything else in the URL is refused.
        `resolve_inspection`: text -> Inspection in the user's scope (raising
        ValidationError)."""
        top = min((u.depth for u in units), default=0)
        self.unit.choices = [SelectChoice("", _l("All units in my scope"))] + [
            SelectChoice(str(u.id), "\u3000" * (u.depth - top) + u.name) for u in units]
        self.inspection.resolver = resolve_inspection
        self.category.choices = [SelectChoice("", _l("All categories"))] + [
            SelectChoice(str(c.id), c.name) for c in categories]
        self.severity.choices = [SelectChoice("", _l("All severities"))] + [
            SelectChoice(s.value, rollup.severity_label(s)) for s in Severity]

    def to_scope(self) -> rollup.Scope:
        """The scope of the fields that passed validation (a bad one is left out)."""
        def ok(field):
            return field.data if not field.errors else None
        severity = ok(self.severity)
        return rollup.Scope(unit_id=ok(self.unit), inspection_id=self.inspection.unit_id,
                            year=ok(self.year), category_id=ok(self.category),
                            severity=Severity(severity) if severity else None)
