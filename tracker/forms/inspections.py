"""Forms of the inspection pages: inspection, finding, and splitting a finding into tickets.

The forms only parse; every rule is checked by `services.inspections`, whose field errors
are put back beside the fields. Choices (units, categories, earlier findings) are filled in
by the view from what the user may see.
"""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    SelectChoice,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from tracker.forms.fields import (
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from tracker.models import InspectionKind, Severity, TimelineKind
from tracker.services.inspections import KIND_LABELS, SEVERITY_LABELS, TIMELINE_LABELS

#: Rows a split form may carry; more is a paste error, not a plan.
MAX_SPLIT_ROWS = 60
SPLIT_ROWS = 3


def choices(pairs) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


def optional_int(value):
    """Coerce a select's value: the empty choice is None."""
    if value in (None, "", "None"):
        return None
    return int(value)


class InspectionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), default=InspectionKind.ONSITE.value,
                       choices=choices(KIND_LABELS.items()))
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(2000, 2100)])
    owner_unit_id = SelectField(_l("Owning office"), coerce=optional_int)
    inspected_body = StringField(_l("Inspected body"),
                                 validators=[InputRequired(), Length(max=200)])
    inspecting_body = StringField(_l("Inspecting body"),
                                  validators=[InputRequired(), Length(max=200)])
    document_number = StringField(_l("Document number"), validators=[Length(max=100)])
    feedback_on = DateField(_l("Feedback date"), validators=[InputRequired()])
    default_deadline = DateField(_l("Default deadline"), validators=[InputRequired()])
    signoff_levels = SelectField(_l("Sign-off chain"), coerce=int, default=1, choices=choices([
        (1, _l("One level: the office signs off")),
        (2, _l("Two levels: a supervisor verifies, then the office signs off")),
    ]))
    supervisors_may_sign_off = BooleanField(
        _l("Supervisors in scope may sign off (one-level chain only)"))


class FindingForm(FlaskForm):
    number = IntegerField(_l("Number"), validators=[Optional(), NumberRange(1, 9999)])
    title = StringField(_l("Problem"), validators=[InputRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    category_id = SelectField(_l("Category"), coerce=optional_int)
    severity = SelectField(_l("Severity"), default=Severity.GENERAL.value,
                           choices=choices(SEVERITY_LABELS.items()))
    basis = TextAreaField(_l("Indicator or rule"), validators=[Length(max=5000)])
    requirement = TextAreaField(_l("Rectification requirement"), validators=[Length(max=5000)])
    required_evidence = TextAreaField(_l("Required evidence (one item per line)"),
                                      validators=[Length(max=5000)])
    repeats_finding_id = SelectField(_l("Repeats an earlier finding"), coerce=optional_int)


class TicketRowForm(Form):
    """One row of the split form: one ticket for one lead unit."""

    lead_unit_id = SelectField(_l("Lead unit"), coerce=optional_int)
    cooperating_unit_ids = SelectMultipleField(_l("Cooperating units"), coerce=int)
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    timeline = SelectField(_l("Timeline"), default=TimelineKind.BY_DATE.value,
                           choices=choices(TIMELINE_LABELS.items()))
    measures = TextAreaField(_l("Measures"), validators=[Length(max=5000)])
    responsible_person = StringField(_l("Responsible person"), validators=[Length(max=100)])

    def is_blank(self) -> bool:
        return (self.lead_unit_id.data is None and not self.cooperating_unit_ids.data
                and not (self.measures.data or "").strip()
                and not (self.responsible_person.data or "").strip())


class SplitForm(FlaskForm):
    tickets = FieldList(FormField(TicketRowForm), min_entries=SPLIT_ROWS,
                        max_entries=MAX_SPLIT_ROWS)
