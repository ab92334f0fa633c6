"""The inspections, findings and units endpoints: status codes, error shapes, scoping."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.factories import TODAY
from tracker.extensions import db
from tracker.models import Finding, Ticket, Unit


def inspection_body(**overrides) -> dict:
    body = {"title": "2026年度市级人民政府履行教育职责评价", "kind": "evaluation", "year": 2026,
            "inspected_body": "兰州市人民政府", "inspecting_body": "省政府教育督导委员会办公室",
            "feedback_on": "2026-03-01", "default_deadline": "2026-12-31",
            "document_number": "甘政教督办函〔2026〕3号"}
    body.update(overrides)
    return body


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- inspections ------------------------------------------------------------------------

def test_office_creates_an_inspection(world, api):
    response = api("city_office").post("/api/v1/inspections", json=inspection_body())
    assert response.status_code == 201
    body = response.get_json()
    assert (body["owner_unit_id"], body["kind"], body["may_edit"]) == (
        world.c1_office.id, "evaluation", True)
    assert body["counts"] == {"findings": 0, "rectified": 0, "tickets": 0, "open": 0,
                              "overdue": 0}


def test_unit_user_cannot_create_an_inspection(world, api):
    response = api("unit_k1").post("/api/v1/inspections", json=inspection_body())
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"


def test_request_without_a_token_is_refused(world, client):
    assert client.get("/api/v1/inspections").status_code == 401


def test_deadline_before_feedback_is_a_422_naming_the_field(world, api):
    response = api("office").post("/api/v1/inspections", json=inspection_body(
        default_deadline="2026-02-01"))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "validation"
    assert list(body["fields"]) == ["default_deadline"]


def test_schema_errors_are_422_with_every_field(world, api):
    response = api("office").post("/api/v1/inspections", json=inspection_body(
        kind="inspection", year="2026", feedback_on="1 March", surprise=True))
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"kind", "year", "feedback_on", "surprise"}


def test_unit_user_lists_only_inspections_holding_its_tickets(world, api):
    factories.inspection(world.p_office, title="没有本单位任务的评价")
    db.session.commit()
    body = api("unit_k1").get("/api/v1/inspections").get_json()
    assert [item["id"] for item in body["items"]] == [world.inspection.id]
    assert body["total"] == 1
    assert body["items"][0]["counts"]["tickets"] == 1
    assert body["items"][0]["may_edit"] is False


def test_inspection_list_is_paginated(world, api):
    for year in (2023, 2024, 2025):
        factories.inspection(world.p_office, year=year, title=f"{year}年评价")
    db.session.commit()
    body = api("office").get("/api/v1/inspections?per_page=2&page=2").get_json()
    assert (body["total"], body["page"], body["per_page"], len(body["items"])) == (4, 2, 2, 2)
    assert api("office").get("/api/v1/inspections?per_page=201").status_code == 422


def test_inspection_outside_the_scope_is_not_found(world, api):
    hidden = factories.inspection(world.p_office, title="省级专项督导")
    db.session.commit()
    assert api("city_office").get(f"/api/v1/inspections/{hidden.id}").status_code == 404
    assert api("city_office").patch(f"/api/v1/inspections/{hidden.id}",
                                    json={"title": "x"}).status_code == 404


def test_office_in_scope_but_not_owner_cannot_patch(world, api):
    response = api("city_office").patch(f"/api/v1/inspections/{world.inspection.id}",
                                        json={"title": "改名"})
    assert response.status_code == 403


def test_patch_changes_only_the_fields_sent(world, api):
    response = api("office").patch(f"/api/v1/inspections/{world.inspection.id}",
                                   json={"title": "改过的标题", "signoff_levels": 2})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["title"], body["signoff_levels"], body["year"]) == ("改过的标题", 2, 2026)


def test_patch_with_null_title_is_a_422(world, api):
    response = api("office").patch(f"/api/v1/inspections/{world.inspection.id}",
                                   json={"title": None})
    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == ["title"]


# --- findings ---------------------------------------------------------------------------

def test_office_adds_a_finding_and_reads_it_back(world, api):
    caller = api("office")
    response = caller.post(f"/api/v1/inspections/{world.inspection.id}/findings", json={
        "title": "校园安全存在隐患", "category_id": world.category.id, "severity": "serious",
        "required_evidence": ["整改方案", "验收报告"]})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["number"], body["category_name"], body["required_evidence"], body["tickets"]) == (
        2, "经费投入", ["整改方案", "验收报告"], [])
    listed = caller.get(f"/api/v1/inspections/{world.inspection.id}/findings").get_json()
    assert [f["number"] for f in listed["items"]] == [1, 2]


def test_duplicate_finding_number_is_a_422_on_number_and_writes_nothing(world, api):
    before = count(Finding)
    response = api("office").post(f"/api/v1/inspections/{world.inspection.id}/findings",
                                  json={"title": "校园安全存在隐患", "number": 1})
    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == ["number"]
    assert count(Finding) == before


def test_finding_shows_only_the_tickets_the_caller_may_see(world, api):
    office = api("office").get(f"/api/v1/findings/{world.finding.id}").get_json()
    unit = api("unit_k1").get(f"/api/v1/findings/{world.finding.id}").get_json()
    assert len(office["tickets"]) == 2
    assert unit["tickets"] == [{"id": world.t1.id, "status": "assigned",
                                "lead_unit_id": world.k1.id,
                                "deadline": world.t1.deadline.isoformat()}]


def test_finding_without_a_visible_ticket_is_not_found_for_a_unit(world, api):
    other = factories.finding(world.inspection, number=2, title="校园安全存在隐患")
    db.session.commit()
    assert api("unit_k1").get(f"/api/v1/findings/{other.id}").status_code == 404


def test_patch_finding_links_a_repeated_finding_and_refuses_its_own_inspection(world, api):
    caller = api("office")
    later = caller.post("/api/v1/inspections", json=inspection_body(year=2027)).get_json()
    finding = caller.post(f"/api/v1/inspections/{later['id']}/findings",
                          json={"title": "经费投入仍不足"}).get_json()
    response = caller.patch(f"/api/v1/findings/{finding['id']}",
                            json={"repeats_finding_id": world.finding.id})
    assert response.get_json()["repeats_finding_id"] == world.finding.id
    second = caller.post(f"/api/v1/inspections/{later['id']}/findings",
                         json={"title": "师资不足"}).get_json()
    refused = caller.patch(f"/api/v1/findings/{second['id']}",
                           json={"repeats_finding_id": finding["id"]})
    assert refused.status_code == 422
    assert list(refused.get_json()["fields"]) == ["repeats_finding_id"]


# --- splitting --------------------------------------------------------------------------

def test_split_creates_every_ticket_and_returns_their_ids(world, api):
    finding = factories.finding(world.inspection, number=2, title="校园安全存在隐患")
    db.session.commit()
    response = api("office").post(f"/api/v1/findings/{finding.id}/tickets", json={"tickets": [
        {"lead_unit_id": world.k1.id, "cooperating_unit_ids": [world.d1.id]},
        {"lead_unit_id": world.k2.id, "deadline": (TODAY + timedelta(days=10)).isoformat()},
    ]})
    assert response.status_code == 201
    ids = response.get_json()["ids"]
    tickets = [db.session.get(Ticket, i) for i in ids]
    assert [t.lead_unit_id for t in tickets] == [world.k1.id, world.k2.id]
    assert tickets[0].deadline == world.inspection.default_deadline


def test_split_with_a_bad_draft_names_it_and_creates_nothing(world, api):
    finding = factories.finding(world.inspection, number=2, title="校园安全存在隐患")
    db.session.commit()
    response = api("office").post(f"/api/v1/findings/{finding.id}/tickets", json={"tickets": [
        {"lead_unit_id": world.k1.id},
        {"lead_unit_id": world.k2.id, "deadline": "2025-06-30"},
    ]})
    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == ["tickets.1.deadline"]
    assert count(Ticket, Ticket.finding_id == finding.id) == 0


def test_split_by_a_unit_user_is_forbidden(world, api):
    response = api("unit_k1").post(f"/api/v1/findings/{world.finding.id}/tickets",
                                   json={"tickets": [{"lead_unit_id": world.k1.id}]})
    assert response.status_code == 403


# --- units ------------------------------------------------------------------------------

def test_units_are_listed_within_the_scope(world, api):
    body = api("city_office").get("/api/v1/units?per_page=200").get_json()
    codes = {u["code"] for u in body["items"]}
    assert codes == {"6201", "6201-DD", "620102", "6201-CZ"}
    assert set(body["items"][0]) == {"id", "code", "name", "kind", "parent_id", "is_active"}
    assert api("unit_k1").get("/api/v1/units").get_json()["total"] == 1


def test_unit_outside_the_scope_is_not_found(world, api):
    assert api("city_office").get(f"/api/v1/units/{world.k2.id}").status_code == 404


def test_office_adds_a_unit_inside_its_scope_only(world, api):
    caller = api("city_office")
    created = caller.post("/api/v1/units", json={"code": "620102-01", "name": "城关区第一中学",
                                                 "kind": "school", "parent_id": world.k1.id})
    assert created.status_code == 201
    assert created.get_json()["parent_id"] == world.k1.id
    outside = caller.post("/api/v1/units", json={"code": "622901-01", "name": "临夏市第一中学",
                                                 "kind": "school", "parent_id": world.k2.id})
    assert outside.status_code == 404
    assert count(Unit, Unit.code == "622901-01") == 0


def test_duplicate_unit_code_is_a_422(world, api):
    response = api("admin").post("/api/v1/units", json={"code": "620102", "name": "重复",
                                                        "kind": "county",
                                                        "parent_id": world.c1.id})
    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == ["code"]


def test_office_renames_but_may_not_move_or_deactivate(world, api):
    caller = api("city_office")
    renamed = caller.patch(f"/api/v1/units/{world.k1.id}", json={"name": "兰州市城关区"})
    assert (renamed.status_code, renamed.get_json()["name"]) == (200, "兰州市城关区")
    assert caller.patch(f"/api/v1/units/{world.k1.id}",
                        json={"is_active": False}).status_code == 403
    assert caller.patch(f"/api/v1/units/{world.k1.id}",
                        json={"parent_id": world.c1_office.id}).status_code == 403


def test_admin_moves_and_deactivates_a_unit(world, api):
    response = api("admin").patch(f"/api/v1/units/{world.d1.id}",
                                  json={"parent_id": world.c2.id, "is_active": False})
    assert response.status_code == 200
    assert (response.get_json()["parent_id"], response.get_json()["is_active"]) == (
        world.c2.id, False)


def test_moving_a_unit_under_an_unknown_unit_is_a_422(world, api):
    response = api("admin").patch(f"/api/v1/units/{world.d1.id}", json={"parent_id": 999999})
    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == ["parent_id"]


@pytest.mark.parametrize("path", ["/inspections", "/units", "/findings/{finding}",
                                  "/inspections/{inspection}/findings"])
def test_every_read_endpoint_is_in_the_openapi_document(world, client, path):
    document = client.get("/api/v1/openapi.json").get_json()
    key = "/api/v1" + path.replace("{finding}", "{finding_id}").replace(
        "{inspection}", "{inspection_id}")
    assert "get" in document["paths"][key]
    assert "200" in document["paths"][key]["get"]["responses"]
