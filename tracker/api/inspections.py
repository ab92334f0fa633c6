"""Inspections, findings, and splitting a finding into tickets, over the JSON API.

The same service as the pages (`services.inspections`): only an office registers
inspections; only the owning office edits them and their findings; what lies outside the
caller's scope answers 404. Lists are paginated (`page`, `per_page` up to 200, `total`)."""
from dataclasses import replace
from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from tracker.api.schemas import StrictModel
from tracker.api.spec import current_api_user, endpoint
from tracker.api.ticket_schemas import MAX_PAGE, BodyId, Day
from tracker.extensions import db
from tracker.models import (
    Finding,
    Inspection,
    InspectionKind,
    Severity,
    Ticket,
    TicketStatus,
    TimelineKind,
)
from tracker.services import clock, inspections, scoping, workflow
from tracker.services.ticket_queries import MAX_PER_PAGE

Text = Annotated[StrictStr, Field(max_length=20000)]
Year = Annotated[StrictInt, Field(description="2000 to 2100.")]


# --- schemas ----------------------------------------------------------------------------

class PageQuery(StrictModel):
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=MAX_PER_PAGE)


class InspectionListQuery(PageQuery):
    year: int | None = Field(None, ge=2000, le=2100)
    kind: InspectionKind | None = None
    q: str | None = Field(None, max_length=100, description="Text in the title or 文号.")


class InspectionCountsOut(BaseModel):
    """As the caller sees them: a unit user counts only its own tickets."""

    findings: int
    rectified: int = Field(description="Findings whose every non-cancelled ticket is closed.")
    tickets: int
    open: int
    overdue: int


class InspectionOut(BaseModel):
    id: int
    title: str
    kind: InspectionKind
    year: int
    owner_unit_id: int
    inspected_body: str
    inspecting_body: str
    document_number: str | None
    feedback_on: date
    default_deadline: date
    signoff_levels: int
    supervisors_may_sign_off: bool
    may_edit: bool = Field(description="Whether the caller is the owning office.")
    counts: InspectionCountsOut


class InspectionListOut(BaseModel):
    items: list[InspectionOut]
    total: int
    page: int
    per_page: int


class InspectionCreate(StrictModel):
    title: Text
    kind: InspectionKind
    year: Year
    inspected_body: Text
    inspecting_body: Text
    feedback_on: Day
    default_deadline: Day
    owner_unit_id: BodyId | None = Field(
        None, description="An office unit in the caller's scope; the caller's own unit if absent.")
    document_number: Text | None = None
    signoff_levels: StrictInt = Field(1, description="1 or 2.")
    supervisors_may_sign_off: StrictBool = Field(False, description="Only with one level.")


class InspectionPatch(StrictModel):
    """Only the fields sent change."""

    title: Text | None = None
    kind: InspectionKind | None = None
    year: Year | None = None
    inspected_body: Text | None = None
    inspecting_body: Text | None = None
    feedback_on: Day | None = None
    default_deadline: Day | None = None
    owner_unit_id: BodyId | None = None
    document_number: Text | None = None
    signoff_levels: StrictInt | None = None
    supervisors_may_sign_off: StrictBool | None = None


class TicketBrief(BaseModel):
    id: int
    status: TicketStatus
    lead_unit_id: int
    deadline: date


class FindingOut(BaseModel):
    id: int
    inspection_id: int
    number: int
    title: str
    description: str
    category_id: int | None
    category_name: str | None
    severity: Severity
    basis: str
    requirement: str
    required_evidence: list[str]
    repeats_finding_id: int | None


class FindingDetailOut(FindingOut):
    tickets: list[TicketBrief] = Field(description="Its tickets the caller may see.")


class FindingListOut(BaseModel):
    items: list[FindingOut]
    total: int
    page: int
    per_page: int


class FindingCreate(StrictModel):
    title: Text
    number: StrictInt | None = Field(None, description="The next free number if absent.")
    description: Text = ""
    category_id: BodyId | None = None
    severity: Severity = Severity.GENERAL
    basis: Text = ""
    requirement: Text = ""
    required_evidence: list[Annotated[StrictStr, Field(max_length=1000)]] = Field(
        default_factory=list, max_length=200, description="One item each.")
    repeats_finding_id: BodyId | None = Field(
        None, description="The earlier finding (of another inspection) this one repeats.")


class FindingPatch(StrictModel):
    """Only the fields sent change; null clears category and repeat link."""

    title: Text | None = None
    number: StrictInt | None = None
    description: Text | None = None
    category_id: BodyId | None = None
    severity: Severity | None = None
    basis: Text | None = None
    requirement: Text | None = None
    required_evidence: list[Annotated[StrictStr, Field(max_length=1000)]] | None = Field(
        None, max_length=200)
    repeats_finding_id: BodyId | None = None


class TicketDraftIn(StrictModel):
    lead_unit_id: BodyId
    deadline: Day | None = Field(None, description="The inspection's default deadline if absent.")
    cooperating_unit_ids: list[BodyId] = Field(default_factory=list, max_length=100)
    measures: Text = ""
    target: Text = ""
    responsible_person: Text = ""
    timeline: TimelineKind = TimelineKind.BY_DATE
    planned_completion_on: Day | None = None


class SplitIn(StrictModel):
    tickets: list[TicketDraftIn] = Field(min_length=1, max_length=60)


class SplitOut(BaseModel):
    ids: list[int] = Field(description="The created tickets, in the order of the drafts.")


# --- helpers ----------------------------------------------------------------------------

def _inspection_out(inspection: Inspection, counts: inspections.InspectionCounts
                    ) -> InspectionOut:
    user = current_api_user()
    return InspectionOut(
        id=inspection.id, title=inspection.title, kind=inspection.kind, year=inspection.year,
        owner_unit_id=inspection.owner_unit_id, inspected_body=inspection.inspected_body,
        inspecting_body=inspection.inspecting_body,
        document_number=inspection.document_number, feedback_on=inspection.feedback_on,
        default_deadline=inspection.default_deadline,
        signoff_levels=inspection.signoff_levels,
        supervisors_may_sign_off=inspection.supervisors_may_sign_off,
        may_edit=inspections.may_edit(user, inspection),
        counts=InspectionCountsOut(**vars(counts)))


def _counted(inspection: Inspection) -> InspectionOut:
    counts = inspections.counts_by_inspection(current_api_user(), [inspection.id],
                                              clock.today())
    return _inspection_out(inspection, counts[inspection.id])


def _finding_fields(finding: Finding) -> dict:
    return dict(
        id=finding.id, inspection_id=finding.inspection_id, number=finding.number,
        title=finding.title, description=finding.description,
        category_id=finding.category_id,
        category_name=finding.category.name if finding.category else None,
        severity=finding.severity, basis=finding.basis, requirement=finding.requirement,
        required_evidence=finding.required_evidence_items,
        repeats_finding_id=finding.repeats_finding_id)


def _finding_detail(finding: Finding) -> FindingDetailOut:
    tickets = db.session.scalars(scoping.tickets(current_api_user()).where(
        Ticket.finding_id == finding.id).order_by(Ticket.id))
    return FindingDetailOut(**_finding_fields(finding), tickets=[
        TicketBrief(id=t.id, status=t.status, lead_unit_id=t.lead_unit_id, deadline=t.deadline)
        for t in tickets])


def _total(statement, column) -> int:
    return db.session.scalar(select(func.count()).select_from(
        statement.with_only_columns(column).subquery()))


# --- inspections ------------------------------------------------------------------------

@endpoint("/inspections", "GET", "List the inspections the caller may see",
          query=InspectionListQuery, response=InspectionListOut)
def list_inspections(query: InspectionListQuery):
    """Office and supervisor: inspections run by an office in their scope, or holding a
    ticket in it. Unit user: inspections holding a ticket of its unit. Newest first."""
    user = current_api_user()
    statement = scoping.inspections(user)
    if query.year is not None:
        statement = statement.where(Inspection.year == query.year)
    if query.kind is not None:
        statement = statement.where(Inspection.kind == query.kind)
    if query.q:
        pattern = "%" + query.q.replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_") + "%"
        statement = statement.where(or_(Inspection.title.like(pattern, escape="\\"),
                                        Inspection.document_number.like(pattern, escape="\\")))
    total = _total(statement, Inspection.id)
    rows = list(db.session.scalars(
        statement.order_by(Inspection.year.desc(), Inspection.feedback_on.desc(),
                           Inspection.id.desc())
        .offset((query.page - 1) * query.per_page).limit(query.per_page)))
    counts = inspections.counts_by_inspection(user, [i.id for i in rows], clock.today())
    return InspectionListOut(items=[_inspection_out(i, counts[i.id]) for i in rows],
                             total=total, page=query.page, per_page=query.per_page)


@endpoint("/inspections", "POST", "Register an inspection (office only)",
          body=InspectionCreate, response=InspectionOut, status=201)
def create_inspection(body: InspectionCreate):
    inspection = inspections.create_inspection(current_api_user(), inspections.InspectionDraft(
        **body.model_dump()))
    db.session.commit()
    return _counted(inspection)


@endpoint("/inspections/<int:inspection_id>", "GET", "One inspection with its counts",
          response=InspectionOut)
def get_inspection(inspection_id: int):
    return _counted(scoping.get_inspection(current_api_user(), inspection_id))


@endpoint("/inspections/<int:inspection_id>", "PATCH",
          "Change an inspection (the owning office only)", body=InspectionPatch,
          response=InspectionOut, extra_responses={409: "Tickets wait at the second level"})
def patch_inspection(inspection_id: int, body: InspectionPatch):
    user = current_api_user()
    inspection = scoping.get_inspection(user, inspection_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("owner_unit_id", 0) is None:
        del changes["owner_unit_id"]  # an inspection always has an owner
    draft = replace(inspections.draft_of_inspection(inspection), **changes)
    inspection = inspections.update_inspection(user, inspection.id, draft)
    db.session.commit()
    return _counted(inspection)


# --- findings ---------------------------------------------------------------------------

@endpoint("/inspections/<int:inspection_id>/findings", "GET",
          "The findings of an inspection that the caller may see", query=PageQuery,
          response=FindingListOut)
def list_findings(inspection_id: int, query: PageQuery):
    user = current_api_user()
    inspection = scoping.get_inspection(user, inspection_id)
    statement = scoping.findings(user).where(Finding.inspection_id == inspection.id)
    total = _total(statement, Finding.id)
    rows = db.session.scalars(statement.options(joinedload(Finding.category))
                              .order_by(Finding.number)
                              .offset((query.page - 1) * query.per_page).limit(query.per_page))
    return FindingListOut(items=[FindingOut(**_finding_fields(f)) for f in rows], total=total,
                          page=query.page, per_page=query.per_page)


@endpoint("/inspections/<int:inspection_id>/findings", "POST",
          "Add a finding to an inspection (the owning office only)", body=FindingCreate,
          response=FindingDetailOut, status=201)
def create_finding(inspection_id: int, body: FindingCreate):
    data = body.model_dump()
    data["required_evidence"] = tuple(data["required_evidence"])
    finding = inspections.create_finding(current_api_user(), inspection_id,
                                         inspections.FindingDraft(**data))
    db.session.commit()
    return _finding_detail(finding)


@endpoint("/findings/<int:finding_id>", "GET", "One finding with its tickets the caller may see",
          response=FindingDetailOut)
def get_finding(finding_id: int):
    return _finding_detail(scoping.get_finding(current_api_user(), finding_id))


@endpoint("/findings/<int:finding_id>", "PATCH", "Change a finding (the owning office only)",
          body=FindingPatch, response=FindingDetailOut)
def patch_finding(finding_id: int, body: FindingPatch):
    user = current_api_user()
    finding = scoping.get_finding(user, finding_id)
    changes = body.model_dump(exclude_unset=True)
    if "required_evidence" in changes:
        changes["required_evidence"] = tuple(changes["required_evidence"] or ())
    for name in ("title", "description", "basis", "requirement"):
        if name in changes and changes[name] is None:
            changes[name] = ""
    if changes.get("severity", Severity.GENERAL) is None:
        changes["severity"] = ""  # refused by the service as "not one of the allowed values"
    if "number" in changes and changes["number"] is None:
        del changes["number"]  # the number stays; it cannot be cleared
    draft = replace(inspections.draft_of_finding(finding), **changes)
    finding = inspections.update_finding(user, finding.id, draft)
    db.session.commit()
    return _finding_detail(finding)


@endpoint("/findings/<int:finding_id>/tickets", "POST",
          "Split a finding into tickets for several units, all or none (the owning office)",
          body=SplitIn, response=SplitOut, status=201)
def split_finding(finding_id: int, body: SplitIn):
    """Field errors name the draft: `tickets.<index>.<field>`."""
    user = current_api_user()
    finding = scoping.get_finding(user, finding_id)
    default = finding.inspection.default_deadline
    drafts = [workflow.TicketDraft(
        lead_unit_id=d.lead_unit_id, deadline=d.deadline or default,
        cooperating_unit_ids=tuple(d.cooperating_unit_ids), measures=d.measures,
        target=d.target, responsible_person=d.responsible_person, timeline=d.timeline,
        planned_completion_on=d.planned_completion_on) for d in body.tickets]
    created = inspections.split_finding(user, finding.id, drafts)
    db.session.commit()
    return SplitOut(ids=[t.id for t in created])
