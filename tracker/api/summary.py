"""GET /api/v1/summary: the roll-up of the caller's scope, the same numbers as the
dashboard, the ledger's roll-up sheet and the Word report (all from `rollup.summarize`)."""
from datetime import date
from typing import Literal

from flask import current_app
from pydantic import BaseModel, Field

from tracker.api.schemas import StrictModel
from tracker.api.spec import MAX_ID, current_api_user, endpoint
from tracker.models import Severity, TicketStatus
from tracker.services import clock, rollup

Id = Field(default=None, ge=1, le=MAX_ID)


class SummaryQuery(StrictModel):
    inspection: int | None = Id
    unit: int | None = Field(default=None, ge=1, le=MAX_ID,
                             description="That unit's subtree, by lead unit")
    lead_unit: int | None = Field(default=None, ge=1, le=MAX_ID,
                                  description="Exactly that lead unit")
    year: int | None = Field(default=None, ge=2000, le=2099)
    category: int | None = Id
    severity: Severity | None = None
    group_by: Literal["unit", "region", "category", "inspection", "severity", "year",
                      "finding"] | None = None
    region: int | None = Field(default=None, ge=1, le=MAX_ID,
                               description="group_by=region: the unit whose children are "
                                           "the regions (default: the scope's unit)")


class PlannedCounts(BaseModel):
    this_year: int = Field(description="Open, planned by 31 December this year")
    by_cut: int = Field(description="Open, planned by the cut next year (default 30 June)")
    later: int
    long_term: int


class FindingCountsOut(BaseModel):
    found: int
    rectified: int
    in_progress: int
    cancelled: int
    unassigned: int
    overdue: int
    near_due: int
    closed_late: int
    completion_rate: float | None
    planned: PlannedCounts


class GroupOut(BaseModel):
    key: int | str | None
    label: str
    light: Literal["red", "yellow", "green"]
    is_own_level: bool
    total: int
    by_status: dict[str, int]
    open: int
    overdue: int
    near_due: int
    closed_late: int
    completion_rate: float | None
    planned: PlannedCounts
    findings: FindingCountsOut


class SummaryOut(BaseModel):
    today: date
    next_year_cut: date
    total: int
    by_status: dict[str, int] = Field(description="Every state, zeros included")
    open: int
    closed: int
    overdue: int
    near_due: int
    closed_late: int
    completion_rate: float | None
    planned: PlannedCounts = Field(description="Open tickets by planned completion")
    findings: FindingCountsOut
    group_by: str | None
    groups: list[GroupOut]


def _findings(counts: rollup.FindingCounts) -> FindingCountsOut:
    return FindingCountsOut(**{**counts.as_dict(), "planned": PlannedCounts(**counts.planned)})


def summary_out(summary: rollup.Summary) -> SummaryOut:
    t = summary.tickets
    groups = [GroupOut(key=g.key, label=g.label, light=g.light, is_own_level=g.is_own_level,
                       total=g.tickets.total, by_status=g.tickets.by_status,
                       open=g.tickets.open, overdue=g.tickets.overdue,
                       near_due=g.tickets.near_due, closed_late=g.tickets.closed_late,
                       completion_rate=g.tickets.completion_rate,
                       planned=PlannedCounts(**g.tickets.planned),
                       findings=_findings(g.findings))
              for g in summary.groups]
    return SummaryOut(today=summary.today, next_year_cut=summary.cut, total=t.total,
                      by_status={s.value: t.by_status[s.value] for s in TicketStatus},
                      open=t.open, closed=t.closed, overdue=t.overdue, near_due=t.near_due,
                      closed_late=t.closed_late, completion_rate=t.completion_rate,
                      planned=PlannedCounts(**t.planned), findings=_findings(summary.findings),
                      group_by=summary.group_by, groups=groups)


def scope_from(query: SummaryQuery) -> rollup.Scope:
    return rollup.Scope(unit_id=query.unit, lead_unit_id=query.lead_unit,
                        inspection_id=query.inspection, year=query.year,
                        category_id=query.category, severity=query.severity,
                        region_of=query.region)


@endpoint("/summary", "GET", "Roll-up of the caller's scope: ticket and finding counts, "
          "planned completion, optional groups", query=SummaryQuery, response=SummaryOut)
def summary(query: SummaryQuery):
    result = rollup.summarize(current_api_user(), scope_from(query), clock.today(),
                              group_by=query.group_by,
                              days=current_app.config["NEAR_DUE_DAYS"])
    return summary_out(result)
