"""Helpers every page template may use: which pages exist, where a user starts, links that
keep the current query, and the labels of the ticket's enumerations.

`has_endpoint` lets the navigation and the ticket pages link to a page only when it is
registered (an application may be built without some blueprints, as some tests do).
"""
from urllib.parse import urlencode

from flask import Flask, current_app, g, request, url_for
from flask_babel import get_locale
from werkzeug.datastructures import MultiDict
from werkzeug.routing import BuildError

from tracker.models import InspectionKind, Role, Severity, TimelineKind, User
from tracker.services import inspections
from tracker.services.workflow import status_label


def has_endpoint(name: str) -> bool:
    """Whether a route with this endpoint name is registered in the application's URL map."""
    try:
        return next(current_app.url_map.iter_rules(name), None) is not None
    except KeyError:
        return False


def link_to(name: str, **values) -> str | None:
    """The URL of an endpoint, or None when it does not exist (or needs other arguments)."""
    if not has_endpoint(name):
        return None
    try:
        return url_for(name, **values)
    except BuildError:
        return None


def start_page(user: User) -> str | None:
    """Where `/` sends the user: unit users to their own tickets; office and supervisor to
    the dashboard (or the ticket list until there is one); the administrator to the list.
    None for an office or supervisor account that has no scope yet: nothing to show."""
    if user.role == Role.UNIT_USER:
        return url_for("tickets.mine")
    if user.role in (Role.OFFICE, Role.SUPERVISOR):
        if user.scope_unit_id is None:
            return None
        return link_to("dashboard.index") or url_for("tickets.index")
    return url_for("tickets.index")


def url_with(**changes) -> str:
    """This page's URL with some query arguments replaced (None drops one). Repeated
    arguments such as `status` survive. After a POST the page's own URL is `g.page_url`."""
    if request.method == "GET":
        base, args = request.path, request.args.copy()
    else:
        base, args = g.get("page_url") or url_for("main.index"), MultiDict()
    args.pop("lang", None)
    for key, value in changes.items():
        args.pop(key, None)
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            args.setlist(key, [str(v) for v in value])
        else:
            args[key] = str(value)
    query = urlencode(list(args.items(multi=True)))
    return f"{base}?{query}" if query else base


#: The language switch: locale, the language's own name, and its HTML language tag.
LANGUAGES = (("zh_CN", "中文", "zh-CN"), ("en", "English", "en"))


def list_sep() -> str:
    """Separator of names in a list: 、 in Chinese, a comma in English."""
    return "、" if str(get_locale()).startswith("zh") else ", "


def timeline_label(kind: TimelineKind | str | None) -> str:
    return "" if kind is None else inspections.timeline_label(kind)


def severity_label(severity: Severity | str | None) -> str:
    return "" if severity is None else inspections.severity_label(severity)


def inspection_kind_label(kind: InspectionKind | str | None) -> str:
    return "" if kind is None else inspections.kind_label(kind)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        has_endpoint=has_endpoint, link_to=link_to, url_with=url_with, list_sep=list_sep,
        languages=LANGUAGES,
        status_label=status_label, timeline_label=timeline_label,
        severity_label=severity_label, inspection_kind_label=inspection_kind_label,
        Role=Role,
        # base.html asks for the locale (html lang); Flask-Babel 4 does not provide it.
        get_locale=get_locale,
    )
