"""Languages (zh_CN default, en second) and the date and number forms of each.

The chosen language (`?lang=` on any page, the menu's language switch) is kept in the
session and in a long-lived `lang` cookie of its own, so that it survives logging out,
the end of an idle session and the login page that follows."""
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from typing import Iterator

import flask_babel
from babel.support import NullTranslations
from flask import Flask, has_request_context, request, session
from flask_babel import format_date, format_datetime, force_locale, get_locale, get_translations
from flask_babel import refresh
from flask_login import current_user


SUPPORTED = ("zh_CN", "en")
#: The cookie remembering the chosen language: not part of the session, never cleared by
#: logging out; it holds nothing but "zh_CN" or "en".
LANG_COOKIE = "lang"
LANG_COOKIE_AGE = timedelta(days=365)


def chosen_language() -> str | None:
    """The language the person picked: this request's `?lang=`, the session's, the
    cookie's; None when they never picked one."""
    for chosen in (request.args.get("lang"), session.get("lang"),
                   request.cookies.get(LANG_COOKIE)):
        if chosen in SUPPORTED:
            return chosen
    return None


def select_locale() -> str:
    if not has_request_context():
        return "zh_CN"
    chosen = chosen_language()
    if chosen:
        return chosen
    if current_user and getattr(current_user, "locale", None) in SUPPORTED:
        return current_user.locale
    return "zh_CN"


#: Inside `rendering`: the translations of its locale and whether it is Chinese.
_rendering: ContextVar[tuple[NullTranslations, bool] | None] = ContextVar("rendering",
                                                                          default=None)


@contextmanager
def rendering(locale: str) -> Iterator[None]:
    """`force_locale`, for rendering many messages at once (a reminder pass writes
    hundreds of thousands): `gettext` and `fmt_date` below use the locale's translations
    looked up here once, where Flask-Babel finds its context anew for every string."""
    with force_locale(locale):
        token = _rendering.set((get_translations(), str(get_locale()).startswith("zh")))
        try:
            yield
        finally:
            _rendering.reset(token)


def gettext(string: str, **variables) -> str:
    """Flask-Babel's `gettext`; inside `rendering`, from the translations it looked up."""
    active = _rendering.get()
    if active is None:
        return flask_babel.gettext(string, **variables)
    text = active[0].ugettext(string)
    return text % variables if variables else text


def is_chinese() -> bool:
    """Whether the language in force (inside `rendering`, its language) is Chinese."""
    active = _rendering.get()
    return active[1] if active is not None else str(get_locale()).startswith("zh")


def fmt_date(value: date | datetime | None, chinese: bool | None = None) -> str:
    """2026年11月21日 in Chinese, Nov 21, 2026 in English. `chinese`: the language, when
    the caller found it already (else the one in force)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if chinese is None:
        chinese = is_chinese()
    if chinese:
        return f"{value.year}年{value.month}月{value.day}日"
    return format_date(value, "medium")


def fmt_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    if is_chinese():
        return format_datetime(value, "yyyy年M月d日 HH:mm")
    return format_datetime(value, "medium")


def init_app(app: Flask) -> None:
    app.jinja_env.filters["date"] = fmt_date
    app.jinja_env.filters["datetime"] = fmt_datetime

    @app.before_request
    def remember_language():
        # The locale is cached per application context; a request must never inherit
        # the one of an earlier request (tests run several requests in one context).
        refresh()
        if request.args.get("lang") in SUPPORTED:
            session["lang"] = request.args["lang"]

    @app.after_request
    def remember_language_cookie(response):
        if not has_request_context() or request.endpoint == "static":
            return response
        chosen = request.args.get("lang") if request.args.get("lang") in SUPPORTED \
            else session.get("lang")
        if chosen in SUPPORTED and request.cookies.get(LANG_COOKIE) != chosen:
            response.set_cookie(
                LANG_COOKIE, chosen, max_age=int(LANG_COOKIE_AGE.total_seconds()),
                path="/", httponly=True, samesite="Lax",
                secure=bool(app.config.get("SESSION_COOKIE_SECURE")))
        return response
