"""Importing a problem list (问题清单) into an inspection, and exporting it in the same form.

One row per finding and lead unit: the finding's columns (number, title, description,
category, severity, basis, requirement, required evidence) repeat on each of its rows, and
the ticket's (lead unit, cooperating units, measures, deadline, timeline, responsible
person, planned completion) follow; a finding not yet assigned has one row without a lead
unit. Excel or CSV (UTF-8 or GB18030).

`preview` reads and checks everything and says, row by row, what would be created,
updated or left unchanged, or which row and column is wrong; it writes nothing.
`apply` writes all of it through the services (inspections, workflow: audited; new
tickets in bulk) or nothing: any error raises and the caller rolls back. Importing the
same list again changes nothing;
a number already in the inspection updates that finding; a (finding, lead unit) pair
already there updates that ticket. Tickets of lead units no longer listed are left alone.
"""
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from tracker.extensions import db
from tracker.models import (
    Category,
    Finding,
    Inspection,
    OPEN_STATUSES,
    Role,
    Severity,
    Ticket,
    TicketStatus,
    TimelineKind,
    Unit,
    User,
)
from tracker.services import audit, inspections, scoping, sheets, workflow
from tracker.services.errors import Forbidden, ValidationFailed

Column = sheets.Column

COLUMNS = (
    Column("number", "No.", 6, "int", required=True),
    Column("title", "Problem", 36, "wrap", required=True),
    Column("description", "Description", 40, "wrap"),
    Column("category", "Category", 12),
    Column("severity", "Severity", 8),
    Column("basis", "Indicator or rule", 30, "wrap"),
    Column("requirement", "Rectification requirement", 30, "wrap"),
    Column("required_evidence", "Required evidence", 24, "wrap"),
    Column("lead_unit", "Lead unit", 18),
    Column("cooperating", "Cooperating units", 22, "wrap"),
    Column("measures", "Measures", 48, "wrap"),
    Column("deadline", "Deadline", 12, "date"),
    Column("timeline", "Timeline", 10),
    Column("responsible_person", "Responsible person", 10),
    Column("planned_completion_on", "Planned completion", 12, "date"),
)
FINDING_KEYS = ("title", "description", "category", "severity", "basis", "requirement",
                "required_evidence")
MAX_TITLE = 300


def severity_names() -> dict[str, Severity]:
    names = {s.value: s for s in Severity}
    names.update({"一般": Severity.GENERAL, "较重": Severity.SERIOUS, "严重": Severity.CRITICAL,
                  "重大": Severity.CRITICAL})
    names.update({inspections.severity_label(s).lower(): s for s in Severity})
    return names


def timeline_names() -> dict[str, TimelineKind]:
    names = {t.value: t for t in TimelineKind}
    names.update({"立行立改": TimelineKind.IMMEDIATE, "限期整改": TimelineKind.BY_DATE,
                  "长期坚持": TimelineKind.LONG_TERM})
    names.update({inspections.timeline_label(t).lower(): t for t in TimelineKind})
    return names


# --- the plan ---------------------------------------------------------------------------

@dataclass
class TicketPlan:
    lead_unit: Unit
    cooperating: tuple[int, ...]
    measures: str
    deadline: date
    timeline: TimelineKind
    responsible_person: str
    planned_completion_on: date | None
    existing: Ticket | None = None
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass
class RowPlan:
    row: int
    number: int | None
    title: str
    lead_unit_name: str = ""
    #: "created", "updated", "unchanged" (None while the row has errors)
    outcome: str | None = None
    ticket: TicketPlan | None = None


@dataclass
class FindingPlan:
    number: int
    row: int
    draft: inspections.FindingDraft
    existing: Finding | None = None
    changed: bool = False


@dataclass
class Preview:
    inspection: Inspection
    rows: list[RowPlan]
    findings: dict[int, FindingPlan]
    problems: sheets.Problems

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def counts(self) -> dict[str, int]:
        return {name: self.count(name) for name in ("created", "updated", "unchanged")}


def _require_importer(actor: User, inspection: Inspection) -> None:
    if actor.role != Role.OFFICE or not inspections.may_edit(actor, inspection):
        raise Forbidden(_("Only the office that runs the inspection imports its problems."))


class _UnitIndex:
    """Units the actor may assign, found by code or by exact name (names must be unique)."""

    def __init__(self, actor: User, names: set[str]):
        self.by_key: dict[str, list[Unit]] = {}
        if not names:
            return
        for unit in db.session.scalars(scoping.units(actor).where(
                Unit.is_active.is_(True), or_(Unit.code.in_(names), Unit.name.in_(names)))):
            self.by_key.setdefault(unit.code, []).append(unit)
            if unit.name != unit.code:
                self.by_key.setdefault(unit.name, []).append(unit)

    def find(self, name: str) -> tuple[Unit | None, str | None]:
        found = self.by_key.get(name, [])
        exact_code = [u for u in found if u.code == name]
        if exact_code:
            return exact_code[0], None
        if len(found) == 1:
            return found[0], None
        if len(found) > 1:
            return None, _("Several units are called “%(name)s”: give the unit code.",
                           name=name)
        return None, _("Unknown unit “%(name)s” (or outside your scope).", name=name)


def preview(actor: User, inspection_id: int, data: bytes, filename: str,
            progress: Callable[[int], None] | None = None) -> Preview:
    inspection = scoping.get_inspection(actor, inspection_id)
    _require_importer(actor, inspection)
    table = sheets.read_table(data, filename, COLUMNS, progress)
    problems = sheets.Problems()
    categories = {}
    for category in db.session.scalars(select(Category)):
        categories[category.name] = category
        categories[category.code] = category
    severities, timelines = severity_names(), timeline_names()
    unit_names = set()
    for _row, values in table.rows:
        unit_names.update(sheets.split_list(values.get("lead_unit")))
        unit_names.update(sheets.split_list(values.get("cooperating")))
    units = _UnitIndex(actor, unit_names)
    existing_findings = {f.number: f for f in db.session.scalars(
        select(Finding).where(Finding.inspection_id == inspection.id))}
    existing_tickets: dict[tuple[int, int], Ticket] = {}
    if existing_findings:
        for ticket in db.session.scalars(
                select(Ticket).where(Ticket.finding_id.in_([f.id for f in
                                                             existing_findings.values()]),
                                     Ticket.status != TicketStatus.CANCELLED)
                .order_by(Ticket.id)):
            existing_tickets.setdefault((ticket.finding_id, ticket.lead_unit_id), ticket)

    plans: list[RowPlan] = []
    findings: dict[int, FindingPlan] = {}
    finding_values: dict[int, tuple[int, dict]] = {}
    seen_pairs: dict[tuple[int, int], int] = {}
    for row, values in table.rows:
        plan = RowPlan(row=row, number=None, title=sheets.text(values.get("title")))
        plans.append(plan)
        try:
            plan.number = sheets.parse_int(values.get("number"))
        except ValueError:
            problems.add(row, "number", _("Enter a whole number."))
        if plan.number is None and not problems.columns_of(row):
            problems.add(row, "number", _("This field is required."))
        elif plan.number is not None and not 1 <= plan.number <= 9999:
            problems.add(row, "number", _("Between %(low)s and %(high)s.", low=1, high=9999))
            plan.number = None
        if not plan.title:
            problems.add(row, "title", _("This field is required."))
        elif len(plan.title) > MAX_TITLE:
            problems.add(row, "title", _("At most %(n)s characters.", n=MAX_TITLE))
        category_name = sheets.text(values.get("category"))
        category = categories.get(category_name) if category_name else None
        if category_name and category is None:
            problems.add(row, "category", _("Unknown category “%(name)s”.", name=category_name))
        severity_name = sheets.text(values.get("severity")).lower()
        severity = severities.get(severity_name) if severity_name else Severity.GENERAL
        if severity is None:
            problems.add(row, "severity", _("Not one of the allowed values."))
        finding_fields = {
            "title": plan.title, "description": sheets.text(values.get("description")),
            "category": category.id if category else None,
            "severity": severity or Severity.GENERAL,
            "basis": sheets.text(values.get("basis")),
            "requirement": sheets.text(values.get("requirement")),
            "required_evidence": inspections.evidence_lines(
                sheets.text(values.get("required_evidence"))),
        }
        if plan.number is not None:
            if plan.number in finding_values:
                first_row, first = finding_values[plan.number]
                for key in FINDING_KEYS:
                    if first[key] != finding_fields[key]:
                        problems.add(row, key, _(
                            "Problem no. %(n)s reads differently in row %(row)s.",
                            n=plan.number, row=first_row))
            else:
                finding_values[plan.number] = (row, finding_fields)
                draft = inspections.FindingDraft(
                    title=plan.title, number=plan.number,
                    description=finding_fields["description"],
                    category_id=finding_fields["category"], severity=finding_fields["severity"],
                    basis=finding_fields["basis"], requirement=finding_fields["requirement"],
                    required_evidence=finding_fields["required_evidence"],
                    repeats_finding_id=(existing_findings[plan.number].repeats_finding_id
                                        if plan.number in existing_findings else None))
                old = existing_findings.get(plan.number)
                changed = old is not None and inspections.draft_of_finding(old) != draft
                findings[plan.number] = FindingPlan(plan.number, row, draft, old, changed)

        plan.ticket = _ticket_plan(row, values, plan, inspection, units, timelines, problems)
        if plan.ticket is not None and plan.number is not None:
            old_finding = existing_findings.get(plan.number)
            key = (plan.number, plan.ticket.lead_unit.id)
            if key in seen_pairs:
                problems.add(row, "lead_unit", _(
                    "Problem no. %(n)s already lists this lead unit in row %(row)s.",
                    n=plan.number, row=seen_pairs[key]))
            seen_pairs[key] = row
            if old_finding is not None:
                ticket = existing_tickets.get((old_finding.id, plan.ticket.lead_unit.id))
                if ticket is not None:
                    plan.ticket.existing = ticket
                    plan.ticket.changes = _ticket_changes(ticket, plan.ticket)
                    if plan.ticket.changes and ticket.status not in OPEN_STATUSES:
                        problems.add(row, next(iter(plan.ticket.changes)), _(
                            "The ticket of %(unit)s is closed: reopen it before changing it.",
                            unit=plan.ticket.lead_unit.name))
    if not table.rows:
        problems.add(0, None, _("The file holds no rows."))
    result = Preview(inspection=inspection, rows=plans, findings=findings, problems=problems)
    if not problems:
        for plan in plans:
            finding = findings[plan.number]
            if finding.existing is None or (plan.ticket and plan.ticket.existing is None):
                plan.outcome = "created"
            elif (finding.changed and finding.row == plan.row) or (
                    plan.ticket and plan.ticket.changes):
                plan.outcome = "updated"
            else:
                plan.outcome = "unchanged"
    return result


def _ticket_plan(row: int, values: dict, plan: RowPlan, inspection: Inspection,
                 units: _UnitIndex, timelines: dict, problems: sheets.Problems
                 ) -> TicketPlan | None:
    leads = sheets.split_list(values.get("lead_unit"))
    plan.lead_unit_name = "、".join(leads)
    ticket_cells = ("cooperating", "measures", "deadline", "responsible_person",
                    "planned_completion_on")
    if not leads:
        if any(sheets.text(values.get(k)) for k in ticket_cells):
            problems.add(row, "lead_unit", _("Name the lead unit of this row's ticket."))
        return None
    if len(leads) > 1:
        problems.add(row, "lead_unit", _("One lead unit per row: give each unit its own row."))
        return None
    lead, message = units.find(leads[0])
    if message:
        problems.add(row, "lead_unit", message)
    cooperating = []
    for name in sheets.split_list(values.get("cooperating")):
        unit, message = units.find(name)
        if message:
            problems.add(row, "cooperating", message)
        elif lead is not None and unit.id == lead.id:
            problems.add(row, "cooperating", _("The lead unit cannot also cooperate."))
        elif unit.id in cooperating:
            problems.add(row, "cooperating", _("A unit is listed twice."))
        else:
            cooperating.append(unit.id)
    deadline = None
    try:
        deadline = sheets.parse_date(values.get("deadline"))
    except ValueError:
        problems.add(row, "deadline", _("Enter a date such as 2026-12-31."))
    else:
        if deadline is None:
            deadline = inspection.default_deadline
        elif deadline < inspection.feedback_on:
            problems.add(row, "deadline", _(
                "The deadline cannot be before the feedback date (%(d)s).",
                d=inspection.feedback_on.isoformat()))
    planned = None
    try:
        planned = sheets.parse_date(values.get("planned_completion_on"))
    except ValueError:
        problems.add(row, "planned_completion_on", _("Enter a date such as 2026-12-31."))
    timeline_name = sheets.text(values.get("timeline")).lower()
    timeline = timelines.get(timeline_name) if timeline_name else TimelineKind.BY_DATE
    if timeline is None:
        problems.add(row, "timeline", _("Not one of the allowed values."))
    measures = sheets.text(values.get("measures"))
    if len(measures) > workflow.MAX_TEXT:
        problems.add(row, "measures", _("At most %(n)s characters.", n=workflow.MAX_TEXT))
    person = sheets.text(values.get("responsible_person"))
    if len(person) > 100:
        problems.add(row, "responsible_person", _("At most %(n)s characters.", n=100))
    if lead is None or deadline is None or timeline is None:
        return None
    return TicketPlan(lead_unit=lead, cooperating=tuple(cooperating), measures=measures,
                      deadline=deadline, timeline=timeline, responsible_person=person,
                      planned_completion_on=planned)


def _ticket_changes(ticket: Ticket, plan: TicketPlan) -> dict[str, Any]:
    changes = {}
    if ticket.measures != plan.measures:
        changes["measures"] = plan.measures
    if ticket.deadline != plan.deadline:
        changes["deadline"] = plan.deadline
    if ticket.responsible_person != plan.responsible_person:
        changes["responsible_person"] = plan.responsible_person
    if sorted(c.unit_id for c in ticket.cooperating) != sorted(plan.cooperating):
        changes["cooperating"] = plan.cooperating
    if plan.planned_completion_on is not None and \
            ticket.planned_completion_on != plan.planned_completion_on:
        changes["planned_completion_on"] = plan.planned_completion_on
    return changes


# --- applying ---------------------------------------------------------------------------

def apply(actor: User, result: Preview) -> dict[str, int]:
    """Write the previewed plan (all or nothing: a DomainError leaves the caller to roll
    back). Returns the counts of created, updated and unchanged rows."""
    if not result.ok:
        raise ValidationFailed(_("The file has errors; nothing was imported."),
                               {"file": [_("Correct the rows listed and upload again.")]})
    finding_ids: dict[int, int] = {}
    new_findings = []
    for number, plan in sorted(result.findings.items()):
        if plan.existing is None:
            new_findings.append(plan)
        else:
            if plan.changed:
                inspections.update_finding(actor, plan.existing.id, plan.draft)
            finding_ids[number] = plan.existing.id
    finding_ids.update(_create_findings(actor, result.inspection, new_findings))
    new_tickets = []
    for row in result.rows:
        ticket = row.ticket
        if ticket is None:
            continue
        if ticket.existing is None:
            new_tickets.append((finding_ids[row.number], workflow.TicketDraft(
                lead_unit_id=ticket.lead_unit.id, deadline=ticket.deadline,
                cooperating_unit_ids=ticket.cooperating, measures=ticket.measures,
                responsible_person=ticket.responsible_person, timeline=ticket.timeline,
                planned_completion_on=ticket.planned_completion_on)))
        elif ticket.changes:
            c = ticket.changes
            workflow.edit_ticket(actor, ticket.existing.id, ticket.existing.version,
                                 workflow.TicketChanges(
                                     cooperating_unit_ids=c.get("cooperating"),
                                     deadline=c.get("deadline"), measures=c.get("measures"),
                                     responsible_person=c.get("responsible_person"),
                                     planned_completion_on=c.get("planned_completion_on"),
                                     fields_set=frozenset(c)))
    # New tickets in one go: scope asked once, rows, audit events and "assigned" news
    # written with multi-row INSERTs.
    workflow.create_tickets_bulk(actor, new_tickets)
    return result.counts


def _create_findings(actor: User, inspection: Inspection, plans: list[FindingPlan]
                     ) -> dict[int, int]:
    """`inspections.create_finding` for many findings: the same checks and one audit event
    each, but one multi-row INSERT for the findings and one for their events. Returns
    number -> id."""
    if not plans:
        return {}
    _require_importer(actor, inspection)
    found = [Finding(inspection_id=inspection.id,
                     **inspections._checked_finding(actor, inspection, plan.draft, None))
             for plan in plans]
    try:
        with db.session.begin_nested():  # a number taken meanwhile: a field error, as one by one
            db.session.add_all(found)
            db.session.flush()
    except IntegrityError:
        taken = db.session.scalar(select(Finding.number).where(
            Finding.inspection_id == inspection.id,
            Finding.number.in_([f.number for f in found])).order_by(Finding.number).limit(1))
        raise ValidationFailed(_("Please correct the highlighted fields."), {
            "number": [_("Number %(n)s is already used in this inspection.",
                         n=taken)]}) from None
    audit.record_many(actor, [
        {"action": "finding.create", "object_type": "finding", "object_id": f.id,
         "after": {"inspection_id": inspection.id,
                   **{name: getattr(f, name) for name in inspections.FINDING_FIELDS}}}
        for f in found])
    return {f.number: f.id for f in found}


# --- template and export ----------------------------------------------------------------

def _timeline_text(timeline: TimelineKind) -> str:
    return {TimelineKind.IMMEDIATE: "立行立改", TimelineKind.BY_DATE: "限期整改",
            TimelineKind.LONG_TERM: "长期坚持"}[TimelineKind(timeline)]


def _severity_text(severity: Severity) -> str:
    return {Severity.GENERAL: "一般", Severity.SERIOUS: "较重",
            Severity.CRITICAL: "严重"}[Severity(severity)]


def template() -> bytes:
    """An empty problem list with the column titles and one example row."""
    book = sheets.new_book()
    example = [1, "经费投入保障政策未完全落实", "部分县区生均公用经费拨款未落实到位", "经费投入", "一般",
               "评价指标2.1", "落实生均公用经费拨款政策", "拨款文件\n资金到位凭证", "", "",
               "", None, "限期整改", "", None]
    sheets.write_sheet(book, _("Problem list"), list(COLUMNS), [example],
                       note=_("One row per problem and lead unit; columns marked * are "
                              "required. Replace the example row."))
    return sheets.workbook_bytes(book)


def export(actor: User, inspection_id: int) -> bytes:
    """The inspection's problems and tickets in the import form: importing it again
    changes nothing."""
    inspection = scoping.get_inspection(actor, inspection_id)
    findings = db.session.scalars(scoping.findings(actor).where(
        Finding.inspection_id == inspection.id).order_by(Finding.number)).all()
    visible = scoping.tickets(actor).where(
        Ticket.finding_id.in_([f.id for f in findings]),
        Ticket.status != TicketStatus.CANCELLED).order_by(Ticket.id).options(
        selectinload(Ticket.cooperating))
    tickets: dict[int, list[Ticket]] = {}
    for ticket in db.session.scalars(visible):
        tickets.setdefault(ticket.finding_id, []).append(ticket)
    unit_ids = {t.lead_unit_id for ts in tickets.values() for t in ts} | {
        c.unit_id for ts in tickets.values() for t in ts for c in t.cooperating}
    codes = dict(db.session.execute(select(Unit.id, Unit.code).where(Unit.id.in_(unit_ids))).all())
    names = {c.id: c.name for c in db.session.scalars(select(Category))}

    def rows():
        for f in findings:
            base = [f.number, f.title, f.description, names.get(f.category_id, ""),
                    _severity_text(f.severity), f.basis, f.requirement, f.required_evidence]
            found = sorted(tickets.get(f.id, []), key=lambda t: codes.get(t.lead_unit_id, ""))
            if not found:
                yield base + ["", "", "", None, "", "", None]
            for t in found:
                yield base + [codes[t.lead_unit_id],
                              "、".join(codes[c.unit_id] for c in t.cooperating),
                              t.measures, t.deadline, _timeline_text(t.timeline),
                              t.responsible_person, t.planned_completion_on]

    book = sheets.new_book()
    sheets.write_sheet(book, _("Problem list"), list(COLUMNS), rows(),
                       note=f"{inspection.year} {inspection.title}")
    return sheets.workbook_bytes(book)
