"""Fields shared by the forms: WTForms' own, with the same HTML written for less.

A page's forms render a few dozen inputs and labels (the ticket list's filter has
seventeen fields), and WTForms formats every attribute through `Markup.format`. The
widgets here give the same markup through `html_params` below; the forms import their
fields from this module.
"""
import wtforms
from markupsafe import Markup, escape
from wtforms import widgets
from wtforms.widgets.core import clean_key


def html_params(**kwargs) -> Markup:
    """`wtforms.widgets.html_params` with the same output: attributes sorted by name,
    `class_`/`data_`/`aria_` names cleaned, True written bare, False left out, names and
    values escaped (a double quote as `&quot;` even in Markup), joined by spaces.

    Each name and value is escaped on its own and the text joined, then marked safe
    once: composing each attribute through markupsafe (`Markup % …`), as WTForms does
    with `Markup.format`, costs four times as much (docs/security.md, bandit B704)."""
    params = []
    for key, value in sorted(kwargs.items()):
        if value is False:
            continue
        key = escape(clean_key(key))
        params.append(key if value is True
                      else f'{key}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))


_LABEL = Markup("<label %s>%s</label>")


def label(field, class_: str) -> Markup:
    """`field.label(class_=…)`'s HTML: `<label class="…" for="id">text</label>`."""
    return _LABEL % (html_params(class_=class_, for_=field.label.field_id), field.label.text)


def _attributes_for_less(field_class: type) -> type:
    """`field_class` whose input widget (one of WTForms' `Input`s, built with its defaults)
    writes its attributes through `html_params` above."""
    widget = type(field_class.widget)
    ours = type(widget.__name__, (widget,), {"html_params": staticmethod(html_params)})
    return type(field_class.__name__, (field_class,),
                {"widget": ours(), "__module__": __name__, "__doc__": field_class.__doc__})


StringField = _attributes_for_less(wtforms.StringField)
IntegerField = _attributes_for_less(wtforms.IntegerField)
DateField = _attributes_for_less(wtforms.DateField)
PasswordField = _attributes_for_less(wtforms.PasswordField)
EmailField = _attributes_for_less(wtforms.EmailField)
URLField = _attributes_for_less(wtforms.URLField)


class Select(widgets.Select):
    """WTForms' select with the same HTML, its plain options written directly: WTForms
    formats each option's attributes through `html_params` and `Markup.format`, which
    costs more than the rest of a filter form (the dashboard's unit filter has hundreds).

    A plain option is text whose value and label are escaped here; WTForms' `Select`
    joins the options and marks the whole select safe once (composing each option through
    markupsafe, `Markup % …`, cost the dashboard a tenth of its CPU)."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        value = choice.value
        if kwargs or choice.render_kw or not isinstance(value, (str, int)) \
                or isinstance(value, bool):
            return super().render_option(choice, **kwargs)
        selected = " selected" if choice.selected else ""
        return (f'<option{selected} value="{escape(value)}">'
                f'{escape(choice.label or value)}</option>')


class SelectField(wtforms.SelectField):
    widget = Select()


class SelectMultipleField(wtforms.SelectMultipleField):
    widget = Select(multiple=True)
