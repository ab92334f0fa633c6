"""Inspections (检查), their findings (问题) and the category taxonomy.

Only an office registers inspections, owned by an office unit inside its scope; only the
owning office (an office whose scope covers the owner unit) edits an inspection and its
findings. Everything is found through `scoping` first, so an id outside the caller's view
answers "not found". Every change writes one audit event; nothing here commits.
"""
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, contains_eager

from tracker.extensions import db
from tracker.models import (
    Category,
    Finding,
    Inspection,
    InspectionKind,
    Role,
    Severity,
    Ticket,
    TicketStatus,
    TimelineKind,
    Unit,
    UnitKind,
    User,
)
from tracker.services import audit, deadlines, scoping, workflow
from tracker.services.errors import (
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)

MAX_TEXT = 5000
MAX_EVIDENCE_ITEM = 200
MAX_EVIDENCE_ITEMS = 50
MAX_FINDING_NUMBER = 9999
YEARS = (2000, 2100)
#: How far back the "repeats" chain is followed when refusing a loop.
MAX_REPEAT_CHAIN = 50

KIND_LABELS = {
    InspectionKind.EVALUATION: _l("Supervision evaluation"),
    InspectionKind.ONSITE: _l("On-site inspection"),
    InspectionKind.PATROL: _l("Inspection tour"),
    InspectionKind.AUDIT: _l("Special audit"),
    InspectionKind.ASSESSMENT: _l("Supervision assessment"),
    InspectionKind.SELF: _l("Self-evaluation"),
    InspectionKind.OTHER: _l("Other"),
}
SEVERITY_LABELS = {
    Severity.GENERAL: _l("General"),
    Severity.SERIOUS: _l("Serious"),
    Severity.CRITICAL: _l("Critical"),
}
TIMELINE_LABELS = {
    TimelineKind.IMMEDIATE: _l("Rectify immediately"),
    TimelineKind.BY_DATE: _l("Rectify by a deadline"),
    TimelineKind.LONG_TERM: _l("Long-term effort"),
}


def kind_label(kind: InspectionKind | str) -> str:
    return str(KIND_LABELS[InspectionKind(kind)])


def severity_label(severity: Severity | str) -> str:
    return str(SEVERITY_LABELS[Severity(severity)])


def timeline_label(timeline: TimelineKind | str) -> str:
    return str(TIMELINE_LABELS[TimelineKind(timeline)])


# --- inputs -----------------------------------------------------------------------------

@dataclass(frozen=True)
class InspectionDraft:
    """An inspection as the office enters it. Strings for enums are accepted and checked."""

    title: str
    kind: InspectionKind | str
    year: int | None
    inspected_body: str
    inspecting_body: str
    feedback_on: date | None
    default_deadline: date | None
    #: None: the actor's own unit.
    owner_unit_id: int | None = None
    document_number: str | None = None
    signoff_levels: int | None = 1
    supervisors_may_sign_off: bool = False


@dataclass(frozen=True)
class FindingDraft:
    title: str
    #: None: the next free number of the inspection.
    number: int | None = None
    description: str = ""
    category_id: int | None = None
    severity: Severity | str = Severity.GENERAL
    basis: str = ""
    requirement: str = ""
    #: Evidence the ticket must carry before submission, one item each.
    required_evidence: tuple[str, ...] = ()
    repeats_finding_id: int | None = None


@dataclass(frozen=True)
class CategoryDraft:
    code: str
    name: str
    sort_order: int | None = None


def evidence_lines(text: str | None) -> tuple[str, ...]:
    """Required evidence typed one per line, as the tuple a FindingDraft takes."""
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


def draft_of_inspection(inspection: Inspection) -> InspectionDraft:
    """The inspection as it stands, for partial updates: `replace(draft_of(x), **changes)`."""
    return InspectionDraft(
        title=inspection.title, kind=inspection.kind, year=inspection.year,
        inspected_body=inspection.inspected_body, inspecting_body=inspection.inspecting_body,
        feedback_on=inspection.feedback_on, default_deadline=inspection.default_deadline,
        owner_unit_id=inspection.owner_unit_id, document_number=inspection.document_number,
        signoff_levels=inspection.signoff_levels,
        supervisors_may_sign_off=inspection.supervisors_may_sign_off)


def draft_of_finding(finding: Finding) -> FindingDraft:
    return FindingDraft(
        title=finding.title, number=finding.number, description=finding.description,
        category_id=finding.category_id, severity=finding.severity, basis=finding.basis,
        requirement=finding.requirement,
        required_evidence=tuple(finding.required_evidence_items),
        repeats_finding_id=finding.repeats_finding_id)


# --- checks -----------------------------------------------------------------------------

class _Errors:
    """Collects field errors so that the user sees every problem at once."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)

    def text(self, name: str, value: str | None, *, limit: int, required: bool) -> str:
        value = (value or "").strip()
        if required and not value:
            self.add(name, _("This field is required."))
        elif len(value) > limit:
            self.add(name, _("At most %(n)s characters.", n=limit))
        return value

    def raise_if_any(self) -> None:
        if self.fields:
            raise ValidationFailed(_("Please correct the highlighted fields."), self.fields)


def _enum(errors: _Errors, name: str, enum_cls, value):
    try:
        return enum_cls(value)
    except ValueError:
        errors.add(name, _("Not one of the allowed values."))
        return None


def _plain(obj, names: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


INSPECTION_FIELDS = (
    "title", "kind", "year", "owner_unit_id", "inspected_body", "inspecting_body",
    "document_number", "feedback_on", "default_deadline", "signoff_levels",
    "supervisors_may_sign_off",
)
FINDING_FIELDS = (
    "number", "title", "description", "category_id", "severity", "basis", "requirement",
    "required_evidence", "repeats_finding_id",
)


def owner_units(actor: User):
    """Office units the actor may name as an inspection's owner (a select of Unit)."""
    return scoping.units(actor).where(Unit.kind == UnitKind.OFFICE, Unit.is_active.is_(True))


def _require_office(actor: User) -> None:
    if actor.role != Role.OFFICE or actor.scope_unit_id is None:
        raise Forbidden(_("Only an inspection office registers inspections."))


def may_edit(actor: User, inspection: Inspection) -> bool:
    """Whether the actor is the owning office: an office whose scope covers the owner unit."""
    return actor.role == Role.OFFICE and scoping.covers_unit(actor, inspection.owner_unit_id)


def _require_owner(actor: User, inspection: Inspection) -> None:
    if not may_edit(actor, inspection):
        raise Forbidden(_("Only the office that runs this inspection may change it."))


def _checked_inspection(actor: User, draft: InspectionDraft,
                        inspection: Inspection | None = None) -> dict[str, Any]:
    errors = _Errors()
    values: dict[str, Any] = {
        "title": errors.text("title", draft.title, limit=200, required=True),
        "inspected_body": errors.text("inspected_body", draft.inspected_body, limit=200,
                                      required=True),
        "inspecting_body": errors.text("inspecting_body", draft.inspecting_body, limit=200,
                                       required=True),
        "document_number": errors.text("document_number", draft.document_number, limit=100,
                                       required=False) or None,
        "kind": _enum(errors, "kind", InspectionKind, draft.kind),
    }
    if draft.year is None:
        errors.add("year", _("This field is required."))
    elif not YEARS[0] <= draft.year <= YEARS[1]:
        errors.add("year", _("Between %(low)s and %(high)s.", low=YEARS[0], high=YEARS[1]))
    values["year"] = draft.year
    if draft.feedback_on is None:
        errors.add("feedback_on", _("This field is required."))
    if draft.default_deadline is None:
        errors.add("default_deadline", _("This field is required."))
    elif draft.feedback_on is not None and draft.default_deadline < draft.feedback_on:
        errors.add("default_deadline",
                   _("The default deadline cannot be before the feedback date."))
    values["feedback_on"] = draft.feedback_on
    values["default_deadline"] = draft.default_deadline
    if draft.signoff_levels not in (1, 2):
        errors.add("signoff_levels", _("Choose one or two levels."))
    elif draft.signoff_levels == 2 and draft.supervisors_may_sign_off:
        errors.add("supervisors_may_sign_off",
                   _("Only a one-level sign-off lets supervisors sign off; with two levels "
                     "the supervisor verifies first."))
    values["signoff_levels"] = draft.signoff_levels
    values["supervisors_may_sign_off"] = bool(draft.supervisors_may_sign_off)
    owner_id = draft.owner_unit_id if draft.owner_unit_id is not None else actor.unit_id
    keeps_owner = inspection is not None and inspection.owner_unit_id == owner_id
    if not keeps_owner and db.session.scalar(owner_units(actor).where(
            Unit.id == owner_id).with_only_columns(Unit.id)) is None:
        errors.add("owner_unit_id", _("Choose an active office unit within your scope."))
    values["owner_unit_id"] = owner_id
    errors.raise_if_any()
    return values


# --- inspections ------------------------------------------------------------------------

def create_inspection(actor: User, draft: InspectionDraft) -> Inspection:
    _require_office(actor)
    values = _checked_inspection(actor, draft)
    inspection = Inspection(**values)
    db.session.add(inspection)
    db.session.flush()
    audit.record(actor, "inspection.create", "inspection", inspection.id,
                 after=_plain(inspection, INSPECTION_FIELDS))
    return inspection


def update_inspection(actor: User, inspection_id: int, draft: InspectionDraft) -> Inspection:
    inspection = scoping.get_inspection(actor, inspection_id)
    _require_owner(actor, inspection)
    values = _checked_inspection(actor, draft, inspection)
    if inspection.signoff_levels == 2 and values["signoff_levels"] == 1:
        waiting = db.session.scalar(select(func.count(Ticket.id)).join(Ticket.finding).where(
            Finding.inspection_id == inspection.id, Ticket.status == TicketStatus.VERIFIED))
        if waiting:
            raise InvalidTransition(
                _("%(n)s tickets wait for the second sign-off level; decide them before "
                  "changing to one level.", n=waiting),
                {"signoff_levels": [_("%(n)s tickets wait for the second sign-off level.",
                                      n=waiting)]})
    before = _plain(inspection, INSPECTION_FIELDS)
    for name, value in values.items():
        setattr(inspection, name, value)
    after = _plain(inspection, INSPECTION_FIELDS)
    if after != before:
        db.session.flush()
        audit.record(actor, "inspection.update", "inspection", inspection.id,
                     before=before, after=after)
    return inspection


# --- findings ---------------------------------------------------------------------------

def _checked_finding(actor: User, inspection: Inspection, draft: FindingDraft,
                     finding: Finding | None) -> dict[str, Any]:
    errors = _Errors()
    values: dict[str, Any] = {
        "title": errors.text("title", draft.title, limit=300, required=True),
        "description": errors.text("description", draft.description, limit=MAX_TEXT,
                                   required=False),
        "basis": errors.text("basis", draft.basis, limit=MAX_TEXT, required=False),
        "requirement": errors.text("requirement", draft.requirement, limit=MAX_TEXT,
                                   required=False),
        "severity": _enum(errors, "severity", Severity, draft.severity),
    }
    items = [item.strip() for item in draft.required_evidence if item and item.strip()]
    too_long = [item for item in items if len(item) > MAX_EVIDENCE_ITEM]
    if too_long:
        errors.add("required_evidence", _("Each item at most %(n)s characters: %(item)s",
                                          n=MAX_EVIDENCE_ITEM, item=too_long[0][:40]))
    elif len(items) > MAX_EVIDENCE_ITEMS:
        errors.add("required_evidence", _("At most %(n)s items.", n=MAX_EVIDENCE_ITEMS))
    values["required_evidence"] = "\n".join(dict.fromkeys(items))
    if len(values["required_evidence"]) > MAX_TEXT:
        errors.add("required_evidence", _("At most %(n)s characters.", n=MAX_TEXT))

    number = draft.number
    if number is None:
        number = finding.number if finding is not None else next_number(inspection.id)
    elif not 1 <= number <= MAX_FINDING_NUMBER:
        errors.add("number", _("Between %(low)s and %(high)s.", low=1, high=MAX_FINDING_NUMBER))
    elif _number_taken(inspection.id, number, finding):
        errors.add("number", _("Number %(n)s is already used in this inspection.", n=number))
    values["number"] = number

    category_id = draft.category_id
    if category_id is not None:
        category = db.session.get(Category, category_id)
        keeps_retired = finding is not None and finding.category_id == category_id
        if category is None or not (category.is_active or keeps_retired):
            errors.add("category_id", _("Choose an active category."))
    values["category_id"] = category_id

    repeats_id = draft.repeats_finding_id
    if repeats_id is not None:
        message = _repeat_problem(actor, inspection, finding, repeats_id)
        if message:
            errors.add("repeats_finding_id", message)
    values["repeats_finding_id"] = repeats_id
    errors.raise_if_any()
    return values


def _number_taken(inspection_id: int, number: int, finding: Finding | None) -> bool:
    statement = select(Finding.id).where(Finding.inspection_id == inspection_id,
                                         Finding.number == number)
    if finding is not None:
        statement = statement.where(Finding.id != finding.id)
    return db.session.scalar(statement) is not None


def next_number(inspection_id: int) -> int:
    highest = db.session.scalar(select(func.max(Finding.number)).where(
        Finding.inspection_id == inspection_id))
    return (highest or 0) + 1


def _repeat_problem(actor: User, inspection: Inspection, finding: Finding | None,
                    repeats_id: int) -> str | None:
    """Why `repeats_id` cannot be linked as the earlier finding, or None."""
    earlier = db.session.scalar(scoping.findings(actor).where(Finding.id == repeats_id))
    if earlier is None:
        return _("Choose a finding you can see.")
    if earlier.inspection_id == inspection.id:
        return _("A repeated finding belongs to another inspection.")
    if finding is not None:
        # Follow the chain from the earlier finding: meeting this one again would be a loop.
        seen, current = 0, earlier
        while current is not None and seen < MAX_REPEAT_CHAIN:
            if current.id == finding.id:
                return _("These findings would repeat each other in a loop.")
            current = current.repeats
            seen += 1
    return None


def _flush_finding(finding: Finding) -> None:
    """Add and flush in a savepoint: a number taken by a concurrent request becomes a field
    error, and the rest of the transaction stays usable."""
    try:
        with db.session.begin_nested():
            db.session.add(finding)
            db.session.flush()
    except IntegrityError:
        raise ValidationFailed(_("Please correct the highlighted fields."), {
            "number": [_("Number %(n)s is already used in this inspection.",
                         n=finding.number)]}) from None


def create_finding(actor: User, inspection_id: int, draft: FindingDraft) -> Finding:
    inspection = scoping.get_inspection(actor, inspection_id)
    _require_owner(actor, inspection)
    values = _checked_finding(actor, inspection, draft, None)
    finding = Finding(inspection_id=inspection.id, **values)
    _flush_finding(finding)
    audit.record(actor, "finding.create", "finding", finding.id,
                 after={"inspection_id": inspection.id, **_plain(finding, FINDING_FIELDS)})
    return finding


def _load_owned_finding(actor: User, finding_id: int) -> Finding:
    finding = scoping.get_finding(actor, finding_id)
    _require_owner(actor, finding.inspection)
    return finding


def update_finding(actor: User, finding_id: int, draft: FindingDraft) -> Finding:
    finding = _load_owned_finding(actor, finding_id)
    values = _checked_finding(actor, finding.inspection, draft, finding)
    before = _plain(finding, FINDING_FIELDS)
    for name, value in values.items():
        setattr(finding, name, value)
    after = _plain(finding, FINDING_FIELDS)
    if after != before:
        _flush_finding(finding)
        audit.record(actor, "finding.update", "finding", finding.id, before=before,
                     after=after)
    return finding


def link_repeated_finding(actor: User, finding_id: int, repeats_finding_id: int | None
                          ) -> Finding:
    """Mark the finding as a repeat (屡查屡犯) of an earlier one, or clear the link."""
    finding = _load_owned_finding(actor, finding_id)
    if repeats_finding_id is not None:
        message = _repeat_problem(actor, finding.inspection, finding, repeats_finding_id)
        if message:
            raise ValidationFailed(message, {"repeats_finding_id": [message]})
    before = finding.repeats_finding_id
    if before != repeats_finding_id:
        finding.repeats_finding_id = repeats_finding_id
        db.session.flush()
        audit.record(actor, "finding.link_repeat", "finding", finding.id,
                     before={"repeats_finding_id": before},
                     after={"repeats_finding_id": repeats_finding_id})
    return finding


def repeat_candidates(actor: User, inspection_id: int, limit: int = 500) -> list[Finding]:
    """Visible findings of other inspections, newest inspection first, for a picker."""
    # An alias: the scoping clause has its own EXISTS over inspections, which must not
    # correlate with this join.
    earlier = aliased(Inspection)
    return list(db.session.scalars(
        scoping.findings(actor).join(earlier, earlier.id == Finding.inspection_id)
        .options(contains_eager(Finding.inspection.of_type(earlier)))
        .where(Finding.inspection_id != inspection_id)
        .order_by(earlier.year.desc(), earlier.id.desc(), Finding.number)
        .limit(limit)))


# --- splitting a finding into tickets ---------------------------------------------------

def split_finding(actor: User, finding_id: int, drafts: list[workflow.TicketDraft]
                  ) -> list[Ticket]:
    """Tickets for several units in one step, all or none (拆分整改任务).

    Every row is checked with the workflow's own rules first, so that each error is
    reported against its row (`tickets.<i>.<field>`) and no "assigned" notice goes out
    for a batch that would fail; then `workflow.create_tickets` runs once with all rows."""
    finding = scoping.get_finding(actor, finding_id)
    if actor.role != Role.OFFICE or not scoping.covers_unit(
            actor, finding.inspection.owner_unit_id):
        raise Forbidden(_("Only the office that runs the inspection assigns its tickets."))
    if not drafts:
        raise ValidationFailed(_("Add at least one unit."),
                               {"tickets": [_("Add at least one unit.")]})
    errors = _Errors()
    seen: dict[int, int] = {}
    for index, draft in enumerate(drafts):
        prefix = f"tickets.{index}."
        checks = (
            lambda d=draft: workflow._check_units(actor, d.lead_unit_id,
                                                  tuple(d.cooperating_unit_ids)),
            lambda d=draft: workflow._check_deadline(finding, d.deadline),
            lambda d=draft: workflow._text(d.measures, "measures", required=False),
            lambda d=draft: workflow._text(d.target, "target", required=False),
            lambda d=draft: workflow._text(d.responsible_person, "responsible_person",
                                           limit=100, required=False),
        )
        for check in checks:
            try:
                check()
            except ValidationFailed as error:
                for name, messages in error.fields.items():
                    for message in messages:
                        errors.add(prefix + name, message)
        if draft.lead_unit_id in seen:
            errors.add(prefix + "lead_unit_id",
                       _("This unit already leads row %(n)s.", n=seen[draft.lead_unit_id] + 1))
        seen.setdefault(draft.lead_unit_id, index)
    errors.raise_if_any()
    return workflow.create_tickets(actor, finding.id, list(drafts))


# --- counts -----------------------------------------------------------------------------

@dataclass
class InspectionCounts:
    findings: int = 0
    tickets: int = 0
    open: int = 0
    overdue: int = 0
    #: Findings whose every (non-cancelled) ticket is closed.
    rectified: int = 0


def counts_by_inspection(actor: User, inspection_ids: list[int], today: date
                         ) -> dict[int, InspectionCounts]:
    """Findings, tickets, open and overdue tickets per inspection, as the actor sees them,
    in one grouped statement (per finding first, then per inspection)."""
    result = {i: InspectionCounts() for i in inspection_ids}
    if not inspection_ids:
        return result
    open_ = deadlines.is_open()
    live = Ticket.status != TicketStatus.CANCELLED
    # The visible findings become a derived table first: the scoping clauses are EXISTS
    # subqueries over findings and tickets, which must not correlate with the join below.
    visible = (scoping.findings(actor).where(Finding.inspection_id.in_(inspection_ids))
               .with_only_columns(Finding.id, Finding.inspection_id).subquery())
    per_finding = (
        select(
            visible.c.inspection_id.label("inspection_id"),
            visible.c.id.label("finding_id"),
            func.count(Ticket.id).label("tickets"),
            func.coalesce(func.sum(case((open_, 1), else_=0)), 0).label("open"),
            func.coalesce(func.sum(case((deadlines.overdue(today), 1), else_=0)),
                          0).label("overdue"),
            func.coalesce(func.sum(case((live, 1), else_=0)), 0).label("live"),
        )
        .select_from(visible)
        .outerjoin(Ticket, and_(Ticket.finding_id == visible.c.id, scoping.ticket_clause(actor)))
        .group_by(visible.c.inspection_id, visible.c.id)
        .subquery()
    )
    statement = select(
        per_finding.c.inspection_id,
        func.count(per_finding.c.finding_id),
        func.sum(per_finding.c.tickets),
        func.sum(per_finding.c.open),
        func.sum(per_finding.c.overdue),
        func.sum(case((and_(per_finding.c.live > 0, per_finding.c.open == 0), 1), else_=0)),
    ).group_by(per_finding.c.inspection_id)
    for inspection_id, findings, tickets, open_count, overdue, rectified in db.session.execute(
            statement):
        result[inspection_id] = InspectionCounts(
            findings=int(findings or 0), tickets=int(tickets or 0), open=int(open_count or 0),
            overdue=int(overdue or 0), rectified=int(rectified or 0))
    return result


# --- categories -------------------------------------------------------------------------

def _require_admin(actor: User) -> None:
    if actor is None or actor.role != Role.ADMIN:
        raise Forbidden(_("Only an administrator manages categories."))


def active_categories() -> list[Category]:
    return list(db.session.scalars(select(Category).where(Category.is_active.is_(True))
                                   .order_by(Category.sort_order, Category.id)))


def all_categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.sort_order, Category.id)))


def _checked_category(draft: CategoryDraft, category: Category | None) -> tuple[str, str]:
    errors = _Errors()
    code = errors.text("code", draft.code, limit=40, required=True)
    name = errors.text("name", draft.name, limit=100, required=True)
    others = select(Category.id)
    if category is not None:
        others = others.where(Category.id != category.id)
    if code and "code" not in errors.fields and db.session.scalar(
            others.where(Category.code == code)):
        errors.add("code", _("This code is taken."))
    if name and "name" not in errors.fields and db.session.scalar(
            others.where(Category.name == name)):
        errors.add("name", _("This name is taken."))
    errors.raise_if_any()
    return code, name


def _flush_category(category: Category) -> None:
    """Add and flush in a savepoint: a name taken meanwhile becomes a field error."""
    try:
        with db.session.begin_nested():
            db.session.add(category)
            db.session.flush()
    except IntegrityError:
        raise ValidationFailed(_("Please correct the highlighted fields."),
                               {"name": [_("This name is taken.")]}) from None


def create_category(actor: User, draft: CategoryDraft) -> Category:
    _require_admin(actor)
    code, name = _checked_category(draft, None)
    order = draft.sort_order
    if order is None:
        order = (db.session.scalar(select(func.max(Category.sort_order))) or 0) + 1
    category = Category(code=code, name=name, sort_order=order, is_active=True)
    _flush_category(category)
    audit.record(actor, "category.create", "category", category.id,
                 after={"code": code, "name": name, "sort_order": order})
    return category


def get_category(category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None:
        raise NotFound(_("Category not found."))
    return category


def update_category(actor: User, category_id: int, draft: CategoryDraft) -> Category:
    _require_admin(actor)
    category = get_category(category_id)
    code, name = _checked_category(draft, category)
    before = _plain(category, ("code", "name", "sort_order"))
    category.code, category.name = code, name
    if draft.sort_order is not None:
        category.sort_order = draft.sort_order
    after = _plain(category, ("code", "name", "sort_order"))
    if after != before:
        _flush_category(category)
        audit.record(actor, "category.update", "category", category.id, before=before,
                     after=after)
    return category


def move_category(actor: User, category_id: int, offset: int) -> Category:
    """Move a category up (-1) or down (+1) in the list; the whole order is renumbered."""
    _require_admin(actor)
    category = get_category(category_id)
    ordered = all_categories()
    position = ordered.index(category)
    target = max(0, min(len(ordered) - 1, position + offset))
    if target == position:
        return category
    before = category.sort_order
    ordered.insert(target, ordered.pop(position))
    for index, each in enumerate(ordered, start=1):
        each.sort_order = index
    db.session.flush()
    audit.record(actor, "category.reorder", "category", category.id,
                 before={"sort_order": before}, after={"sort_order": category.sort_order})
    return category


def set_category_active(actor: User, category_id: int, active: bool) -> Category:
    """Retire or restore a category. Findings keep a retired category; new ones cannot pick it."""
    _require_admin(actor)
    category = get_category(category_id)
    if category.is_active != active:
        category.is_active = active
        db.session.flush()
        audit.record(actor, "category.activate" if active else "category.deactivate",
                     "category", category.id, before={"is_active": not active},
                     after={"is_active": active})
    return category


__all__ = [
    "CategoryDraft", "FindingDraft", "InspectionCounts", "InspectionDraft", "KIND_LABELS",
    "SEVERITY_LABELS", "TIMELINE_LABELS", "active_categories", "all_categories",
    "counts_by_inspection", "create_category", "create_finding", "create_inspection",
    "draft_of_finding", "draft_of_inspection", "evidence_lines", "get_category", "kind_label",
    "link_repeated_finding", "may_edit", "move_category", "next_number", "owner_units",
    "repeat_candidates", "set_category_active", "severity_label", "split_finding",
    "timeline_label", "update_category", "update_finding", "update_inspection",
]
