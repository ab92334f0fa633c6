"""Test data for the roll-up: many tickets in every state, built quickly.

`spread` writes rows directly (the roll-up only reads columns, not history), so that
hypothesis can try many shapes of data per test; the ticket-level rules themselves are
tested through the workflow elsewhere."""
from dataclasses import dataclass
from datetime import date, timedelta

from tracker.extensions import db
from tracker.models import (
    Category,
    Finding,
    Severity,
    Ticket,
    TicketStatus,
    TicketUnit,
    TimelineKind,
)
from tests import factories
from tests.factories import TODAY


@dataclass(frozen=True)
class Spec:
    finding: int  # index into the findings made
    lead: int  # index into the lead units offered
    status: TicketStatus
    deadline_offset: int  # days from today
    planned_offset: int | None  # days from today, None: no plan
    long_term: bool = False
    late: bool = False  # submitted after the deadline in force
    coop: int | None = None  # index of a cooperating unit


def leads(world):
    return [world.k1, world.d1, world.k2, world.c1, world.c2, world.p_office]


def make_findings(world, n: int, *, second_inspection=True):
    other = Category(code="safety", name="校园安全", sort_order=2)
    db.session.add(other)
    db.session.flush()
    inspections = [world.inspection]
    if second_inspection:
        inspections.append(factories.inspection(world.p_office, year=2025,
                                                feedback_on=date(2025, 3, 1),
                                                title="2025年专项督导"))
    findings = [world.finding]
    severities = list(Severity)
    categories = [world.category, other, None]
    for i in range(1, n):
        insp = inspections[i % len(inspections)]
        number = 1 + sum(1 for f in findings if f.inspection_id == insp.id)
        f = Finding(inspection_id=insp.id, number=number, title=f"问题{i}：校舍安全隐患",
                    category_id=categories[i % 3].id if categories[i % 3] else None,
                    severity=severities[i % 3])
        db.session.add(f)
        db.session.flush()
        findings.append(f)
    return findings


def spread(world, findings, specs: list[Spec]) -> list[Ticket]:
    units = leads(world)
    made = []
    seen = set()
    for spec in specs:
        finding = findings[spec.finding % len(findings)]
        lead = units[spec.lead % len(units)]
        if (finding.id, lead.id) in seen:
            continue
        seen.add((finding.id, lead.id))
        deadline = TODAY + timedelta(days=spec.deadline_offset)
        t = Ticket(finding_id=finding.id, lead_unit_id=lead.id, deadline=deadline,
                   original_deadline=deadline, status=spec.status,
                   timeline=TimelineKind.LONG_TERM if spec.long_term else TimelineKind.BY_DATE,
                   planned_completion_on=(TODAY + timedelta(days=spec.planned_offset)
                                          if spec.planned_offset is not None else None),
                   measures="措施")
        if spec.status == TicketStatus.LONG_TERM or spec.long_term:
            t.next_review_on = deadline
        if spec.status in (TicketStatus.CLOSED, TicketStatus.SUBMITTED, TicketStatus.VERIFIED):
            t.deadline_at_submission = deadline
            t.submitted_on = deadline + timedelta(days=3 if spec.late else -1)
        if spec.coop is not None:
            coop = units[spec.coop % len(units)]
            if coop.id != lead.id:
                t.cooperating = [TicketUnit(unit_id=coop.id)]
        db.session.add(t)
        made.append(t)
    db.session.flush()
    return made
