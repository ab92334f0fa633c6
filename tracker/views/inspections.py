"""Inspection pages: the list, an inspection with its findings, a finding with its tickets,
and the office's forms (inspection, finding, splitting a finding into tickets)."""
from collections import defaultdict
from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from tracker.extensions import db
from tracker.forms.inspections import (
    MAX_SPLIT_ROWS,
    FindingForm,
    InspectionForm,
    SplitForm,
    choices,
)
from tracker.models import Finding, Inspection, InspectionKind, Role, Ticket, TimelineKind, Unit
from tracker.services import clock, deadlines, inspections, scoping, ticket_queries, workflow
from tracker.services.errors import Forbidden, ValidationFailed
from tracker.views.forms import attempt
from tracker.views.ui import link_to

bp = Blueprint("inspections", __name__)

PER_PAGE = 30
#: Ids above this are not rows (and overflow some databases' integer parameters).
MAX_ID = 2**31 - 1


def refuse_impossible_ids(endpoint, values) -> None:
    """An id no row can have answers "not found" rather than reaching the database."""
    if values and any(isinstance(v, int) and v > MAX_ID for v in values.values()):
        abort(404)


bp.url_value_preprocessor(refuse_impossible_ids)


@bp.context_processor
def labels():
    return {
        "kind_label": inspections.kind_label,
        "severity_label": inspections.severity_label,
        "timeline_label": inspections.timeline_label,
        "status_label": workflow.status_label,
        "ticket_url": lambda ticket_id: link_to("tickets.show", ticket_id=ticket_id),
        "may_edit": lambda inspection: inspections.may_edit(current_user, inspection),
    }


def _near_days() -> int:
    return current_app.config["NEAR_DUE_DAYS"]


def _page_number() -> int:
    value = request.args.get("page", "1")
    return max(1, int(value)) if value.isdigit() else 1


# --- reading ----------------------------------------------------------------------------

@bp.get("/inspections")
@login_required
def index():
    statement = scoping.inspections(current_user)
    year = request.args.get("year", "")
    kind = request.args.get("kind", "")
    q = request.args.get("q", "").strip()[:100]
    if year.isdigit():
        statement = statement.where(Inspection.year == int(year))
    if kind in {k.value for k in InspectionKind}:
        statement = statement.where(Inspection.kind == kind)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(or_(Inspection.title.like(pattern, escape="\\"),
                                        Inspection.document_number.like(pattern, escape="\\")))
    total = db.session.scalar(select(func.count()).select_from(
        statement.with_only_columns(Inspection.id).subquery()))
    page = _page_number()
    rows = list(db.session.scalars(
        statement.options(joinedload(Inspection.owner_unit))
        .order_by(Inspection.year.desc(), Inspection.feedback_on.desc(), Inspection.id.desc())
        .offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
    counts = inspections.counts_by_inspection(current_user, [i.id for i in rows], clock.today())
    years = list(db.session.scalars(
        scoping.inspections(current_user).with_only_columns(Inspection.year).distinct()
        .order_by(Inspection.year.desc())))
    return render_template(
        "inspections/index.html", rows=rows, counts=counts, total=total, page=page,
        pages=max(1, -(-total // PER_PAGE)), years=years, kinds=inspections.KIND_LABELS,
        year=year, kind=kind, q=q,
        may_create=current_user.role == Role.OFFICE and current_user.scope_unit_id is not None)


@dataclass
class TicketLine:
    ticket: Ticket
    light: str
    is_overdue: bool


def _ticket_lines(finding_ids: list[int]) -> dict[int, list[TicketLine]]:
    """The visible tickets of these findings with their lead unit and traffic light,
    in one statement."""
    lines: dict[int, list[TicketLine]] = defaultdict(list)
    if not finding_ids:
        return lines
    today = clock.today()
    statement = (scoping.tickets(current_user)
                 .where(Ticket.finding_id.in_(finding_ids))
                 .options(joinedload(Ticket.lead_unit))
                 .add_columns(*deadlines.flag_columns(today, _near_days()))
                 .order_by(Ticket.finding_id, Ticket.id))
    for row in db.session.execute(statement).unique():
        lines[row[0].finding_id].append(TicketLine(row[0], row.light, bool(row.is_overdue)))
    return lines


@bp.get("/inspections/<int:inspection_id>")
@login_required
def detail(inspection_id: int):
    inspection = scoping.get_inspection(current_user, inspection_id)
    findings = list(db.session.scalars(
        scoping.findings(current_user).where(Finding.inspection_id == inspection.id)
        .order_by(Finding.number)))
    counts = inspections.counts_by_inspection(current_user, [inspection.id], clock.today())
    return render_template(
        "inspections/detail.html", inspection=inspection, findings=findings,
        tickets=_ticket_lines([f.id for f in findings]), counts=counts[inspection.id])


@bp.get("/findings/<int:finding_id>")
@login_required
def finding(finding_id: int):
    item = scoping.get_finding(current_user, finding_id)
    lines = _ticket_lines([item.id])[item.id]
    cooperating = ticket_queries.load_cooperating([line.ticket for line in lines])
    repeats = None
    if item.repeats_finding_id is not None:
        repeats = db.session.scalar(scoping.findings(current_user).where(
            Finding.id == item.repeats_finding_id).options(joinedload(Finding.inspection)))
    repeated_by = list(db.session.scalars(
        scoping.findings(current_user).where(Finding.repeats_finding_id == item.id)
        .options(joinedload(Finding.inspection)).order_by(Finding.id)))
    return render_template(
        "inspections/finding.html", finding=item, inspection=item.inspection, lines=lines,
        cooperating=cooperating, repeats=repeats, repeated_by=repeated_by,
        may_split=inspections.may_edit(current_user, item.inspection))


# --- the office's forms -----------------------------------------------------------------

def _owner_choices(form: InspectionForm, inspection: Inspection | None = None) -> None:
    options = [(unit.id, unit.name) for unit in db.session.scalars(
        inspections.owner_units(current_user).order_by(Unit.depth, Unit.code))]
    if inspection is not None and inspection.owner_unit_id not in {i for i, _n in options}:
        options.append((inspection.owner_unit_id, inspection.owner_unit.name))  # deactivated
    form.owner_unit_id.choices = choices(options)


def _inspection_draft(form: InspectionForm) -> inspections.InspectionDraft:
    return inspections.InspectionDraft(
        title=form.title.data or "", kind=form.kind.data, year=form.year.data,
        owner_unit_id=form.owner_unit_id.data, inspected_body=form.inspected_body.data or "",
        inspecting_body=form.inspecting_body.data or "",
        document_number=form.document_number.data, feedback_on=form.feedback_on.data,
        default_deadline=form.default_deadline.data, signoff_levels=form.signoff_levels.data,
        supervisors_may_sign_off=form.supervisors_may_sign_off.data)


@bp.route("/inspections/new", methods=["GET", "POST"])
@login_required
def create():
    if current_user.role != Role.OFFICE or current_user.scope_unit_id is None:
        raise Forbidden(_("Only an inspection office registers inspections."))
    form = InspectionForm()
    _owner_choices(form)
    if request.method == "GET":
        form.year.data = clock.today().year
        form.owner_unit_id.data = current_user.unit_id
    if form.validate_on_submit():
        saved, inspection = attempt(form, lambda: inspections.create_inspection(
            current_user, _inspection_draft(form)), ValidationFailed)
        if saved:
            flash(_("The inspection was registered. Add its findings now."), "success")
            return redirect(url_for(".detail", inspection_id=inspection.id))
    return render_template("inspections/inspection_form.html", form=form, inspection=None)


def _owned_inspection(inspection_id: int) -> Inspection:
    inspection = scoping.get_inspection(current_user, inspection_id)
    if not inspections.may_edit(current_user, inspection):
        raise Forbidden(_("Only the office that runs this inspection may change it."))
    return inspection


@bp.route("/inspections/<int:inspection_id>/edit", methods=["GET", "POST"])
@login_required
def edit(inspection_id: int):
    inspection = _owned_inspection(inspection_id)
    form = InspectionForm(obj=inspection if request.method == "GET" else None)
    if request.method == "GET":
        form.kind.data = inspection.kind.value
    _owner_choices(form, inspection)
    if form.validate_on_submit():
        saved, _result = attempt(form, lambda: inspections.update_inspection(
            current_user, inspection.id, _inspection_draft(form)))
        if saved:
            flash(_("The inspection was saved."), "success")
            return redirect(url_for(".detail", inspection_id=inspection.id))
    return render_template("inspections/inspection_form.html", form=form, inspection=inspection)


def _finding_choices(form: FindingForm, inspection: Inspection, current: Finding | None) -> None:
    categories = inspections.active_categories()
    if current is not None and current.category is not None and not current.category.is_active:
        categories.append(current.category)
    form.category_id.choices = choices([("", _("(none)"))] + [(c.id, c.name) for c in categories])
    candidates = inspections.repeat_candidates(current_user, inspection.id)
    repeats = [("", _("(not a repeat)"))] + [
        (f.id, f"{f.inspection.year} · {f.inspection.title} · {f.number}. {f.title}"[:160])
        for f in candidates]
    if current is not None and current.repeats_finding_id is not None and not any(
            f.id == current.repeats_finding_id for f in candidates):
        repeats.append(
            (current.repeats_finding_id, _("Finding #%(id)s", id=current.repeats_finding_id)))
    form.repeats_finding_id.choices = choices(repeats)


def _finding_draft(form: FindingForm) -> inspections.FindingDraft:
    return inspections.FindingDraft(
        number=form.number.data, title=form.title.data or "",
        description=form.description.data or "", category_id=form.category_id.data,
        severity=form.severity.data, basis=form.basis.data or "",
        requirement=form.requirement.data or "",
        required_evidence=inspections.evidence_lines(form.required_evidence.data),
        repeats_finding_id=form.repeats_finding_id.data)


@bp.route("/inspections/<int:inspection_id>/findings/new", methods=["GET", "POST"])
@login_required
def new_finding(inspection_id: int):
    inspection = _owned_inspection(inspection_id)
    form = FindingForm()
    _finding_choices(form, inspection, None)
    if request.method == "GET":
        form.number.data = inspections.next_number(inspection.id)
    if form.validate_on_submit():
        saved, item = attempt(form, lambda: inspections.create_finding(
            current_user, inspection.id, _finding_draft(form)), ValidationFailed)
        if saved:
            flash(_("Finding %(n)s was added.", n=item.number), "success")
            if request.form.get("then") == "another":
                return redirect(url_for(".new_finding", inspection_id=inspection.id))
            return redirect(url_for(".finding", finding_id=item.id))
    return render_template("inspections/finding_form.html", form=form, inspection=inspection,
                           finding=None)


@bp.route("/findings/<int:finding_id>/edit", methods=["GET", "POST"])
@login_required
def edit_finding(finding_id: int):
    item = scoping.get_finding(current_user, finding_id)
    inspection = item.inspection
    if not inspections.may_edit(current_user, inspection):
        raise Forbidden(_("Only the office that runs this inspection may change it."))
    form = FindingForm(obj=item if request.method == "GET" else None)
    if request.method == "GET":
        form.severity.data = item.severity.value
    _finding_choices(form, inspection, item)
    if form.validate_on_submit():
        saved, _result = attempt(form, lambda: inspections.update_finding(
            current_user, item.id, _finding_draft(form)), ValidationFailed)
        if saved:
            flash(_("The finding was saved."), "success")
            return redirect(url_for(".finding", finding_id=item.id))
    return render_template("inspections/finding_form.html", form=form, inspection=inspection,
                           finding=item)


# --- splitting a finding into tickets ---------------------------------------------------

def unit_options() -> list[tuple[int, str]]:
    """Active units in the user's scope, indented by depth, for a picker."""
    units = db.session.scalars(scoping.units(current_user).where(Unit.is_active.is_(True))
                               .order_by(Unit.code))
    rows = list(units)
    top = min((u.depth for u in rows), default=0)
    return [(u.id, "\u3000" * (u.depth - top) + u.name) for u in _tree_order(rows)]


def _tree_order(rows: list[Unit]) -> list[Unit]:
    """Units in depth-first order (parents before their children), from a flat list."""
    ids = {u.id for u in rows}
    children: dict[int | None, list[Unit]] = defaultdict(list)
    for unit in rows:
        children[unit.parent_id if unit.parent_id in ids else None].append(unit)
    ordered: list[Unit] = []
    stack = list(reversed(children[None]))
    while stack:
        unit = stack.pop()
        ordered.append(unit)
        stack.extend(reversed(children.get(unit.id, [])))
    return ordered


def _prepare_rows(form: SplitForm, options: list[tuple[int, str]]) -> None:
    for entry in form.tickets:
        entry.form.lead_unit_id.choices = choices([("", _("(choose a unit)"))] + options)
        entry.form.cooperating_unit_ids.choices = choices(options)


@bp.route("/findings/<int:finding_id>/split", methods=["GET", "POST"])
@login_required
def split(finding_id: int):
    item = scoping.get_finding(current_user, finding_id)
    inspection = item.inspection
    if not inspections.may_edit(current_user, inspection):
        raise Forbidden(_("Only the office that runs the inspection assigns its tickets."))
    form = SplitForm()
    options = unit_options()
    if request.method == "POST" and "add_row" in request.form:
        if len(form.tickets) < MAX_SPLIT_ROWS:
            form.tickets.append_entry()
            form.tickets[-1].form.deadline.data = inspection.default_deadline
        _prepare_rows(form, options)
        return render_template("inspections/split.html", form=form, finding=item,
                               inspection=inspection)
    if request.method == "GET":
        for entry in form.tickets:
            entry.form.deadline.data = inspection.default_deadline
    _prepare_rows(form, options)
    if form.validate_on_submit():
        rows = [(index, entry.form) for index, entry in enumerate(form.tickets)
                if not entry.form.is_blank()]
        for _index, row in rows:
            if row.lead_unit_id.data is None:
                row.lead_unit_id.errors.append(_("Choose the lead unit of this row."))
        if not rows:
            flash(_("Choose a lead unit in at least one row."), "danger")
        elif not any(row.lead_unit_id.errors for _index, row in rows):
            drafts = [workflow.TicketDraft(
                lead_unit_id=row.lead_unit_id.data, deadline=row.deadline.data,
                cooperating_unit_ids=tuple(row.cooperating_unit_ids.data or ()),
                measures=row.measures.data or "", timeline=TimelineKind(row.timeline.data),
                responsible_person=row.responsible_person.data or "") for _index, row in rows]
            try:
                created = inspections.split_finding(current_user, item.id, drafts)
            except ValidationFailed as error:
                db.session.rollback()
                _apply_row_errors(form, [index for index, _row in rows], error)
            else:
                db.session.commit()
                flash(_("%(n)s tickets were assigned.", n=len(created)), "success")
                return redirect(url_for(".finding", finding_id=item.id))
    return render_template("inspections/split.html", form=form, finding=item,
                           inspection=inspection)


def _apply_row_errors(form: SplitForm, row_indexes: list[int], error: ValidationFailed) -> None:
    """Put `tickets.<i>.<field>` errors beside the field of the i-th submitted row."""
    unplaced = []
    for name, messages in error.fields.items():
        parts = name.split(".")
        field = None
        if len(parts) == 3 and parts[0] == "tickets" and parts[1].isdigit():
            position = int(parts[1])
            if position < len(row_indexes):
                field = getattr(form.tickets[row_indexes[position]].form, parts[2], None)
        if field is None:
            unplaced.extend(messages)
        else:
            field.errors = list(field.errors) + list(messages)
    flash(" ".join([error.message, *unplaced]), "danger")
