"""The select widget writes its options itself; its HTML must stay WTForms' own."""
import pytest
from wtforms import Form, SelectChoice
from wtforms import SelectField as WTFormsSelectField
from wtforms import SelectMultipleField as WTFormsSelectMultipleField

from tracker.forms.fields import SelectField, SelectMultipleField

CHOICES = [
    SelectChoice("", "All <units> & \"quoted\""),
    SelectChoice("1", "\u3000Second 'level'"),
    SelectChoice('a"b<c>', ""),  # no label: the value is shown
    SelectChoice("2", "With attributes", render_kw={"data-x": "y", "disabled": True}),
    SelectChoice(3, "An integer value"),
]


def _render(field_class, data, **render_kw):
    class F(Form):
        choice = field_class("Choice", choices=CHOICES)

    return str(F(data=data).choice(**render_kw))


@pytest.mark.parametrize("data", [{}, {"choice": "1"}, {"choice": 'a"b<c>'}, {"choice": "3"}])
def test_select_renders_as_wtforms_does(data):
    assert _render(SelectField, data, class_="form-select") == \
        _render(WTFormsSelectField, data, class_="form-select")


def test_select_multiple_renders_as_wtforms_does():
    data = {"choice": ["1", "2"]}
    assert _render(SelectMultipleField, data) == _render(WTFormsSelectMultipleField, data)


# --- inputs and labels ----------------------------------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402
from markupsafe import Markup  # noqa: E402
from wtforms import DateField as WTFormsDateField  # noqa: E402
from wtforms import IntegerField as WTFormsIntegerField  # noqa: E402
from wtforms import StringField as WTFormsStringField  # noqa: E402
from wtforms.validators import Length, NumberRange, Optional  # noqa: E402
from wtforms.widgets import html_params as wtforms_html_params  # noqa: E402

from tracker.forms import fields  # noqa: E402

_names = st.sampled_from(["class_", "for_", "id", "name", "value", "data_hx_get",
                          "aria_describedby", "aria-invalid", "hx-get", "placeholder",
                          "list", "autocomplete", "type", "required", "min", "max"])
_texts = st.text(alphabet=st.sampled_from('a<>&"\' =中'), max_size=12) | st.text(max_size=12)
_values = st.one_of(st.booleans(), st.integers(), _texts, _texts.map(Markup))


@settings(deadline=None)
@given(st.dictionaries(_names, _values, max_size=8))
def test_html_params_writes_what_wtforms_writes(attributes):
    assert fields.html_params(**attributes) == wtforms_html_params(**attributes)


@pytest.mark.parametrize("ours, theirs, data, kwargs", [
    (fields.StringField, WTFormsStringField, {"x": 'a "b" <c> & d'}, {"validators": [Length(max=9)]}),
    (fields.IntegerField, WTFormsIntegerField, {"x": 5},
     {"validators": [Optional(), NumberRange(min=1, max=200)]}),
    (fields.DateField, WTFormsDateField, {}, {}),
])
def test_inputs_and_labels_render_as_wtforms_does(ours, theirs, data, kwargs):
    def render(field_class):
        class F(Form):
            x = field_class("Label <&> \"q\"", **kwargs)

        field = F(data=data).x
        attrs = {"class_": "form-control is-invalid", "aria-describedby": "x-hint x-error",
                 "aria-invalid": "true", "hx-get": "/u?q=1&r=2", "disabled": False}
        return str(field(**attrs)), str(fields.label(field, "form-label")
                                        if field_class is ours
                                        else field.label(class_="form-label"))

    assert render(ours) == render(theirs)


# --- a field with its label, hint and errors (views/ui.form_field) ----------------------

from wtforms import RadioField  # noqa: E402

from tracker.forms.fields import SelectField as OurSelectField  # noqa: E402
from tracker.views.ui import form_field  # noqa: E402


class _Fields(Form):
    text = fields.StringField("Text")
    pick = OurSelectField("Pick", choices=[SelectChoice("a", "A")])
    decision = RadioField("Decision", choices=[SelectChoice("yes", "Yes <b>"), SelectChoice("no", "No")])


def test_a_field_names_its_hint_and_its_errors_for_screen_readers():
    form = _Fields()
    form.text.errors = ["Too <long>", "Not allowed"]
    html = str(form_field(form.text, None, "A <hint>", "mb-3", {"maxlength": 9}))
    assert '<label class="form-label" for="text">Text</label>' in html
    assert 'aria-describedby="text-hint text-error"' in html and 'aria-invalid="true"' in html
    assert 'class="form-control is-invalid"' in html and 'maxlength="9"' in html
    assert '<div class="form-text" id="text-hint">A &lt;hint&gt;</div>' in html
    assert '<div class="invalid-feedback d-block" id="text-error">Too &lt;long&gt; Not allowed</div>' \
        in html


def test_a_valid_field_without_hint_carries_no_aria_and_a_select_its_own_class():
    form = _Fields()
    text = str(form_field(form.text, "search", None, "col", {}))
    assert text.startswith('<div class="col">') and "aria-" not in text
    assert 'type="search"' in text and "invalid-feedback" not in text
    assert 'class="form-select"' in str(form_field(form.pick))


def test_radio_choices_are_a_fieldset_with_a_legend():
    form = _Fields()
    form.decision.errors = ["Choose one."]
    html = str(form_field(form.decision))
    assert '<fieldset aria-describedby="decision-error">\n<legend class="form-label fs-6">Decision' \
        '</legend>' in html
    assert '<input class="form-check-input is-invalid" id="decision-0" name="decision" ' \
           'type="radio" value="yes"> <label class="form-check-label" for="decision-0">Yes &lt;b&gt;</label>' \
        in html
