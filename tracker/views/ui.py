"""Helpers every page template may use: which pages exist, where a user starts, links that
keep the current query, and the labels of the ticket's enumerations.

`has_endpoint` lets the navigation and the ticket pages link to a page only when it is
registered (an application may be built without some blueprints, as some tests do).
"""
from functools import lru_cache, wraps
from typing import Callable
from urllib.parse import urlencode

from flask import Flask, current_app, g, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict
from werkzeug.routing import BuildError

from tracker.forms.fields import label
from tracker.i18n import fmt_date, is_chinese
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
    return "、" if is_chinese() else ", "


def timeline_label(kind: TimelineKind | str | None) -> str:
    return "" if kind is None else inspections.timeline_label(kind)


def severity_label(severity: Severity | str | None) -> str:
    return "" if severity is None else inspections.severity_label(severity)


def inspection_kind_label(kind: InspectionKind | str | None) -> str:
    return "" if kind is None else inspections.kind_label(kind)


# --- a ticket's badges ----------------------------------------------------------------
#
# Shown on every row of the ticket tables (hundreds on a page) and on the ticket page:
# written here rather than as macros, whose calls cost more than the rest of a row. Each
# gives the HTML the macros gave: the translation and the values put into it are escaped
# (Jinja's `_()` takes the translation as it is; none of these holds a character to
# escape, in either language). A badge depends only on its values and the language, and
# a page repeats a handful of them: each is composed once per locale (`_per_language`).

def _per_language(badge: Callable[..., Markup]) -> Callable[..., Markup]:
    """`badge`, its HTML kept by its (hashable) arguments and the locale in force."""
    @lru_cache(maxsize=2048)
    def composed(locale: str, *args, **kwargs) -> Markup:
        return badge(*args, **kwargs)

    @wraps(badge)
    def kept(*args, **kwargs) -> Markup:
        return composed(str(get_locale()), *args, **kwargs)
    #: For a caller that found the locale already (a table asks once, not per row).
    kept.in_locale = composed
    return kept


def _html(text: str, **values) -> Markup:
    """A translation (`_("…")`, written out so that `make messages` finds it), escaped,
    with its values put in."""
    return escape(text) % values


@_per_language
def ticket_light(value: str, is_open: bool = True) -> Markup:
    """The traffic light of a ticket (Finished once it is closed or cancelled)."""
    if not is_open:
        return Markup('<span class="badge text-bg-secondary">%s</span>') % _html(_("Finished"))
    if value == "red":
        classes, text = "text-bg-danger light-badge", _("Overdue")
    elif value == "yellow":
        classes, text = "text-bg-warning light-badge", _("Near due")
    else:
        classes, text = "text-bg-success light-badge", _("On track")
    return Markup('<span class="badge %s">● %s</span>') % (classes, _html(text))


@_per_language
def ticket_timing(t) -> Markup:
    """Days left, overdue or waited (`views.tickets.Timing`)."""
    if t.kind == "overdue":
        return Markup('<span class="text-danger fw-semibold">%s</span>') % _html(
            _("%(n)s days overdue"), n=t.days)
    if t.kind == "due_today":
        return Markup('<span class="text-warning-emphasis fw-semibold">%s</span>') % _html(
            _("Due today"))
    if t.kind == "left":
        return _html(_("%(n)s days left"), n=t.days)
    quiet = Markup('<span class="text-body-secondary">%s</span>')
    if t.kind == "waited":
        return quiet % (_html(_("Submitted today")) if t.days == 0
                        else _html(_("Waiting for %(n)s days"), n=t.days))
    if t.kind == "closed":
        return quiet % _html(_("Closed"))
    if t.kind == "cancelled":
        return quiet % _html(_("Cancelled"))
    return quiet % "—"


@_per_language
def _status_badge(status, is_declined: bool) -> Markup:
    html = Markup('<span class="badge rounded-pill status-badge status-%s">%s</span>') % (
        status.value, status_label(status))
    if is_declined and status.value == "assigned":
        html += Markup(' <span class="badge text-bg-dark">%s</span>') % _html(
            _("Declined, awaiting reassignment"))
    return html


def ticket_status(ticket) -> Markup:
    """The status badge, and whether the lead unit declined the ticket."""
    return _status_badge(ticket.status, bool(ticket.is_declined))


# --- a ticket table's rows ---------------------------------------------------------------

class TicketCells:
    """The cells of a ticket table's rows (`ticket_table` in templates/tickets/_macros.html):
    its column names, separator, language and links are found once per table rather than
    once per row, and each row is one call (a page lists up to 200; written as a macro, a
    row cost more than the rest of the list page's layout)."""

    def __init__(self, own_unit_id: int | None = None):
        self.own_unit_id = own_unit_id
        self.locale = str(get_locale())
        self.chinese, self.sep = is_chinese(), list_sep()
        self.lead = escape(_("Lead unit"))
        self.coop = escape(_("Cooperating units"))
        self.deadline = escape(_("Deadline"))
        self.progress = escape(_("Progress"))
        self.ours = tuple(f'<div class="small text-body-secondary">{escape(text)}</div>'
                          for text in (_("We lead"), _("We cooperate")))
        # The link of ticket 0, whose id each row's replaces: one URL build per table.
        self.href = tuple(escape(part) for part in
                          url_for("tickets.show", ticket_id=0).rsplit("0", 1))

    def __call__(self, row) -> Markup:
        # Every value is escaped here, then the row is marked safe once: composing it
        # through markupsafe (`Markup.join`, `Markup % …`) costs twice as much. Bandit's
        # B704, accepted in scripts/bandit-baseline.json (docs/security.md); a test
        # compares the row with the template it replaced, special characters included.
        t = row.ticket
        href = f"{self.href[0]}{t.id}{self.href[1]}"
        source = escape(row.inspection_title)
        if row.document_number:
            source = f"{source} · {escape(row.document_number)}"
        lead = escape(row.lead_unit_name)
        if self.own_unit_id is not None:
            lead = f"{lead}{self.ours[0 if t.lead_unit_id == self.own_unit_id else 1]}"
        coop = (escape(self.sep.join(u.name for u in row.cooperating)) if row.cooperating
                else '<span class="text-body-secondary">—</span>')
        deadline = escape(fmt_date(t.deadline, self.chinese))
        if t.status.value == "long_term" and t.next_review_on:
            review = escape(_("Review %(d)s", d=fmt_date(t.next_review_on, self.chinese)))
            deadline = f'{deadline}<div class="small text-body-secondary">{review}</div>'
        status = _status_badge.in_locale(self.locale, t.status, bool(t.is_declined))
        light = ticket_light.in_locale(self.locale, row.light, row.is_open)
        timing = ticket_timing.in_locale(self.locale, row.timing)
        return Markup(
            f'<td class="tt-no"><a href="{href}">#{int(t.id)}</a></td>'
            f'<td class="ticket-title"><a href="{href}">{escape(row.title)}</a>'
            f'<div class="small text-body-secondary">{source}</div></td>'
            f'<td class="tt-lead" data-label="{self.lead}">{lead}</td>'
            f'<td class="tt-coop" data-label="{self.coop}">{coop}</td>'
            f'<td class="tt-status">{status}</td>'
            f'<td class="text-nowrap tt-deadline" data-label="{self.deadline}">{deadline}</td>'
            f'<td class="text-nowrap tt-light">{light}<div class="small">{timing}</div></td>'
            f'<td class="text-nowrap tt-progress" data-label="{self.progress}">'
            f'{int(t.progress_percent)}%</td>')


def shown_pages(current: int, pages: int) -> list[int | None]:
    """The page numbers a pager shows: the first, the last and two either side of the
    current one; None where numbers are left out."""
    shown: list[int | None] = []
    for n in sorted({1, pages, *range(max(1, current - 2), min(pages, current + 2) + 1)}):
        if shown and n - (shown[-1] or 0) > 1:
            shown.append(None)
        shown.append(n)
    return shown


# --- a form field ----------------------------------------------------------------------

#: Field types rendered as a select, the rest as an input or a text area.
_SELECTS = ("SelectField", "SelectMultipleField")


def form_field(f, input_type: str | None = None, hint=None, wrapper: str = "mb-3",
               attrs: dict | None = None) -> Markup:
    """A form field with its label, hint and errors beside it, for the `field` macro
    (templates/tickets/_macros.html) that every form page calls: the errors are tied to
    the field with aria-describedby, so a screen reader reads them with it. `input_type`
    overrides the input's type; `attrs`: more attributes for the input."""
    invalid = " is-invalid" if f.errors else ""
    parts = [Markup('<div class="%s">') % wrapper]
    if f.type == "RadioField":
        parts.append(Markup('<fieldset aria-describedby="%s-error">') % f.id if f.errors
                     else Markup("<fieldset>"))
        parts.append(Markup('<legend class="form-label fs-6">%s</legend>') % f.label.text)
        for option in f:
            parts.append(Markup('<div class="form-check">%s %s</div>') % (
                option(class_="form-check-input" + invalid),
                label(option, "form-check-label")))
        parts.append(Markup("</fieldset>"))
    else:
        described = " ".join(([f"{f.id}-hint"] if hint else [])
                             + ([f"{f.id}-error"] if f.errors else []))
        params = {"aria-describedby": described or False,
                  "aria-invalid": "true" if f.errors else False}
        if input_type:
            params["type"] = input_type
        params.update(attrs or {})
        kind = "form-select" if f.type in _SELECTS else "form-control"
        parts.append(label(f, "form-label"))
        parts.append(f(class_=kind + invalid, **params))
    if hint:
        parts.append(Markup('<div class="form-text" id="%s-hint">%s</div>') % (f.id, hint))
    if f.errors:
        parts.append(Markup('<div class="invalid-feedback d-block" id="%s-error">%s</div>') % (
            f.id, Markup(" ").join(f.errors)))
    parts.append(Markup("</div>"))
    return Markup("\n").join(parts)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        has_endpoint=has_endpoint, link_to=link_to, url_with=url_with, list_sep=list_sep,
        languages=LANGUAGES,
        status_label=status_label, timeline_label=timeline_label,
        ticket_light=ticket_light, ticket_timing=ticket_timing, ticket_status=ticket_status,
        form_field=form_field, ticket_cells=TicketCells, shown_pages=shown_pages,
        severity_label=severity_label, inspection_kind_label=inspection_kind_label,
        Role=Role,
        # base.html asks for the locale (html lang); Flask-Babel 4 does not provide it.
        get_locale=get_locale,
    )
