"""Languages (zh_CN default, en second) and the date and number forms of each.

The chosen language (`?lang=` on any page, the menu's language switch) is kept in the
session and in a long-lived `lang` cookie of its own, so that it survives logging out,
the end of an idle session and the login page that follows."""
from datetime import date, datetime, timedelta

from flask import Flask, has_request_context, request, session
from flask_babel import format_date, format_datetime, get_locale, refresh
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


def fmt_date(value: date | datetime | None) -> str:
    """2026年11月21日 in Chinese, Nov 21, 2026 in English."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if str(get_locale()).startswith("zh"):
        return f"{value.year}年{value.month}月{value.day}日"
    return format_date(value, "medium")


def fmt_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    if str(get_locale()).startswith("zh"):
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
