"""Fields shared by the forms."""
import wtforms
from markupsafe import Markup
from wtforms import widgets


class Select(widgets.Select):
    """WTForms' select with the same HTML, its plain options written directly: WTForms
    formats each option's attributes through `html_params` and `Markup.format`, which
    costs more than the rest of a filter form (the dashboard's unit filter has hundreds)."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        value = choice.value
        if kwargs or choice.render_kw or not isinstance(value, (str, int)) \
                or isinstance(value, bool):
            return super().render_option(choice, **kwargs)
        if choice.selected:
            return Markup('<option selected value="%s">%s</option>') % (value,
                                                                       choice.label or value)
        return Markup('<option value="%s">%s</option>') % (value, choice.label or value)


class SelectField(wtforms.SelectField):
    widget = Select()


class SelectMultipleField(wtforms.SelectMultipleField):
    widget = Select(multiple=True)
