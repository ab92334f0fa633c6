"""Ticket pages: a unit's own tickets, the ticket list, one ticket with its history, and
every workflow action as a plain POST form.

The view only parses, calls the service with the logged-in user as actor, commits once and
redirects. What a user sees comes from `scoping` (through `ticket_queries`), overdue and
near-due from `deadlines`, and what a user may do from `workflow`.
"""
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError
from wtforms.validators import ValidationError

from tracker.extensions import db
from tracker.forms import tickets as forms
from tracker.i18n import fmt_date
from tracker.models import (
    OPEN_STATUSES,
    AuditEvent,
    Category,
    ExtensionRequest,
    ExtensionStatus,
    Finding,
    Inspection,
    ProgressUpdate,
    Role,
    Ticket,
    TicketStatus,
    Unit,
)
from tracker.models.base import shared_alias
from tracker.prepared_statements import prepared
from tracker.services import clock, deadlines, scoping, ticket_queries, workflow
from tracker.services.errors import (
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationFailed,
    VersionConflict,
)
from tracker.views import evidence as evidence_views
from tracker.views.forms import apply_errors
from tracker.views.ui import list_sep, timeline_label

bp = Blueprint("tickets", __name__)

S = TicketStatus
#: States in which the unit works on the ticket (progress, extension).
WORKING_STATES = (S.ASSIGNED, S.IN_PROGRESS, S.RETURNED, S.LONG_TERM)


def _near_days() -> int:
    return current_app.config["NEAR_DUE_DAYS"]


# --- how a ticket stands against its date -----------------------------------------------

@dataclass(frozen=True)
class Timing:
    """What the list shows beside the light: days left, days overdue, days waited."""

    #: "overdue", "due_today", "left", "waited", "closed", "cancelled" or "none".
    kind: str
    days: int | None = None


def timing(ticket: Ticket, is_overdue: bool, today: date) -> Timing:
    """Days to show for a ticket whose overdue flag came from `deadlines` (the one rule);
    only the count of days is worked out here, for display."""
    if ticket.status == S.CLOSED:
        return Timing("closed")
    if ticket.status == S.CANCELLED:
        return Timing("cancelled")
    if ticket.status in deadlines.WAITING_STATES:
        if ticket.submitted_on is None:
            return Timing("none")
        return Timing("waited", workflow.days_between(ticket.submitted_on, today))
    due = ticket.next_review_on if ticket.status == S.LONG_TERM else ticket.deadline
    if due is None:
        return Timing("none")
    days = workflow.days_between(today, due)
    if is_overdue:
        return Timing("overdue", max(1, -days))
    if days == 0:
        return Timing("due_today", 0)
    return Timing("left", days)


@dataclass
class ListedTicket:
    """A row of a ticket table: the ticket (an ORM ticket, or the list page's TableTicket),
    its flags from SQL, its cooperating units, and the names the row shows."""

    ticket: Ticket | ticket_queries.TableTicket
    light: str
    is_overdue: bool
    is_near_due: bool
    timing: Timing
    cooperating: list
    title: str
    inspection_title: str
    document_number: str | None
    lead_unit_name: str

    @property
    def is_open(self) -> bool:
        return self.ticket.status in OPEN_STATUSES


def _names(ticket: Ticket | ticket_queries.TableTicket) -> tuple[str, str, str | None, str]:
    """The finding's title, the inspection's title and document number, the lead unit's
    name: read with the row (TableTicket), or from the ORM ticket's relationships, which
    `ticket_queries` loads with it."""
    if isinstance(ticket, ticket_queries.TableTicket):
        return (ticket.title, ticket.inspection_title, ticket.document_number,
                ticket.lead_unit_name)
    inspection = ticket.finding.inspection
    return (ticket.finding.title, inspection.title, inspection.document_number,
            ticket.lead_unit.name)


def listed(rows: list[ticket_queries.TicketRow], today: date) -> list[ListedTicket]:
    """Rows ready for a table; the cooperating units of all rows cost one statement."""
    cooperating = ticket_queries.load_cooperating([r.ticket for r in rows])
    return [ListedTicket(r.ticket, r.light, r.is_overdue, r.is_near_due,
                         timing(r.ticket, r.is_overdue, today), cooperating.get(r.ticket.id, []),
                         *_names(r.ticket))
            for r in rows]


# --- my tickets (unit users) ------------------------------------------------------------

@dataclass(frozen=True)
class Group:
    key: str
    title: Any
    hint: Any
    statuses: tuple[TicketStatus, ...]
    sort: str
    limit: int


#: A unit's tickets, grouped by what they need; open groups show everything (up to the
#: largest page), the closed group its most recent tickets with a link to the rest.
GROUPS = (
    Group("acknowledge", _l("To acknowledge"),
          _l("Assigned to your unit: acknowledge them, or decline one that is not yours."),
          (S.ASSIGNED,), "deadline", ticket_queries.MAX_PER_PAGE),
    Group("returned", _l("Returned to us"),
          _l("Returned after review: read the reason, rectify and submit again."),
          (S.RETURNED,), "deadline", ticket_queries.MAX_PER_PAGE),
    Group("working", _l("In progress"),
          _l("Being rectified, including long-term ones reviewed on a cycle."),
          (S.IN_PROGRESS, S.LONG_TERM), "deadline", ticket_queries.MAX_PER_PAGE),
    Group("waiting", _l("Waiting for a decision"),
          _l("Submitted for sign-off: nothing to do until it is decided."),
          deadlines.WAITING_STATES, "updated", ticket_queries.MAX_PER_PAGE),
    Group("done", _l("Closed or cancelled"), _l("The most recent ones."),
          (S.CLOSED, S.CANCELLED), "-updated", 20),
)


@bp.get("/my")
@login_required
def mine():
    if current_user.role != Role.UNIT_USER:
        return redirect(url_for("tickets.index"))
    today = clock.today()
    groups = my_groups(today)
    # Cooperating units of every group in one statement.
    rows = listed([r for _group, found, _total in groups for r in found], today)
    by_id = {row.ticket.id: row for row in rows}
    sections = [(group, [by_id[r.ticket.id] for r in found], total)
                for group, found, total in groups]
    return render_template("tickets/mine.html", sections=sections, today=today)


def my_groups(today: date) -> list[tuple[Group, list[ticket_queries.TicketRow], int]]:
    """Each group of GROUPS with its rows (its first `limit`, in its order) and its count,
    all in one statement: the rows are ranked within their group by window functions."""
    group_of = case(*[(Ticket.status.in_(g.statuses), i) for i, g in enumerate(GROUPS)],
                    else_=-1)
    ranks = {sort: func.row_number().over(partition_by=group_of,
                                          order_by=ticket_queries.SORTS[sort])
             for sort in {g.sort for g in GROUPS}}
    names = {sort: f"rank_{n}" for n, sort in enumerate(ranks)}
    ranked = (scoping.tickets(current_user).with_only_columns(
        Ticket.id.label("id"), group_of.label("grp"),
        func.count().over(partition_by=group_of).label("total"),
        *[rank.label(names[sort]) for sort, rank in ranks.items()])
        .subquery("ranked"))
    rank_of = case(*[(ranked.c.grp == i, ranked.c[names[g.sort]])
                     for i, g in enumerate(GROUPS)], else_=0)
    keep = or_(*[and_(ranked.c.grp == i, ranked.c[names[g.sort]] <= g.limit)
                 for i, g in enumerate(GROUPS)])
    statement = (select(Ticket, ranked.c.grp, ranked.c.total,
                        *deadlines.flag_columns(today, _near_days()))
                 .join(ranked, ranked.c.id == Ticket.id).where(keep)
                 .options(joinedload(Ticket.finding).joinedload(Finding.inspection),
                          joinedload(Ticket.lead_unit))
                 .order_by(ranked.c.grp, rank_of))
    found: dict[int, list[ticket_queries.TicketRow]] = {i: [] for i in range(len(GROUPS))}
    totals = dict.fromkeys(range(len(GROUPS)), 0)
    for row in db.session.execute(statement).unique():
        found[row.grp].append(ticket_queries.TicketRow(row[0], bool(row.is_overdue),
                                                       bool(row.is_near_due), row.light))
        totals[row.grp] = int(row.total)
    return [(g, found[i], totals[i]) for i, g in enumerate(GROUPS)]


# --- the ticket list --------------------------------------------------------------------

def unit_resolver(keep: tuple[Unit, ...] = ()) -> Callable[[str], Unit]:
    """Text typed in a unit picker -> the unit it names in the user's scope (through
    `scoping.find_unit`), or a ValidationError shown at the field. `keep`: units shown in the
    form already (e.g. a ticket's lead unit), accepted back as they are shown."""
    def resolve(text: str) -> Unit:
        for unit in keep:
            if text in (str(unit.id), scoping.unit_label(unit)):
                return unit
        try:
            return scoping.find_unit(current_user, text)
        except ValidationFailed as error:
            raise ValidationError(error.fields["unit"][0]) from None
        except NotFound:
            raise ValidationError(_("No unit in your scope has this name or code. Type part "
                                    "of it and choose from the suggestions.")) from None
    return resolve


def resolve_inspection(text: str) -> Inspection:
    """Text typed in the inspection picker -> the inspection the user may see, or a
    ValidationError shown at the field."""
    try:
        return scoping.find_inspection(current_user, text)
    except ValidationFailed as error:
        raise ValidationError(error.fields["inspection"][0]) from None
    except NotFound:
        raise ValidationError(_("No inspection you may see has this title. Type part of it "
                                "and choose from the suggestions.")) from None


def list_choices(form: forms.TicketListForm) -> None:
    categories = db.session.scalars(select(Category).order_by(
        Category.sort_order, Category.name)).all()
    form.set_choices(unit_resolver(), resolve_inspection, categories)


#: Suggestions a unit picker shows at most.
UNIT_SUGGESTIONS = 20


@bp.get("/tickets/unit-options")
@login_required
def unit_options():
    """The unit picker's suggestions: `<option>`s of the units in the user's scope whose
    name or code contains `q` (any of the form's unit fields' values), for its datalist."""
    q = next((v for k, v in request.args.items(multi=True) if v.strip()), "")
    found = scoping.search_units(current_user, q, UNIT_SUGGESTIONS)
    return render_template("tickets/_unit_options.html", units=found)


@bp.get("/tickets/inspection-options")
@login_required
def inspection_options():
    """The inspection picker's suggestions: inspections the user may see whose title
    contains `q`, newest first."""
    q = next((v for k, v in request.args.items(multi=True) if v.strip()), "")
    found = scoping.search_inspections(current_user, q, UNIT_SUGGESTIONS)
    return render_template("tickets/_inspection_options.html", inspections=found)


@bp.get("/tickets")
@login_required
def index():
    form = forms.TicketListForm(request.args)
    list_choices(form)
    is_valid = form.validate()
    if not is_valid:
        flash(_("Some filters could not be understood and were left out; see the marked "
                "fields."), "warning")
    today = clock.today()
    flt = form.to_filter()
    cursor = (request.args.get("cursor") or "").strip()[:200] or None
    try:
        result = ticket_queries.page(current_user, flt, today, _near_days(),
                                     page_number=form.value("page") or 1,
                                     per_page=form.value("per_page") or 50, cursor=cursor,
                                     table=True)
    except ValidationFailed:  # a cursor from another sort order, or mangled: start over
        flash(_("The link to this page of the list no longer fits the filters; showing the "
                "first page."), "warning")
        is_valid = False
        result = ticket_queries.page(current_user, flt, today, _near_days(),
                                     per_page=form.value("per_page") or 50, table=True)
    status = 200 if is_valid else 400
    return render_template("tickets/list.html", form=form, result=result,
                           rows=listed(result.rows, today), today=today), status


# --- one ticket -------------------------------------------------------------------------

def permissions(ticket: Ticket, pending: ExtensionRequest | None) -> dict[str, bool]:
    """Which action forms the current user is shown. The workflow checks again on POST;
    this only spares users buttons that would be refused."""
    user = current_user
    lead = workflow.is_lead(user, ticket)
    member = workflow.is_member(user, ticket)
    office = workflow.is_office_in_scope(user, ticket)
    status = ticket.status
    is_open = status in OPEN_STATUSES
    decides = workflow.can_approve(user, ticket)  # asked once: it may read the database
    return {
        "acknowledge": lead and status == S.ASSIGNED,
        "decline": lead and status == S.ASSIGNED and not ticket.is_declined,
        "progress": member and status in WORKING_STATES,
        "extension": lead and status in WORKING_STATES and pending is None,
        "submit": lead and status in (S.IN_PROGRESS, S.RETURNED, S.LONG_TERM),
        "approve": decides,
        "return": decides,
        "long_term": office and status in (S.IN_PROGRESS, S.RETURNED),
        "edit": office and is_open,
        "cancel": office and is_open,
        "reopen": office and status == S.CLOSED,
        "decide_extension": office and is_open and pending is not None,
    }


def _after_progress(update: ProgressUpdate) -> None:
    """Extension point for the evidence module: stores the files sent with the update.

    Called after `workflow.add_progress` has flushed `update`, inside the same transaction
    and before the one commit. `request.files` holds whatever the file inputs of
    `evidence/_progress_files.html` sent (the progress form is multipart). Storing those
    files here keeps a progress update and its evidence one change; raising a DomainError
    (e.g. ValidationFailed with a field name) undoes both and shows the message.
    """
    evidence_views.attach_progress_files(update)


def _do_acknowledge(ticket, form):
    return workflow.acknowledge(current_user, ticket.id, form.version.data)


def _do_decline(ticket, form):
    return workflow.decline(current_user, ticket.id, form.version.data, form.reason.data)


def _do_progress(ticket, form):
    lead = workflow.is_lead(current_user, ticket)
    update = workflow.add_progress(
        current_user, ticket.id, form.version.data, form.text.data,
        percent=form.percent.data if lead else None,
        planned_completion_on=form.planned_completion_on.data if lead else None)
    _after_progress(update)
    return update


def _do_extension(ticket, form):
    return workflow.request_extension(current_user, ticket.id, form.version.data,
                                      form.deadline.data, form.reason.data)


def _do_submit(ticket, form):
    return workflow.submit(current_user, ticket.id, form.version.data)


def _do_approve(ticket, form):
    return workflow.approve(current_user, ticket.id, form.version.data, form.note.data)


def _do_return(ticket, form):
    return workflow.return_ticket(current_user, ticket.id, form.version.data, form.reason.data)


def _do_long_term(ticket, form):
    return workflow.mark_long_term(current_user, ticket.id, form.version.data,
                                   form.stage_goal.data, form.next_review_on.data,
                                   form.review_cycle_days.data)


def _do_cancel(ticket, form):
    return workflow.cancel(current_user, ticket.id, form.version.data, form.reason.data)


def _do_reopen(ticket, form):
    return workflow.reopen(current_user, ticket.id, form.version.data, form.reason.data,
                           form.deadline.data)


def _do_decide_extension(ticket, form):
    pending = workflow.pending_extension(ticket.id)
    if pending is None:
        raise InvalidTransition(_("No extension request is waiting for a decision."))
    return workflow.decide_extension(current_user, pending.id, form.decision.data == "approve",
                                     form.note.data, form.version.data)


def _do_edit(ticket, form):
    return workflow.edit_ticket(current_user, ticket.id, form.version.data, form.to_changes())


def _approved_message(result: Ticket) -> str:
    if result.status == S.VERIFIED:
        return _("Verified. The office signs it off next.")
    return _("Signed off: the ticket is closed.")


def _extension_message(result: ExtensionRequest) -> str:
    if result.status == ExtensionStatus.APPROVED:
        return _("Extension approved: the deadline is now %(d)s.",
                 d=fmt_date(result.requested_deadline))
    return _("Extension refused: the deadline stays.")


@dataclass(frozen=True)
class Action:
    form: type[FlaskForm]
    perform: Callable[[Ticket, FlaskForm], Any]
    #: Flash after success: a fixed message, or one built from the service's result.
    message: Callable[[Any], str]


ACTIONS: dict[str, Action] = {
    "acknowledge": Action(forms.AcknowledgeForm, _do_acknowledge,
                          lambda r: _("Acknowledged. The ticket is now your unit's to rectify.")),
    "decline": Action(forms.DeclineForm, _do_decline,
                      lambda r: _("Declined. The office will reassign the ticket.")),
    "progress": Action(forms.ProgressForm, _do_progress,
                       lambda r: _("Progress recorded.")),
    "extension": Action(forms.ExtensionForm, _do_extension,
                        lambda r: _("Extension requested. The office will decide.")),
    "submit": Action(forms.SubmitForm, _do_submit,
                     lambda r: _("Submitted for sign-off.")),
    "approve": Action(forms.ApproveForm, _do_approve, _approved_message),
    "return": Action(forms.ReturnForm, _do_return,
                     lambda r: _("Returned to the unit with your reason.")),
    "long_term": Action(forms.LongTermForm, _do_long_term,
                        lambda r: _("Marked as a long-term effort.")),
    "cancel": Action(forms.CancelForm, _do_cancel, lambda r: _("The ticket was cancelled.")),
    "reopen": Action(forms.ReopenForm, _do_reopen, lambda r: _("The ticket was reopened.")),
    "decide_extension": Action(forms.DecideExtensionForm, _do_decide_extension,
                               _extension_message),
    "edit": Action(forms.EditForm, _do_edit, lambda r: _("The ticket was changed.")),
}


def edit_units(ticket: Ticket) -> tuple[Unit, ...]:
    """Units the edit form shows already: the lead unit and the cooperating ones (a
    cooperating unit may lie outside the scope; it must not be dropped silently)."""
    return (ticket.lead_unit, *(c.unit for c in ticket.cooperating))


def new_form(name: str, ticket: Ticket) -> FlaskForm:
    """An unsubmitted form showing the ticket as it is now."""
    data: dict[str, Any] = {"version": ticket.version}
    if name == "edit":
        data.update(lead_unit_id=ticket.lead_unit_id,
                    cooperating_unit_ids=[c.unit_id for c in ticket.cooperating],
                    deadline=ticket.deadline, planned_completion_on=ticket.planned_completion_on,
                    responsible_person=ticket.responsible_person, measures=ticket.measures,
                    target=ticket.target)
    elif name == "progress":
        data.update(percent=ticket.progress_percent,
                    planned_completion_on=ticket.planned_completion_on)
    elif name == "long_term":
        data.update(stage_goal=ticket.stage_goal, next_review_on=ticket.next_review_on,
                    review_cycle_days=ticket.review_cycle_days or 90)
    form = ACTIONS[name].form(formdata=None, prefix=name, data=data)
    return shape_form(name, form, ticket)


def shape_form(name: str, form: FlaskForm, ticket: Ticket) -> FlaskForm:
    if name == "progress" and not workflow.is_lead(current_user, ticket):
        del form.percent  # the lead unit alone sets the percent and the plan
        del form.planned_completion_on
    elif name == "edit":
        form.set_units(ticket, unit_resolver(edit_units(ticket)))
    return form


#: Labels of the ticket fields an audit event may show as changed.
FIELD_LABELS = {
    "status": _l("Status"), "lead_unit_id": _l("Lead unit"),
    "cooperating_unit_ids": _l("Cooperating units"), "deadline": _l("Deadline"),
    "original_deadline": _l("Original deadline"),
    "planned_completion_on": _l("Planned completion date"),
    "progress_percent": _l("Progress (%)"), "measures": _l("Measures"), "target": _l("Target"),
    "responsible_person": _l("Responsible person"), "timeline": _l("Timeline"),
    "stage_goal": _l("Stage goal"), "next_review_on": _l("Next review date"),
    "review_cycle_days": _l("Review cycle (days)"), "is_declined": _l("Declined"),
}
LONG_FIELDS = {"measures", "target", "stage_goal"}


def history_label(action: str) -> str:
    """The audit action in the reader's language; unknown actions show as recorded."""
    name = action.removeprefix("ticket.")
    labels = {
        "create": _("Assigned"), "acknowledge": _("Acknowledged"), "decline": _("Declined"),
        "progress": _("Progress reported"), "submit": _("Submitted for sign-off"),
        "verify": _("Verified (first level)"), "approve": _("Signed off"),
        "return": _("Returned"), "long_term": _("Marked as long-term"),
        "request_extension": _("Extension requested"),
        "extension_approved": _("Extension approved"),
        "extension_refused": _("Extension refused"), "edit": _("Changed by the office"),
        "cancel": _("Cancelled"), "reopen": _("Reopened"),
    }
    return labels.get(name) or evidence_views.history_label(action) or action


@dataclass
class Change:
    label: str
    before: str
    after: str
    is_long: bool


@dataclass
class HistoryEntry:
    event: AuditEvent
    label: str
    changes: list[Change]


def _show_value(name: str, value: Any, unit_names: dict[int, str]) -> str:
    if value is None or value == "":
        return "—"
    if name == "status":
        return workflow.status_label(value)
    if name == "timeline":
        return timeline_label(value)
    if name == "is_declined":
        return _("yes") if value else _("no")
    if name == "lead_unit_id":
        return unit_names.get(value, str(value))
    if name == "cooperating_unit_ids":
        return list_sep().join(unit_names.get(v, str(v)) for v in value) or "—"
    if isinstance(value, str) and name in ("deadline", "original_deadline",
                                           "planned_completion_on", "next_review_on"):
        try:
            return fmt_date(date.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def history(ticket: Ticket) -> list[HistoryEntry]:
    """The ticket's audit events, newest first, with the fields each one changed."""
    events = db.session.scalars(prepared(select(AuditEvent).where(
        AuditEvent.ticket_id == ticket.id).order_by(AuditEvent.id.desc()))).all()
    unit_ids: set[int] = set()
    for event in events:
        for side in (event.before or {}, event.after or {}):
            if isinstance(side.get("lead_unit_id"), int):
                unit_ids.add(side["lead_unit_id"])
            unit_ids.update(v for v in side.get("cooperating_unit_ids") or ()
                            if isinstance(v, int))
    # Units already loaded with the page (lead, cooperating, authors' units) are named
    # from the session; only the others cost one statement.
    unit_names: dict[int, str] = {}
    for unit_id in unit_ids:
        loaded = db.session.identity_map.get(db.session.identity_key(Unit, unit_id))
        if loaded is not None:
            unit_names[unit_id] = loaded.name
    missing = unit_ids - set(unit_names)
    if missing:
        unit_names.update(db.session.execute(
            select(Unit.id, Unit.name).where(Unit.id.in_(missing))).all())
    entries = []
    for event in events:
        before, after = event.before or {}, event.after or {}
        changes = []
        if event.action != "ticket.create":  # a creation's "after" is the whole ticket
            for name, label in FIELD_LABELS.items():
                if name in before or name in after:
                    changes.append(Change(str(label),
                                          _show_value(name, before.get(name), unit_names),
                                          _show_value(name, after.get(name), unit_names),
                                          name in LONG_FIELDS))
        entries.append(HistoryEntry(event, history_label(event.action), changes))
    return entries


_UNKNOWN: Any = object()


def render_ticket(ticket: Ticket, submitted: tuple[str, FlaskForm] | None = None,
                  status: int = 200, *, flags: dict | None = None,
                  pending: ExtensionRequest | None = _UNKNOWN):
    """The ticket page. `submitted`: the action form just posted, shown with its input and
    errors in place of a fresh one. `flags` and `pending`: when the caller read them with
    the ticket (`load_ticket`), they are not read again."""
    today = clock.today()
    if flags is None:
        flags = deadlines.ticket_flags(ticket.id, today, _near_days())
    if pending is _UNKNOWN:
        pending = workflow.pending_extension(ticket.id)
    can = permissions(ticket, pending)
    action_forms = {name: new_form(name, ticket) for name, allowed in can.items()
                    if allowed and name != "edit"}
    if submitted is not None and submitted[0] in action_forms:
        action_forms[submitted[0]] = submitted[1]
    updates = db.session.scalars(prepared(select(ProgressUpdate).where(
        ProgressUpdate.ticket_id == ticket.id).order_by(
        ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc()))).all()
    return render_template(
        "tickets/show.html", ticket=ticket, finding=ticket.finding,
        inspection=ticket.finding.inspection, flags=flags,
        timing=timing(ticket, flags["is_overdue"], today), pending=pending, can=can,
        forms=action_forms, updates=updates, history=history(ticket),
        is_lead=workflow.is_lead(current_user, ticket), today=today), status


def render_edit(ticket: Ticket, form: FlaskForm, status: int = 200):
    return render_template("tickets/edit.html", ticket=ticket, form=form), status


#: The ticket's pending extension request, as `load_ticket` joins it (aliased once).
_PENDING = shared_alias(ExtensionRequest, name="pending_extension")


def load_ticket(ticket_id: int) -> tuple[Ticket, dict, ExtensionRequest | None]:
    """The ticket as the page shows it, in one statement: through the scoping rule (404
    outside it), with its finding, inspection, lead and cooperating units, its flags from
    `deadlines` and its pending extension request."""
    today = clock.today()
    pending = _PENDING
    statement = (
        scoping.tickets(current_user).where(Ticket.id == ticket_id)
        .outerjoin(pending, and_(pending.ticket_id == Ticket.id,
                                 pending.status == ExtensionStatus.PENDING))
        .add_columns(pending, *deadlines.flag_columns(today, _near_days()))
        .options(joinedload(Ticket.finding).joinedload(Finding.inspection),
                 joinedload(Ticket.lead_unit), joinedload(Ticket.cooperating))
        .order_by(pending.id))
    # Prepared: read by its id, whatever the scope (see tracker/prepared_statements.py).
    row = db.session.execute(prepared(statement)).unique().first()
    if row is None:
        raise NotFound(_("Ticket not found."))
    ticket = row[0]
    if current_user.role in (Role.OFFICE, Role.SUPERVISOR):
        # Found through the scoping rule, so the user's scope covers its lead unit: the
        # permission checks need not ask the database again.
        scoping.note_coverage(current_user, ticket.lead_unit_id, True)
    flags = {"is_overdue": bool(row.is_overdue), "is_near_due": bool(row.is_near_due),
             "light": row.light}
    return ticket, flags, row[1]


@bp.get("/tickets/<int:ticket_id>")
@login_required
def show(ticket_id: int):
    ticket, flags, pending = load_ticket(ticket_id)
    return render_ticket(ticket, flags=flags, pending=pending)


@bp.route("/tickets/<int:ticket_id>/edit", methods=["GET", "POST"])
@login_required
def edit(ticket_id: int):
    ticket = scoping.get_ticket(current_user, ticket_id)
    if not workflow.is_office_in_scope(current_user, ticket) or \
            ticket.status not in OPEN_STATUSES:
        abort(403)
    if request.method == "GET":
        return render_edit(ticket, new_form("edit", ticket))
    return perform("edit", ticket)


@bp.post("/tickets/<int:ticket_id>/<action>")
@login_required
def act(ticket_id: int, action: str):
    if action not in ACTIONS or action == "edit":
        abort(404)
    return perform(action, scoping.get_ticket(current_user, ticket_id))


def perform(name: str, ticket: Ticket):
    """Validate the posted form, run the action, commit once; on refusal show the ticket
    again with the reason beside the field, or the conflict and the ticket as it now is."""
    g.page_url = url_for("tickets.show", ticket_id=ticket.id)
    ticket_id = ticket.id
    form = shape_form(name, ACTIONS[name].form(prefix=name), ticket)

    def render(ticket_now: Ticket, shown: FlaskForm, status: int):
        if name == "edit":
            return render_edit(ticket_now, shown, status)
        return render_ticket(ticket_now, (name, shown), status)

    if not form.validate_on_submit():
        if form.version.errors or getattr(form, "csrf_token", None) is not None \
                and form.csrf_token.errors:
            flash(_("The form was incomplete or has expired. Please try again."), "danger")
        else:
            flash(_("Please correct the marked fields."), "danger")
        return render(ticket, form, 422)
    try:
        result = ACTIONS[name].perform(ticket, form)
        db.session.flush()
    except ValidationFailed as error:
        db.session.rollback()
        ticket = scoping.get_ticket(current_user, ticket_id)
        apply_errors(form, error)
        if any(error.fields.get(f.short_name) for f in form):
            flash(_("Please correct the marked fields."), "danger")
        return render(ticket, form, 422)
    except (VersionConflict, StaleDataError):
        db.session.rollback()
        ticket = scoping.get_ticket(current_user, ticket_id)
        flash(_("Someone else changed this ticket while you were working on it, so nothing "
                "was saved. Below is the ticket as it is now; check it and try again."),
              "warning")
        if name == "edit":  # the edit shows the fields as they now are, not the old ones
            return render(ticket, new_form(name, ticket), 409)
        # Keep what the user typed, under the version they have now seen.
        form.version.data, form.version.raw_data = ticket.version, None
        return render(ticket, form, 409)
    except (InvalidTransition, Forbidden) as error:
        db.session.rollback()
        ticket = scoping.get_ticket(current_user, ticket_id)
        flash(error.message, "danger")
        return render(ticket, form, error.status_code)
    message = ACTIONS[name].message(result)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("tickets.show", ticket_id=ticket_id))
