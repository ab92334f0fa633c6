"""Awaiting my decision (待我处理): what an office or a supervisor has to decide.

Three tabs, each filtered, counted and paged in SQL (`services.decisions`): tickets to
approve or return at the user's level; extension requests to decide; declined tickets to
reassign. The last two are the office's alone.
"""
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker.extensions import db
from tracker.forms.tickets import MAX_PAGE
from tracker.models import ExtensionRequest, ExtensionStatus, Role
from tracker.services import clock, decisions, scoping, ticket_queries, workflow
from tracker.views.tickets import listed

bp = Blueprint("queue", __name__)

PER_PAGE = 50


@dataclass(frozen=True)
class Tab:
    key: str
    title: Any
    hint: Any
    roles: tuple[Role, ...]
    clause: Any
    #: Oldest change first: what has waited longest comes first.
    sort: str = "updated"


TABS = (
    Tab("decide", _l("Approve or return"),
        _l("Submitted for sign-off at a level you decide."),
        (Role.OFFICE, Role.SUPERVISOR), decisions.awaiting_approval),
    Tab("extensions", _l("Extension requests"),
        _l("Units asking for a later deadline."), (Role.OFFICE,), decisions.extension_pending),
    Tab("declined", _l("Declined, to reassign"),
        _l("Units said these tickets are not theirs: choose the right lead unit."),
        (Role.OFFICE,), decisions.declined_to_reassign),
)


def _page_number() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        flash(_("The page number was not understood; showing the first page."), "warning")
        return 1
    return int(raw)


@bp.get("/queue")
@login_required
def index():
    user = current_user
    if user.role == Role.UNIT_USER:
        return redirect(url_for("tickets.mine"))
    tabs = [tab for tab in TABS if user.role in tab.roles]
    if not tabs:
        return render_template("tickets/queue.html", tabs=[], counts={}, active=None,
                               rows=[], result=None, extra={})
    by_key = {tab.key: tab for tab in tabs}
    key = request.args.get("tab") or tabs[0].key
    if key not in by_key:
        flash(_("Unknown tab; showing the first one."), "warning")
        key = tabs[0].key
    active = by_key[key]
    today, near_days = clock.today(), current_app.config["NEAR_DUE_DAYS"]
    everything = ticket_queries.TicketFilter()
    counts = ticket_queries.counts(user, everything, today, near_days,
                                   {tab.key: (tab.clause(user),) for tab in tabs})
    result = ticket_queries.page(user, ticket_queries.TicketFilter(sort=active.sort), today,
                                 near_days, page_number=_page_number(), per_page=PER_PAGE,
                                 with_total=False, where=(active.clause(user),))
    result.total = counts[key]
    rows = listed(result.rows, today)
    extra: dict[int, Any] = {}
    if key == "decide":
        scoping.preload_coverage(user, {row.ticket.lead_unit_id for row in rows})
        # The SQL agrees with workflow.can_approve; the page's rows are asked again so a
        # button is never offered that the service would refuse.
        extra = {row.ticket.id: workflow.can_approve(user, row.ticket) for row in rows}
    elif key == "extensions" and rows:
        extra = {r.ticket_id: r for r in db.session.scalars(select(ExtensionRequest).where(
            ExtensionRequest.ticket_id.in_([row.ticket.id for row in rows]),
            ExtensionRequest.status == ExtensionStatus.PENDING))}
    return render_template("tickets/queue.html", tabs=tabs, counts=counts, active=active,
                           rows=rows, result=result, extra=extra)
