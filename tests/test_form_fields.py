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
