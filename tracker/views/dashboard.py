"""The dashboard (督导看板): the roll-up of the viewer's scope as headline figures, tables,
charts, a ranking of units and a trend; for a unit user, its own figures and what falls
due next. Every number links to the ticket list filtered to exactly the tickets behind it
(`rollup.drill_params`). Charts are drawn by static/js/dashboard.js from `data.json`."""
from datetime import date, timedelta
from functools import cache
from urllib.parse import urlencode

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import or_, select

from tracker.extensions import db
from tracker.forms.dashboard import DashboardFilterForm
from tracker.lru import LruCache
from tracker.models import Category, Role, TicketStatus, Unit
from tracker.services import (
    clock,
    dashboard_figures,
    deadlines,
    rollup,
    scoping,
    ticket_queries,
)
from tracker.services.workflow import status_label
from tracker.views.tickets import resolve_inspection
from tracker.views.ui import has_endpoint

bp = Blueprint("dashboard", __name__)

TREND_DAYS = 90


def near_days() -> int:
    return current_app.config["NEAR_DUE_DAYS"]


def ticket_list_path() -> str:
    """The ticket list's path, built once per request (a dashboard has a thousand links)."""
    if "ticket_list_path" not in g:
        g.ticket_list_path = url_for("tickets.index") if has_endpoint("tickets.index") \
            else "/tickets"
    return g.ticket_list_path


def list_query(params: dict) -> str:
    """`params` as the ticket list's query string (lists become repeated arguments, None
    leaves an argument out), encoded as `url_for` would."""
    pairs = []
    for key, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                pairs.append((key, item))
    return urlencode(pairs, safe="!$'()*,/:;?@")


@cache
def measure_query(measure: str) -> str:
    """A measure's part of a drill-down link's query: the same on every page."""
    return list_query(rollup.measure_params(measure))


@cache
def _measure_query_html(measure: str) -> str:
    """`measure_query`, escaped for an attribute."""
    return str(escape(measure_query(measure)))


@bp.app_template_global()
def count_link(value, url: str, label=None) -> Markup:
    """A count that links to the ticket list filtered to exactly the tickets behind it; with
    a label, screen readers say what is counted. (Built here rather than in a macro: the
    dashboard has hundreds.)"""
    return _link(str(escape(url)), value, label)


def _link(href: str, value, label) -> Markup:
    """`count_link` for an address already escaped."""
    # Every value is escaped here, then the whole is marked safe: twice as fast as having
    # markupsafe compose it (`Markup % …`), for the dashboard's 700 links. Bandit's B704,
    # accepted in scripts/bandit-baseline.json (docs/security.md). A count (an int) has
    # nothing to escape.
    shown = value if type(value) is int else escape(value)
    aria = f' aria-label="{escape(label)}: {shown}"' if label else ""
    return Markup(f'<a href="{href}" class="count-link"{aria}>{shown}</a>')


class CountLinks:
    """The count links of one row (a group of a summary, or its whole scope): the row's
    part of the query is encoded once, each count adds its measure's (`measure_query`)."""

    def __init__(self, path: str, query: str):
        self.path, self.query = path, query
        # The row's part, escaped once for the row's links (escaping a URL in pieces
        # gives what escaping it whole gives).
        self._path_html, self._query_html = str(escape(path)), str(escape(query))

    def url(self, measure: str = "total") -> str:
        extra = measure_query(measure)
        query = f"{self.query}&{extra}" if self.query and extra else self.query or extra
        return f"{self.path}?{query}" if query else self.path

    def __call__(self, value, measure: str = "total", label=None) -> Markup:
        """`count_link(value, self.url(measure), label)`, from the escaped pieces."""
        extra, query = _measure_query_html(measure), self._query_html
        query = f"{query}&amp;{extra}" if query and extra else query or extra
        return _link(f"{self._path_html}?{query}" if query else self._path_html, value, label)

    def cells(self, t: rollup.TicketCounts, findings: rollup.FindingCounts,
              submitted_label: str, verified_label: str) -> Markup:
        """The counts of one row of a group table (a group, or the total), as its cells."""
        status = t.by_status
        values = (self(t.total, "total"), self(t.open, "open"), self(t.overdue, "overdue"),
                  self(t.near_due, "near_due"),
                  Markup("%s / %s") % (
                      self(status["submitted"], "status:submitted", submitted_label),
                      self(status["verified"], "status:verified", verified_label)),
                  self(status["returned"], "status:returned"),
                  self(status["long_term"], "status:long_term"),
                  self(t.closed, "status:closed"), self(t.closed_late, "closed_late"),
                  rate(t.completion_rate), findings.found, findings.rectified)
        return _CELLS % _BETWEEN_CELLS.join(values)


#: A row's cells: the values joined (each escaped), then enclosed once.
_CELLS, _BETWEEN_CELLS = Markup('<td class="text-end">%s</td>'), Markup(
    '</td>\n      <td class="text-end">')


@bp.app_template_global()
def rate(value: float | None) -> Markup:
    """A completion rate: one decimal and a per cent sign, or a dash when nothing counts."""
    if value is None:
        return Markup('<span class="text-body-secondary">—</span>')
    return Markup("%.1f%%") % value


class Drill:
    """`drill(measure, group)` in templates: the link behind one count of a summary
    (`rollup.drill_params`); `drill.links(group)`: the count links of one row."""

    def __init__(self, summary: rollup.Summary):
        self.summary = summary

    def __call__(self, measure: str = "total", group: rollup.Group | None = None) -> str:
        return self.links(group).url(measure)

    def links(self, group: rollup.Group | None = None) -> CountLinks:
        s = self.summary
        if group is None:
            params = rollup.group_params(s.scope)
        else:
            params = rollup.group_params(s.scope, group_by=s.group_by, key=group.key,
                                         region_of=s.region_of)
        return CountLinks(ticket_list_path(), list_query(params))


#: The rendered group tables of kept figures, by the digest of the figures and the
#: language. Every office and supervisor user of the same scope and filters sees the same
#: tables until the figures are counted again, and rendering them (70 rows, 700 count
#: links) cost a third of the dashboard's CPU. Per process: a worker renders each count of
#: each scope's tables once. Figures counted for the view itself ("count now", small
#: scopes) are rendered every time.
KEPT_TABLES: LruCache[Markup] = LruCache(32)


def _tables_key(figures: dashboard_figures.Figures) -> tuple | None:
    if not figures.digest:
        return None
    return figures.digest, str(get_locale()), request.script_root


@bp.app_template_global()
def kept_tables(figures: dashboard_figures.Figures) -> Markup | None:
    """The group tables rendered for these kept figures in this language, if any."""
    key = _tables_key(figures)
    return KEPT_TABLES.get(key) if key is not None else None


@bp.app_template_global()
def keep_tables(figures: dashboard_figures.Figures, html: Markup) -> Markup:
    """`html`, the group tables just rendered, kept for the next view of the same kept
    figures in the same language."""
    key = _tables_key(figures)
    if key is not None:
        KEPT_TABLES.put(key, html)
    return html


LIGHT_LABELS = {"red": _l("Overdue"), "yellow": _l("Near due"), "green": _l("On track")}


def light_label(light: str) -> str:
    return str(LIGHT_LABELS[light])


#: Levels of units below the viewer's scope unit offered by the filter (a province's
#: cities and counties; tens of thousands of schools would make the page itself slow).
UNIT_LEVELS = 2


def filter_form() -> DashboardFilterForm:
    form = DashboardFilterForm(request.args)
    scope_unit = current_user.scope_unit if current_user.role in (
        Role.OFFICE, Role.SUPERVISOR) else None
    top = scope_unit.depth if scope_unit is not None else 0
    asked = request.args.get("unit", "")
    offered = Unit.depth <= top + UNIT_LEVELS
    if asked.isdigit() and len(asked) < 10:
        offered = or_(offered, Unit.id == int(asked))  # a deeper unit named in a shared link
    # Read as plain rows: a province offers about 180 units, and loading them as ORM
    # objects cost about 1 ms of the page's 15 ms of CPU.
    units = db.session.execute(scoping.units(current_user).where(
        Unit.is_active.is_(True), offered).order_by(Unit.code)
        .with_only_columns(Unit.id, Unit.name, Unit.depth)).all()
    categories = db.session.scalars(select(Category).order_by(
        Category.sort_order, Category.name)).all()
    form.set_choices(units, resolve_inspection, categories)
    if not form.validate():
        flash(_("Some filters could not be understood and were left out; see the marked "
                "fields."), "warning")
    return form


def scope_unit_id(scope: rollup.Scope) -> int | None:
    """Whose snapshots the trend shows: the narrowed unit, else the viewer's scope."""
    if scope.unit_id is not None:
        return scope.unit_id
    if current_user.role in (Role.OFFICE, Role.SUPERVISOR):
        return current_user.scope_unit_id
    return db.session.scalar(select(Unit.id).where(Unit.parent_id.is_(None)).order_by(Unit.id))


def office_context(scope: rollup.Scope, today: date) -> dict:
    """The office and supervisor dashboard's figures: counted live, or kept ones for a
    province-sized scope (`dashboard_figures`); "count now" (?fresh=1) counts live."""
    shown = dashboard_figures.figures(current_user, scope, today, near_days(),
                                      fresh=request.args.get("fresh") == "1")
    overall = shown.overall
    summaries = shown.summaries
    return {
        "overall": overall, "drill": Drill(overall), "figures": shown,
        "tables": {name: (s, Drill(s)) for name, s in summaries.items()},
        "ranking": summaries["unit"].groups, "ranking_total": shown.ranking_total,
        "inspection_rows": summaries["inspection"].groups,
        "inspection_total": shown.inspection_total, "region_total": shown.region_total,
        "sentence": rollup.findings_sentence(overall.findings, overall.cut),
        "buckets": [(b, rollup.bucket_label(b, overall.cut)) for b in rollup.BUCKETS],
        "statuses": [(s.value, status_label(s)) for s in TicketStatus],
        "fresh_url": url_for(request.endpoint, **{**request.args.to_dict(flat=False),
                                                  "fresh": "1"}),
    }


def due_next(today: date, limit: int = 10):
    """The viewer's open tickets that the unit owes work on, earliest due first."""
    flt = ticket_queries.TicketFilter(statuses=deadlines.DEADLINE_STATES + (
        TicketStatus.LONG_TERM,), sort="deadline")
    return ticket_queries.page(current_user, flt, today, near_days(), per_page=limit,
                               with_total=False).rows


@bp.get("/dashboard")
@login_required
def index():
    today = clock.today()
    if current_user.role == Role.UNIT_USER:
        summary = rollup.summarize(current_user, rollup.Scope(), today, days=near_days())
        return render_template("dashboard/unit.html", summary=summary, drill=Drill(summary),
                               due=due_next(today), today=today, light_label=light_label,
                               buckets=[(b, rollup.bucket_label(b, summary.cut))
                                        for b in rollup.BUCKETS])
    form = filter_form()
    scope = form.to_scope()
    context = office_context(scope, today)
    data_url = url_for("dashboard.data", **request.args.to_dict(flat=False))
    return render_template("dashboard/index.html", form=form, today=today,
                           data_url=data_url, light_label=light_label,
                           print_url=url_for("dashboard.printable",
                                             **request.args.to_dict(flat=False)),
                           **context)


@bp.get("/dashboard/print")
@login_required
def printable():
    today = clock.today()
    if current_user.role == Role.UNIT_USER:
        scope = rollup.Scope()
        form = None
    else:
        form = filter_form()
        scope = form.to_scope()
    context = office_context(scope, today)
    return render_template("dashboard/print.html", today=today, form=form,
                           light_label=light_label, **context)


def _series(summary: rollup.Summary) -> list[dict]:
    drill = Drill(summary)
    rows = []
    for group in summary.groups:
        t = group.tickets
        rows.append({
            "label": group.label, "total": t.total, "closed": t.closed,
            "overdue": t.overdue, "open": t.open - t.overdue, "rate": t.completion_rate,
            "light": group.light,
            "urls": {"closed": drill("status:closed", group),
                     "overdue": drill("overdue", group), "open": drill("open", group),
                     "total": drill("total", group)},
        })
    return rows


@bp.get("/dashboard/data.json")
@login_required
def data():
    """The charts' data: groups by region and category, tickets by status, and the trend."""
    today = clock.today()
    if current_user.role == Role.UNIT_USER:
        scope = rollup.Scope()
        both = rollup.summarize_many(current_user, scope, today, ("region", "category"),
                                     days=near_days())
    else:
        scope = filter_form().to_scope()
        both = dashboard_figures.figures(current_user, scope, today, near_days()).summaries
    regions, categories = both["region"], both["category"]
    drill = Drill(regions)
    status = [{"name": status_label(s), "value": regions.tickets.by_status[s.value],
               "url": drill(f"status:{s.value}")} for s in TicketStatus]
    unit_id = scope_unit_id(scope)
    trend = rollup.trend(unit_id, today - timedelta(days=TREND_DAYS)) if unit_id else []
    return jsonify({
        "labels": {"closed": _("Closed"), "open": _("Open, on time"),
                   "overdue": _("Overdue"), "open_total": _("Open"),
                   "by_region": _("Tickets by region"), "by_category": _("Tickets by category"),
                   "by_status": _("Tickets by status"), "trend": _("Trend"),
                   "no_trend": _("No daily snapshots yet.")},
        "regions": _series(regions), "categories": _series(categories), "status": status,
        "trend": {"dates": [row.taken_on.isoformat() for row in trend],
                  "open": [row.open for row in trend], "closed": [row.closed for row in trend],
                  "overdue": [row.overdue for row in trend]},
    })
