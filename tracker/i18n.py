"""Languages (zh_CN default, en second) and the date and number forms of each."""
from datetime import date, datetime

from flask import Flask, has_request_context, request, session
from flask_babel import format_date, format_datetime, get_locale, refresh
from flask_login import current_user


def select_locale() -> str:
    supported = ("zh_CN", "en")
    if not has_request_context():
        return "zh_CN"
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in supported:
        return chosen
    if current_user and getattr(current_user, "locale", None) in supported:
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
        if request.args.get("lang") in ("zh_CN", "en"):
            session["lang"] = request.args["lang"]
