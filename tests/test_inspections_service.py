"""Rules of the inspections service: who registers and edits inspections and findings,
what counts as valid, and that a refused change writes nothing."""
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.factories import TODAY
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    Category,
    Finding,
    Inspection,
    InspectionKind,
    Role,
    Ticket,
    TicketStatus,
    UnitKind,
)
from tracker.services import inspections, workflow
from tracker.services.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed


def draft(**overrides) -> inspections.InspectionDraft:
    values = dict(title="2026年度对市级人民政府履行教育职责评价", kind="onsite", year=2026,
                  inspected_body="兰州市人民政府", inspecting_body="省政府教育督导委员会办公室",
                  feedback_on=date(2026, 3, 1), default_deadline=date(2026, 12, 31),
                  document_number="甘政教督办函〔2026〕14号")
    values.update(overrides)
    return inspections.InspectionDraft(**values)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def fields_of(excinfo) -> dict:
    return excinfo.value.fields


# --- inspections ------------------------------------------------------------------------

def test_office_creates_inspection_owned_by_its_office_unit_with_one_audit_event(world):
    events = count(AuditEvent)
    inspection = inspections.create_inspection(world.city_office, draft())
    assert inspection.owner_unit_id == world.c1_office.id
    assert inspection.kind == InspectionKind.ONSITE
    assert count(AuditEvent) == events + 1
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.object_id) == ("inspection.create", inspection.id)


@pytest.mark.parametrize("who", ["unit_k1", "supervisor", "admin"])
def test_only_office_users_create_inspections(world, who):
    with pytest.raises(Forbidden):
        inspections.create_inspection(getattr(world, who),
                                      draft(owner_unit_id=world.p_office.id))


def test_owner_unit_outside_the_offices_scope_is_a_field_error(world):
    with pytest.raises(ValidationFailed) as excinfo:
        inspections.create_inspection(world.city_office, draft(owner_unit_id=world.p_office.id))
    assert "owner_unit_id" in fields_of(excinfo)


def test_owner_unit_must_be_an_office_unit(world):
    with pytest.raises(ValidationFailed) as excinfo:
        inspections.create_inspection(world.office, draft(owner_unit_id=world.k1.id))
    assert "owner_unit_id" in fields_of(excinfo)


def test_default_deadline_before_feedback_date_is_refused_and_nothing_written(world):
    before = count(Inspection), count(AuditEvent)
    with pytest.raises(ValidationFailed) as excinfo:
        inspections.create_inspection(world.office, draft(feedback_on=date(2026, 6, 1),
                                                          default_deadline=date(2026, 5, 31)))
    assert list(fields_of(excinfo)) == ["default_deadline"]
    assert (count(Inspection), count(AuditEvent)) == before


def test_every_invalid_inspection_field_is_reported_at_once(world):
    with pytest.raises(ValidationFailed) as excinfo:
        inspections.create_inspection(world.office, draft(
            title=" ", kind="inspection", year=1999, inspected_body="x" * 201,
            signoff_levels=3, feedback_on=None))
    assert set(fields_of(excinfo)) == {"title", "kind", "year", "inspected_body",
                                       "signoff_levels", "feedback_on"}


def test_supervisors_may_sign_off_is_refused_with_a_two_level_chain(world):
    with pytest.raises(ValidationFailed) as excinfo:
        inspections.create_inspection(world.office, draft(signoff_levels=2,
                                                          supervisors_may_sign_off=True))
    assert list(fields_of(excinfo)) == ["supervisors_may_sign_off"]


def test_office_in_scope_but_not_owning_may_not_edit_the_inspection(world):
    # The city office sees the province's inspection (a ticket lies in its city) but does
    # not own it.
    current = inspections.draft_of_inspection(world.inspection)
    with pytest.raises(Forbidden):
        inspections.update_inspection(world.city_office, world.inspection.id,
                                      replace(current, title="改名"))


def test_office_of_another_scope_does_not_find_the_inspection(world):
    c2_office_unit = factories.unit("6229-DD", "临夏州教育督导办", UnitKind.OFFICE, world.c2)
    c2_office = factories.user("c2_office", Role.OFFICE, c2_office_unit, scope=world.c2)
    city_inspection = inspections.create_inspection(world.city_office, draft())
    with pytest.raises(NotFound):
        inspections.update_inspection(c2_office, city_inspection.id,
                                      inspections.draft_of_inspection(city_inspection))


def test_province_office_edits_an_inspection_of_a_city_office_below_it(world):
    city_inspection = inspections.create_inspection(world.city_office, draft())
    changed = inspections.update_inspection(
        world.office, city_inspection.id,
        replace(inspections.draft_of_inspection(city_inspection), title="新的标题"))
    assert changed.title == "新的标题"
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "inspection.update"
    assert (event.before, event.after) == ({"title": "2026年度对市级人民政府履行教育职责评价"},
                                           {"title": "新的标题"})


def test_going_back_to_one_level_is_refused_while_a_ticket_waits_at_the_second(world):
    inspection = factories.inspection(world.p_office, levels=2)
    finding = factories.finding(inspection)
    ticket = factories.ticket(world.office, finding, world.k1)
    ticket.status = TicketStatus.VERIFIED  # the supervisor has verified it
    db.session.flush()
    with pytest.raises(InvalidTransition) as excinfo:
        inspections.update_inspection(world.office, inspection.id, replace(
            inspections.draft_of_inspection(inspection), signoff_levels=1))
    assert "signoff_levels" in fields_of(excinfo)


# --- findings ---------------------------------------------------------------------------

def test_duplicate_finding_number_is_a_field_error_and_writes_nothing(world):
    before = count(Finding), count(AuditEvent)
    with pytest.raises(ValidationFailed) as excinfo:
        inspections.create_finding(world.office, world.inspection.id,
                                   inspections.FindingDraft(title="校园安全存在隐患", number=1))
    assert excinfo.value.status_code == 422
    assert list(fields_of(excinfo)) == ["number"]
    assert (count(Finding), count(AuditEvent)) == before


def test_number_taken_by_a_concurrent_request_is_still_a_field_error(world, monkeypatch):
    monkeypatch.setattr(inspections, "_number_taken", lambda *args: False)
    with pytest.raises(ValidationFailed) as excinfo:
        inspections.create_finding(world.office, world.inspection.id,
                                   inspections.FindingDraft(title="校园安全存在隐患", number=1))
    assert list(fields_of(excinfo)) == ["number"]
    assert count(Finding) == 1  # the session is still usable after the refused savepoint


def test_finding_number_defaults_to_the_next_free_one(world):
    finding = inspections.create_finding(world.office, world.inspection.id,
                                         inspections.FindingDraft(title="校园安全存在隐患"))
    assert finding.number == 2


def test_finding_text_limits_are_field_errors(world):
    with pytest.raises(ValidationFailed) as excinfo:
        inspections.create_finding(world.office, world.inspection.id, inspections.FindingDraft(
            title="x" * 301, description="x" * 5001, basis="x" * 5001, severity="fatal"))
    assert set(fields_of(excinfo)) == {"title", "description", "basis", "severity"}


def test_retired_category_cannot_be_chosen_for_a_new_finding(world):
    world.category.is_active = False
    with pytest.raises(ValidationFailed) as excinfo:
        inspections.create_finding(world.office, world.inspection.id, inspections.FindingDraft(
            title="校园安全存在隐患", category_id=world.category.id))
    assert list(fields_of(excinfo)) == ["category_id"]


def test_finding_keeps_its_category_after_the_category_is_retired(world):
    world.category.is_active = False
    finding = inspections.update_finding(world.office, world.finding.id, replace(
        inspections.draft_of_finding(world.finding), title="经费投入保障政策仍未落实"))
    assert finding.category_id == world.category.id


def test_required_evidence_is_stored_one_trimmed_item_per_line(world):
    finding = inspections.create_finding(
        world.office, world.inspection.id, inspections.FindingDraft(
            title="校园安全存在隐患",
            required_evidence=inspections.evidence_lines(" 整改方案\n\n验收报告 \n整改方案\n")))
    assert finding.required_evidence_items == ["整改方案", "验收报告"]


def test_unit_user_cannot_add_findings(world):
    with pytest.raises(Forbidden):
        inspections.create_finding(world.unit_k1, world.inspection.id,
                                   inspections.FindingDraft(title="校园安全存在隐患"))


def test_repeated_finding_must_belong_to_another_inspection(world):
    with pytest.raises(ValidationFailed) as excinfo:
        inspections.create_finding(world.office, world.inspection.id, inspections.FindingDraft(
            title="校园安全存在隐患", repeats_finding_id=world.finding.id))
    assert list(fields_of(excinfo)) == ["repeats_finding_id"]


def test_repeated_finding_must_be_visible_to_the_office(world):
    hidden_inspection = factories.inspection(world.p_office, title="2025年评价")
    hidden = factories.finding(hidden_inspection)  # no ticket in the city: invisible to it
    city_inspection = inspections.create_inspection(world.city_office, draft())
    with pytest.raises(ValidationFailed) as excinfo:
        inspections.create_finding(world.city_office, city_inspection.id,
                                   inspections.FindingDraft(title="经费投入仍不足",
                                                            repeats_finding_id=hidden.id))
    assert list(fields_of(excinfo)) == ["repeats_finding_id"]


def test_linking_a_repeated_finding_writes_one_event_and_refuses_a_loop(world):
    later_inspection = inspections.create_inspection(world.office, draft(year=2027))
    later = inspections.create_finding(world.office, later_inspection.id,
                                       inspections.FindingDraft(title="经费投入仍不足"))
    events = count(AuditEvent)
    inspections.link_repeated_finding(world.office, later.id, world.finding.id)
    assert later.repeats_finding_id == world.finding.id
    assert count(AuditEvent) == events + 1
    with pytest.raises(ValidationFailed):
        inspections.link_repeated_finding(world.office, world.finding.id, later.id)


# --- splitting into tickets -------------------------------------------------------------

def test_split_creates_a_ticket_per_row(world):
    finding = factories.finding(world.inspection, number=2, title="校园安全存在隐患")
    deadline = TODAY + timedelta(days=40)
    created = inspections.split_finding(world.office, finding.id, [
        workflow.TicketDraft(lead_unit_id=unit.id, deadline=deadline, measures="排查整治")
        for unit in (world.k1, world.d1, world.k2)])
    assert sorted(t.lead_unit_id for t in created) == sorted(
        [world.k1.id, world.d1.id, world.k2.id])


def test_split_reports_every_bad_row_by_index_and_creates_nothing(world):
    finding = factories.finding(world.inspection, number=2, title="校园安全存在隐患")
    tickets_before = count(Ticket)
    with pytest.raises(ValidationFailed) as excinfo:
        inspections.split_finding(world.office, finding.id, [
            workflow.TicketDraft(lead_unit_id=world.k1.id, deadline=TODAY),
            workflow.TicketDraft(lead_unit_id=world.k1.id, deadline=date(2025, 1, 1)),
            workflow.TicketDraft(lead_unit_id=world.k2.id, deadline=TODAY,
                                 cooperating_unit_ids=(world.k2.id,)),
        ])
    assert set(fields_of(excinfo)) == {"tickets.1.lead_unit_id", "tickets.1.deadline",
                                       "tickets.2.cooperating_unit_ids"}
    assert count(Ticket) == tickets_before


def test_city_office_cannot_split_a_finding_of_the_province(world):
    with pytest.raises(Forbidden):
        inspections.split_finding(world.city_office, world.finding.id, [
            workflow.TicketDraft(lead_unit_id=world.k1.id, deadline=TODAY)])


# --- counts -----------------------------------------------------------------------------

def test_counts_follow_what_the_user_sees(world):
    workflow.edit_ticket(world.office, world.t2.id, world.t2.version,
                         workflow.TicketChanges(deadline=date(2026, 11, 1)))
    office = inspections.counts_by_inspection(world.office, [world.inspection.id], TODAY)
    unit = inspections.counts_by_inspection(world.unit_k1, [world.inspection.id], TODAY)
    assert (office[world.inspection.id].findings, office[world.inspection.id].tickets,
            office[world.inspection.id].open, office[world.inspection.id].overdue) == (1, 2, 2, 1)
    assert (unit[world.inspection.id].tickets, unit[world.inspection.id].overdue) == (1, 0)


def test_a_finding_counts_as_rectified_when_its_tickets_are_closed_or_cancelled(world):
    workflow.cancel(world.office, world.t2.id, world.t2.version, "重复交办")
    world.t1.status = TicketStatus.CLOSED  # signed off
    db.session.flush()
    counts = inspections.counts_by_inspection(world.office, [world.inspection.id], TODAY)
    assert counts[world.inspection.id].rectified == 1
    assert counts[world.inspection.id].open == 0


# --- categories -------------------------------------------------------------------------

def test_admin_creates_renames_reorders_and_retires_categories(world):
    safety = inspections.create_category(world.admin, inspections.CategoryDraft(
        code="safety", name="校园安全"))
    assert [c.name for c in inspections.all_categories()] == ["经费投入", "校园安全"]
    inspections.move_category(world.admin, safety.id, -1)
    assert [c.name for c in inspections.all_categories()] == ["校园安全", "经费投入"]
    inspections.update_category(world.admin, safety.id, inspections.CategoryDraft(
        code="safety", name="校园安全与学生餐饮"))
    inspections.set_category_active(world.admin, safety.id, False)
    assert [c.name for c in inspections.active_categories()] == ["经费投入"]
    assert db.session.get(Category, safety.id).name == "校园安全与学生餐饮"


def test_category_name_must_be_unique(world):
    with pytest.raises(ValidationFailed) as excinfo:
        inspections.create_category(world.admin, inspections.CategoryDraft(
            code="funding2", name="经费投入"))
    assert list(fields_of(excinfo)) == ["name"]


def test_office_may_not_manage_categories(world):
    with pytest.raises(Forbidden):
        inspections.create_category(world.office, inspections.CategoryDraft(
            code="safety", name="校园安全"))
