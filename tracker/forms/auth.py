from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import DataRequired, Length

from tracker.forms.fields import PasswordField, StringField


class LoginForm(FlaskForm):
    # autocomplete names the purpose of each field (WCAG 1.3.5): password managers and
    # assistive technology fill and announce them correctly.
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=80)],
                           render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[DataRequired()],
                                 render_kw={"autocomplete": "new-password"})
