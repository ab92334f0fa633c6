"""Forms of the ticket pages: the list's filter (a GET form: its URL can be shared) and one
form per workflow action. Each action form carries the ticket's `version`, so that a
stale page is refused as a conflict instead of overwriting someone else's change.

The forms check shape only (required, lengths, dates, choices); the rules themselves live
in `services.workflow`, whose field errors `views.forms.apply_errors` maps back here. Field
names therefore match the services' field keys.
"""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    RadioField,
    SelectChoice,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from tracker.forms.fields import (
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from tracker.models import Severity, TicketStatus
from tracker.services import clock, rollup, ticket_queries, workflow

MAX_TEXT = workflow.MAX_TEXT
MAX_REASON = workflow.MAX_REASON
#: Page numbers beyond this are nonsense, and would make the database skip that many rows.
MAX_PAGE = 100_000
#: The category filter's value for findings without a category (the roll-up links to it).
NO_CATEGORY = "none"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def optional_int(value) -> int | None:
    """Select coercion where "" (and absence) means "any"."""
    if value in (None, ""):
        return None
    return int(value)


def optional_flag(value) -> bool | None:
    """"1"/"0" (also true/false, yes/no) from a shared URL; "" means "either"."""
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


def optional_str(value) -> str | None:
    """Select coercion of a text value where "" (and absence) means "any"."""
    return None if value in (None, "") else str(value)


def category_value(value) -> int | str | None:
    """A category id, "none" (findings without a category), or "" for any."""
    if value in (None, ""):
        return None
    if value == NO_CATEGORY:
        return NO_CATEGORY
    return int(value)


def _choice(value, label) -> SelectChoice:
    return SelectChoice(value=value, label=label)


class UnitField(StringField):
    """A unit picker: a text input with search-as-you-type suggestions (`<datalist>` filled
    by htmx from the scoped unit search); without JavaScript, the user types a unit's name or
    code. A shared URL may give the unit's id (`?unit=5`). The view sets `resolver` (text ->
    Unit, in the user's scope, raising a ValidationError); `unit` then holds the Unit found."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("filters", [_strip])
        super().__init__(*args, **kwargs)
        self.unit = None
        self.resolver = None

    def _value(self):
        if self.unit is not None:
            return self.label_of(self.unit)
        return super()._value()

    @staticmethod
    def label_of(unit) -> str:
        return f"{unit.name} ({unit.code})"

    def set_unit(self, unit) -> None:
        """Show this unit (a form not yet submitted)."""
        self.unit = unit
        self.data = None if unit is None else unit.id

    def pre_validate(self, form):
        self.unit = None
        if self.data in (None, ""):
            return
        if self.resolver is None:
            raise ValidationError(_l("Not one of the allowed values."))
        self.unit = self.resolver(str(self.data))

    @property
    def unit_id(self) -> int | None:
        return None if self.errors or self.unit is None else self.unit.id


class InspectionField(UnitField):
    """An inspection picker, like the unit picker: typed by title (suggestions as you type)
    or given by id in a shared URL (`?inspection=3`); `unit` holds the Inspection found."""

    @staticmethod
    def label_of(inspection) -> str:
        return f"{inspection.year} {inspection.title} (#{inspection.id})"


class UnitListField(UnitField):
    """Several unit pickers under one name (each a text input): the units found, in order."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.units = []
        self.texts = []

    def process_formdata(self, valuelist):
        self.texts = [" ".join(v.split()) for v in valuelist if v and v.strip()]
        self.data = self.texts

    def pre_validate(self, form):
        self.units, problems = [], []
        for text in self.texts:
            if self.resolver is None:
                raise ValidationError(_l("Not one of the allowed values."))
            try:
                self.units.append(self.resolver(text))
            except ValidationError as error:
                problems.append(f"{text}: {error.args[0]}")
        if problems:
            raise ValidationError("; ".join(problems))


# --- the ticket list --------------------------------------------------------------------

SORT_LABELS = {
    "deadline": _l("Deadline, earliest first"),
    "-deadline": _l("Deadline, latest first"),
    "-updated": _l("Recently changed first"),
    "updated": _l("Least recently changed first"),
}

SEVERITY_LABELS = {
    Severity.GENERAL: _l("General"),
    Severity.SERIOUS: _l("Serious"),
    Severity.CRITICAL: _l("Critical"),
}


def _flag_choices(yes, no):
    return [_choice("", _l("Either")), _choice("1", yes), _choice("0", no)]


class TicketListForm(FlaskForm):
    """Filters, sort and page of the ticket list; the query argument names are public
    (the dashboard links to e.g. /tickets?overdue=1&unit=5)."""

    class Meta:
        csrf = False

    status = SelectMultipleField(_l("Status"), validators=[Optional()])
    overdue = SelectField(_l("Overdue"), coerce=optional_flag,
                          choices=_flag_choices(_l("Overdue only"), _l("Not overdue")))
    near_due = SelectField(_l("Near due"), coerce=optional_flag,
                           choices=_flag_choices(_l("Near due only"), _l("Not near due")))
    unit = UnitField(_l("Lead unit (and units below)"))
    inspection = InspectionField(_l("Inspection"))
    finding = IntegerField(_l("Finding no. (internal id)"),
                           validators=[Optional(), NumberRange(min=1)])
    category = SelectField(_l("Category"), coerce=category_value)
    deadline_from = DateField(_l("Deadline from"), validators=[Optional()])
    deadline_to = DateField(_l("Deadline until"), validators=[Optional()])
    q = StringField(_l("Search"), filters=[_strip], validators=[Optional(), Length(max=100)])
    sort = SelectField(_l("Sort by"), default="deadline",
                       choices=[_choice(k, v) for k, v in SORT_LABELS.items()])
    page = IntegerField(_l("Page"), validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)])
    per_page = IntegerField(_l("Rows per page"), validators=[
        Optional(), NumberRange(min=1, max=ticket_queries.MAX_PER_PAGE)])
    # Further filters, mostly reached from the dashboard's figures (rollup.drill_params).
    lead_unit = UnitField(_l("Lead unit (exactly, without units below)"))
    year = IntegerField(_l("Inspection year"),
                        validators=[Optional(), NumberRange(min=1990, max=2100)])
    severity = SelectField(_l("Severity"), coerce=optional_str, choices=[_choice("", _l("Any"))] + [
        _choice(s.value, label) for s, label in SEVERITY_LABELS.items()])
    planned = SelectField(_l("Planned completion"), coerce=optional_str)
    closed_late = SelectField(_l("Late sign-off"), coerce=optional_flag,
                              choices=_flag_choices(_l("Signed off late only"),
                                                    _l("Not signed off late")))
    declined = SelectField(_l("Declined by the unit"), coerce=optional_flag,
                           choices=_flag_choices(_l("Declined only"), _l("Not declined")))

    #: The fields of the "more filters" section, opened when one of them is set.
    MORE = ("lead_unit", "year", "severity", "planned", "closed_late", "declined")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [_choice(s.value, workflow.status_label(s)) for s in TicketStatus]
        cut = rollup.next_year_cut(clock.today())
        self.planned.choices = [_choice("", _l("Any"))] + [
            _choice(b, rollup.bucket_label(b, cut)) for b in rollup.BUCKETS]

    def set_choices(self, resolve_unit, resolve_inspection, categories) -> None:
        """Only what the user may see is offered; anything else in the URL is refused.
        `resolve_unit`, `resolve_inspection`: text -> Unit / Inspection in the user's scope
        (raising ValidationError)."""
        self.unit.resolver = self.lead_unit.resolver = resolve_unit
        self.inspection.resolver = resolve_inspection
        self.category.choices = [_choice("", _l("All categories"))] + [
            _choice(str(c.id), c.name) for c in categories] + [
            _choice(NO_CATEGORY, _l("Without a category"))]

    def validate_deadline_to(self, field):
        if field.data and self.deadline_from.data and field.data < self.deadline_from.data:
            raise ValidationError(_l("The end of the range is before its start."))

    def value(self, name: str):
        """The field's value if it passed validation, else None (a bad filter is dropped)."""
        field = self[name]
        return None if field.errors else field.data

    def has_more(self) -> bool:
        return any(self[name].data not in (None, "") or self[name].errors
                   for name in self.MORE)

    def to_filter(self) -> ticket_queries.TicketFilter:
        statuses = self.value("status") or []
        category = self.value("category")
        return ticket_queries.TicketFilter(
            statuses=tuple(TicketStatus(s) for s in dict.fromkeys(statuses)),
            overdue=self.value("overdue"),
            near_due=self.value("near_due"),
            unit_id=self.unit.unit_id,
            inspection_id=self.inspection.unit_id,
            finding_id=self.value("finding"),
            category_id=None if category == NO_CATEGORY else category,
            no_category=category == NO_CATEGORY,
            lead_unit_id=self.lead_unit.unit_id,
            year=self.value("year"),
            severity=self.value("severity") or None,
            planned=self.value("planned") or None,
            closed_late=self.value("closed_late"),
            declined=self.value("declined"),
            deadline_from=None if self.deadline_to.errors else self.value("deadline_from"),
            deadline_to=self.value("deadline_to"),
            q=self.value("q") or None,
            sort=self.value("sort") or "deadline",
        )


# --- the actions on one ticket ----------------------------------------------------------

class VersionedForm(FlaskForm):
    """Every action names the version of the ticket the user was looking at."""

    # Hidden, so no label; without one WTForms would title-case the name through its own
    # catalogue, loaded from disk for every request that builds the form.
    version = IntegerField("", widget=HiddenInput(), validators=[InputRequired()])


class AcknowledgeForm(VersionedForm):
    pass


class SubmitForm(VersionedForm):
    pass


class DeclineForm(VersionedForm):
    reason = TextAreaField(_l("Why this ticket is not your unit's"), filters=[_strip],
                           validators=[DataRequired(), Length(max=MAX_REASON)])


class ProgressForm(VersionedForm):
    text = TextAreaField(_l("What has been done"), filters=[_strip],
                         validators=[DataRequired(), Length(max=MAX_TEXT)])
    #: Lead unit only; the view removes both fields for a cooperating unit.
    percent = IntegerField(_l("Progress (%)"), validators=[Optional(), NumberRange(0, 100)])
    planned_completion_on = DateField(_l("Planned completion date"), validators=[Optional()])


class ExtensionForm(VersionedForm):
    deadline = DateField(_l("New deadline requested"), validators=[InputRequired()])
    reason = TextAreaField(_l("Reason for the extension"), filters=[_strip],
                           validators=[DataRequired(), Length(max=MAX_REASON)])


class ApproveForm(VersionedForm):
    note = TextAreaField(_l("Comment (optional)"), filters=[_strip],
                         validators=[Optional(), Length(max=MAX_REASON)])


class ReturnForm(VersionedForm):
    reason = TextAreaField(_l("Reason for returning"), filters=[_strip],
                           validators=[DataRequired(), Length(max=MAX_REASON)])


class LongTermForm(VersionedForm):
    stage_goal = TextAreaField(_l("Stage goal"), filters=[_strip],
                               validators=[DataRequired(), Length(max=MAX_TEXT)])
    next_review_on = DateField(_l("Next review date"), validators=[InputRequired()])
    review_cycle_days = IntegerField(_l("Review cycle (days)"), default=90,
                                     validators=[InputRequired(), NumberRange(1, 366)])


class EditForm(VersionedForm):
    lead_unit_id = UnitField(_l("Lead unit"), validators=[InputRequired()])
    #: The cooperating units the ticket has: checked ones stay.
    cooperating_unit_ids = SelectMultipleField(_l("Cooperating units"), coerce=int,
                                               validators=[Optional()])
    #: Units to add as cooperating, one per picker.
    add_cooperating = UnitListField(_l("Add cooperating units"))
    #: How many empty pickers the page offers for new cooperating units.
    ADD_SLOTS = 3
    deadline = DateField(_l("Deadline"), validators=[InputRequired()])
    planned_completion_on = DateField(_l("Planned completion date"), validators=[Optional()])
    responsible_person = StringField(_l("Responsible person"), filters=[_strip],
                                     validators=[Optional(), Length(max=100)])
    measures = TextAreaField(_l("Measures"), filters=[_strip],
                             validators=[Optional(), Length(max=MAX_TEXT)])
    target = TextAreaField(_l("Target"), filters=[_strip],
                           validators=[Optional(), Length(max=MAX_TEXT)])

    def set_units(self, ticket, resolve_unit) -> None:
        """The ticket's cooperating units as choices (kept unless unchecked), the lead unit
        shown when the form is fresh, and the resolver of typed units."""
        current = [c.unit for c in ticket.cooperating]
        self.cooperating_unit_ids.choices = [(u.id, f"{u.name} ({u.code})") for u in current]
        self.lead_unit_id.resolver = self.add_cooperating.resolver = resolve_unit
        if getattr(self.lead_unit_id, "raw_data", None) is None:
            self.lead_unit_id.set_unit(ticket.lead_unit)

    def to_changes(self) -> workflow.TicketChanges:
        return workflow.TicketChanges(
            lead_unit_id=self.lead_unit_id.unit_id,
            cooperating_unit_ids=tuple(dict.fromkeys(
                [*(self.cooperating_unit_ids.data or ()),
                 *(u.id for u in self.add_cooperating.units)])),
            deadline=self.deadline.data,
            planned_completion_on=self.planned_completion_on.data,
            responsible_person=self.responsible_person.data or "",
            measures=self.measures.data or "",
            target=self.target.data or "",
        )


class CancelForm(VersionedForm):
    reason = TextAreaField(_l("Reason for cancelling"), filters=[_strip],
                           validators=[DataRequired(), Length(max=MAX_REASON)])


class ReopenForm(VersionedForm):
    reason = TextAreaField(_l("Reason for reopening"), filters=[_strip],
                           validators=[DataRequired(), Length(max=MAX_REASON)])
    deadline = DateField(_l("New deadline"), validators=[InputRequired()])


class DecideExtensionForm(VersionedForm):
    decision = RadioField(_l("Decision"), validators=[InputRequired()], choices=[
        _choice("approve", _l("Approve the new deadline")),
        _choice("refuse", _l("Refuse, keep the deadline")),
    ])
    note = TextAreaField(_l("Comment (optional)"), filters=[_strip],
                         validators=[Optional(), Length(max=MAX_REASON)])
