"""The inspection pages and the administration pages, as the browser uses them."""
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from tests import factories
from tests.factories import TODAY
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    Category,
    Finding,
    Inspection,
    Role,
    Ticket,
    Unit,
    User,
)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@contextmanager
def counting_statements():
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def inspection_form(**overrides) -> dict:
    data = {"title": "2026年度市级人民政府履行教育职责评价", "kind": "evaluation", "year": "2026",
            "inspected_body": "兰州市人民政府", "inspecting_body": "省政府教育督导委员会办公室",
            "document_number": "甘政教督办函〔2026〕3号", "feedback_on": "2026-03-01",
            "default_deadline": "2026-12-31", "signoff_levels": "1"}
    data.update(overrides)
    return data


def split_rows(*rows) -> dict:
    data = {}
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"tickets-{index}-{name}"] = value
    return data


# --- inspection list and pages ----------------------------------------------------------

def test_inspection_list_shows_counts_for_the_office(world, login):
    client = login("office")
    page = client.get("/inspections").get_data(as_text=True)
    assert world.inspection.title in page
    assert "甘政教督办函〔2026〕1号" in page


def test_inspection_list_costs_the_same_statements_for_many_inspections(world, login):
    client = login("office")
    db.session.commit()  # both measurements start from an expired session
    with counting_statements() as few:
        assert client.get("/inspections").status_code == 200
    for year in range(2020, 2026):
        extra = factories.inspection(world.p_office, year=year, title=f"{year}年评价")
        extra_finding = factories.finding(extra)
        factories.ticket(world.office, extra_finding, world.k1)
    db.session.commit()
    with counting_statements() as many:
        assert client.get("/inspections").status_code == 200
    assert len(many) == len(few)


def test_unit_user_lists_only_inspections_holding_its_tickets(world, login):
    factories.inspection(world.p_office, title="没有本单位任务的评价")
    db.session.commit()
    page = login("unit_k1").get("/inspections").get_data(as_text=True)
    assert world.inspection.title in page
    assert "没有本单位任务的评价" not in page


def test_unit_user_sees_only_its_own_ticket_on_the_finding_page(world, login):
    page = login("unit_k1").get(f"/findings/{world.finding.id}").get_data(as_text=True)
    assert "城关区" in page
    assert "临夏市" not in page


def test_inspection_page_lists_findings_with_lead_units_and_statuses(world, login):
    page = login("office").get(f"/inspections/{world.inspection.id}").get_data(as_text=True)
    assert world.finding.title in page
    assert "城关区" in page and "临夏市" in page


def test_inspection_of_another_scope_answers_not_found(world, login):
    hidden = factories.inspection(world.p_office, title="省级专项督导")
    db.session.commit()
    assert login("city_office").get(f"/inspections/{hidden.id}").status_code == 404


# --- the office's forms -----------------------------------------------------------------

def test_office_registers_an_inspection_through_the_form(world, login):
    response = login("city_office").post("/inspections/new", data=inspection_form(
        owner_unit_id=str(world.c1_office.id)))
    assert response.status_code == 302
    inspection = db.session.scalar(select(Inspection).where(
        Inspection.title == "2026年度市级人民政府履行教育职责评价"))
    assert inspection.owner_unit_id == world.c1_office.id


def test_deadline_before_feedback_is_shown_beside_the_field_and_nothing_saved(world, login):
    before = count(Inspection)
    response = login("office").post("/inspections/new", data=inspection_form(
        owner_unit_id=str(world.p_office.id), default_deadline="2026-02-01"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "默认整改时限不能早于反馈日期。" in page
    assert 'id="default_deadline"' in page and "is-invalid" in page
    assert count(Inspection) == before


def test_unit_user_cannot_open_the_inspection_form(world, login):
    assert login("unit_k1").get("/inspections/new").status_code == 403


def test_city_office_cannot_edit_the_provinces_inspection(world, login):
    assert login("city_office").get(
        f"/inspections/{world.inspection.id}/edit").status_code == 403


def test_office_edits_the_inspection(world, login):
    client = login("office")
    form = inspection_form(owner_unit_id=str(world.p_office.id), title="改过的标题")
    assert client.post(f"/inspections/{world.inspection.id}/edit",
                       data=form).status_code == 302
    db.session.expire_all()
    assert db.session.get(Inspection, world.inspection.id).title == "改过的标题"


def test_duplicate_finding_number_is_shown_beside_the_number(world, login):
    before = count(Finding)
    response = login("office").post(f"/inspections/{world.inspection.id}/findings/new", data={
        "number": "1", "title": "校园安全存在隐患", "severity": "general", "category_id": "",
        "repeats_finding_id": ""})
    assert response.status_code == 200
    assert "本次检查中已有序号 1。" in response.get_data(as_text=True)
    assert count(Finding) == before


def test_office_adds_a_finding_with_required_evidence(world, login):
    response = login("office").post(f"/inspections/{world.inspection.id}/findings/new", data={
        "number": "2", "title": "校园安全存在隐患", "severity": "serious",
        "category_id": str(world.category.id), "repeats_finding_id": "",
        "required_evidence": "整改方案\r\n验收报告\r\n"})
    assert response.status_code == 302
    finding = db.session.scalar(select(Finding).where(Finding.number == 2))
    assert finding.required_evidence_items == ["整改方案", "验收报告"]


# --- splitting a finding into tickets ---------------------------------------------------

def new_finding(world) -> Finding:
    finding = factories.finding(world.inspection, number=2, title="校园安全存在隐患")
    db.session.commit()
    return finding


def test_split_form_proposes_the_inspections_default_deadline(world, login):
    finding = new_finding(world)
    page = login("office").get(f"/findings/{finding.id}/split").get_data(as_text=True)
    assert 'value="2026-12-31"' in page


def test_split_form_creates_three_tickets_in_one_post(world, login):
    finding = new_finding(world)
    deadline = (TODAY + timedelta(days=60)).isoformat()
    response = login("office").post(f"/findings/{finding.id}/split", data=split_rows(
        {"lead_unit_id": world.k1.id, "deadline": deadline, "timeline": "by_date",
         "measures": "排查校园安全隐患", "responsible_person": "张三",
         "cooperating_unit_ids": world.d1.id},
        {"lead_unit_id": world.d1.id, "deadline": deadline, "timeline": "immediate"},
        {"lead_unit_id": world.k2.id, "deadline": deadline, "timeline": "long_term"},
    ))
    assert response.status_code == 302
    tickets = list(db.session.scalars(select(Ticket).where(Ticket.finding_id == finding.id)))
    assert sorted(t.lead_unit_id for t in tickets) == sorted([world.k1.id, world.d1.id,
                                                              world.k2.id])
    first = next(t for t in tickets if t.lead_unit_id == world.k1.id)
    assert (first.responsible_person, first.unit_ids) == ("张三", [world.k1.id, world.d1.id])


def test_split_form_with_one_bad_row_writes_no_ticket(world, login):
    finding = new_finding(world)
    good = (TODAY + timedelta(days=60)).isoformat()
    response = login("office").post(f"/findings/{finding.id}/split", data=split_rows(
        {"lead_unit_id": world.k1.id, "deadline": good, "timeline": "by_date"},
        {"lead_unit_id": world.d1.id, "deadline": "2025-12-31", "timeline": "by_date"},
        {"lead_unit_id": world.k2.id, "deadline": good, "timeline": "by_date"},
    ))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "整改时限不能早于反馈日期" in page
    assert count(Ticket, Ticket.finding_id == finding.id) == 0


def test_split_form_row_without_a_lead_unit_is_an_error_at_that_row(world, login):
    finding = new_finding(world)
    good = (TODAY + timedelta(days=60)).isoformat()
    response = login("office").post(f"/findings/{finding.id}/split", data=split_rows(
        {"lead_unit_id": world.k1.id, "deadline": good, "timeline": "by_date"},
        {"lead_unit_id": "", "deadline": good, "timeline": "by_date", "measures": "落实经费"},
    ))
    assert response.status_code == 200
    assert "请选择本行的牵头单位。" in response.get_data(as_text=True)
    assert count(Ticket, Ticket.finding_id == finding.id) == 0


def test_split_form_offers_only_units_in_the_offices_scope(world, login):
    client = login("city_office")
    client.post("/inspections/new", data=inspection_form(owner_unit_id=str(world.c1_office.id)))
    inspection = db.session.scalar(select(Inspection).where(
        Inspection.owner_unit_id == world.c1_office.id))
    finding = factories.finding(inspection)
    db.session.commit()
    page = client.get(f"/findings/{finding.id}/split").get_data(as_text=True)
    assert "城关区" in page
    assert "临夏市" not in page


def test_add_row_button_adds_a_row_and_creates_nothing(world, login):
    finding = new_finding(world)
    response = login("office").post(f"/findings/{finding.id}/split",
                                    data={**split_rows({}, {}, {}), "add_row": "1"})
    assert 'name="tickets-3-lead_unit_id"' in response.get_data(as_text=True)
    assert count(Ticket, Ticket.finding_id == finding.id) == 0


def test_unit_user_cannot_split_a_finding(world, login):
    assert login("unit_k1").get(f"/findings/{world.finding.id}/split").status_code == 403


# --- administration ---------------------------------------------------------------------

@pytest.mark.parametrize("who", ["office", "supervisor", "unit_k1"])
def test_only_the_administrator_manages_users(world, login, who):
    assert login(who).get("/admin/users").status_code == 403


@pytest.mark.parametrize("who", ["supervisor", "unit_k1"])
def test_supervisors_and_units_do_not_manage_units(world, login, who):
    assert login(who).get("/admin/units").status_code == 403


def test_admin_creates_an_account_and_sees_its_one_time_password_once(world, login):
    client = login("admin")
    response = client.post("/admin/users/new", data={
        "username": "zhang_k1", "full_name": "张敏", "role": "unit_user",
        "unit_id": str(world.k1.id), "scope_unit_id": "", "email": "", "phone": ""})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.username == "zhang_k1"))
    assert user.must_change_password
    password = page.split('<code class="user-select-all">')[1].split("</code>")[0]
    assert user.check_password(password)
    assert password not in client.get(f"/admin/users/{user.id}").get_data(as_text=True)


def test_admin_resets_a_password_without_typing_it(world, login):
    client = login("admin")
    page = client.post(f"/admin/users/{world.unit_k1.id}/reset-password").get_data(as_text=True)
    password = page.split('<code class="user-select-all">')[1].split("</code>")[0]
    db.session.expire_all()
    assert db.session.get(User, world.unit_k1.id).check_password(password)


def test_admin_gives_a_unit_user_an_office_role_with_a_scope(world, login):
    response = login("admin").post(f"/admin/users/{world.unit_k1.id}", data={
        "full_name": "城关区督导", "role": "office", "unit_id": str(world.k1.id),
        "scope_unit_id": str(world.k1.id), "email": "dd@example.cn", "phone": ""})
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, world.unit_k1.id)
    assert (user.role, user.scope_unit_id) == (Role.OFFICE, world.k1.id)


def test_office_role_without_a_scope_is_a_field_error(world, login):
    response = login("admin").post(f"/admin/users/{world.unit_k1.id}", data={
        "full_name": "城关区督导", "role": "office", "unit_id": str(world.k1.id),
        "scope_unit_id": "", "email": "", "phone": ""})
    assert response.status_code == 200
    assert "督导办和督学账号须指定管辖范围。" in response.get_data(as_text=True)


def test_admin_deactivates_and_restores_an_account(world, login):
    client = login("admin")
    client.post(f"/admin/users/{world.unit_k2.id}/active", data={"active": "0"})
    db.session.expire_all()
    assert not db.session.get(User, world.unit_k2.id).is_active_user
    client.post(f"/admin/users/{world.unit_k2.id}/active", data={"active": "1"})
    db.session.expire_all()
    assert db.session.get(User, world.unit_k2.id).is_active_user


def test_office_adds_a_unit_under_a_unit_it_covers(world, login):
    response = login("city_office").post("/admin/units", data={
        "parent_id": str(world.k1.id), "code": "620102-01", "name": "城关区第一中学",
        "kind": "school"})
    assert response.status_code == 302
    school = db.session.scalar(select(Unit).where(Unit.code == "620102-01"))
    assert school.parent_id == world.k1.id


def test_office_cannot_add_a_unit_outside_its_scope(world, login):
    response = login("city_office").post("/admin/units", data={
        "parent_id": str(world.k2.id), "code": "622901-01", "name": "临夏市第一中学",
        "kind": "school"})
    assert response.status_code == 200
    assert count(Unit, Unit.code == "622901-01") == 0


def test_unit_tree_of_an_office_shows_only_its_scope(world, login):
    page = login("city_office").get("/admin/units").get_data(as_text=True)
    assert "城关区" in page and "临夏市" not in page


def test_office_renames_a_unit_in_its_scope_but_cannot_move_it(world, login):
    client = login("city_office")
    response = client.post(f"/admin/units/{world.k1.id}", data={
        "code": "620102", "name": "兰州市城关区", "kind": "county", "webhook_url": ""})
    assert response.status_code == 302
    assert client.post(f"/admin/units/{world.k1.id}/move",
                       data={"parent_id": str(world.c2.id)}).status_code == 403


def test_admin_moves_a_unit_and_deactivates_it_without_deleting(world, login):
    client = login("admin")
    assert client.post(f"/admin/units/{world.d1.id}/move",
                       data={"parent_id": str(world.c2.id)}).status_code == 302
    assert client.post(f"/admin/units/{world.d1.id}/active",
                       data={"active": "0"}).status_code == 302
    db.session.expire_all()
    unit = db.session.get(Unit, world.d1.id)
    assert (unit.parent_id, unit.is_active) == (world.c2.id, False)


def test_a_unit_cannot_move_under_its_own_child(world, login):
    response = login("admin").post(f"/admin/units/{world.c1.id}/move",
                                   data={"parent_id": str(world.k1.id)})
    assert response.status_code == 200
    assert "is-invalid" in response.get_data(as_text=True)  # not among the choices
    db.session.expire_all()
    assert db.session.get(Unit, world.c1.id).parent_id == world.p.id


def test_admin_manages_categories(world, login):
    client = login("admin")
    assert client.post("/admin/categories", data={"code": "safety",
                                                  "name": "校园安全"}).status_code == 302
    safety = db.session.scalar(select(Category).where(Category.code == "safety"))
    client.post(f"/admin/categories/{safety.id}/move", data={"direction": "up"})
    client.post(f"/admin/categories/{safety.id}", data={"code": "safety", "name": "校园安全稳定"})
    client.post(f"/admin/categories/{safety.id}/active", data={"active": "0"})
    db.session.expire_all()
    safety = db.session.get(Category, safety.id)
    assert (safety.name, safety.sort_order, safety.is_active) == ("校园安全稳定", 1, False)
    assert count(AuditEvent, AuditEvent.object_type == "category") == 4
