"""Extension instances, bound to the application in `create_app`."""
from functools import cached_property

import flask_babel
from flask import g, has_app_context
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from tracker.models.base import Base


class RequestDomain(flask_babel.Domain):
    """Flask-Babel's message domain, keeping the translations it found for the rest of the
    context: Flask-Babel 4 finds the locale and its catalogue anew for every string, and a
    page translates hundreds. They are kept where Flask-Babel keeps the locale, under the
    name its `refresh()` and `force_locale()` clear (`babel_translations`), so a changed
    or forced locale is never answered from an earlier one's."""

    def get_translations(self):
        kept = g.get("_flask_babel") if has_app_context() else None
        translations = getattr(kept, "babel_translations", None)
        if translations is None:
            translations = super().get_translations()
            kept = g.get("_flask_babel") if has_app_context() else None
            if kept is not None:
                kept.babel_translations = translations
        return translations


class Babel(flask_babel.Babel):
    """Flask-Babel with a `RequestDomain`, which templates ask directly: this application
    sets no per-request domain, so `flask_babel.get_domain()`'s own context lookups, made
    for every string, would only find this one again."""

    @cached_property
    def domain_instance(self):
        return RequestDomain(domain=self.domain)

    def init_app(self, app, *args, **kwargs):
        super().init_app(app, *args, **kwargs)
        if self._configure_jinja:
            def translations():
                return self.domain_instance.get_translations()

            app.jinja_env.install_gettext_callables(
                gettext=lambda s: translations().ugettext(s),
                ngettext=lambda s, p, n: translations().ungettext(s, p, n),
                pgettext=lambda c, s: translations().upgettext(c, s),
                npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
                newstyle=True)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
