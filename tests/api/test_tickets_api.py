"""The ticket JSON API: the same rules as the pages, as HTTP status codes and JSON bodies."""
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from tests import factories
from tests.factories import TODAY
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    ExtensionRequest,
    ExtensionStatus,
    Ticket,
    TicketStatus,
    TimelineKind,
)
from tracker.services import workflow

# --- helpers ----------------------------------------------------------------------------


def fresh(ticket_id: int) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, ticket_id)


def version(ticket_id: int) -> int:
    return fresh(ticket_id).version


def audit_count() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)))


def url(ticket_id: int, action: str = "") -> str:
    return f"/api/v1/tickets/{ticket_id}" + (f"/{action}" if action else "")


def acknowledged(w, ticket_id=None):
    ticket_id = ticket_id or w.t1.id
    workflow.acknowledge(w.unit_k1, ticket_id, version(ticket_id))
    db.session.commit()
    return ticket_id


def with_progress(w, ticket_id=None):
    ticket_id = acknowledged(w, ticket_id)
    workflow.add_progress(w.unit_k1, ticket_id, version(ticket_id), "已制定整改方案")
    db.session.commit()
    return ticket_id


def submitted(w, ticket_id=None):
    ticket_id = with_progress(w, ticket_id)
    workflow.submit(w.unit_k1, ticket_id, version(ticket_id))
    db.session.commit()
    return ticket_id


def closed(w):
    ticket_id = submitted(w)
    workflow.approve(w.office, ticket_id, version(ticket_id))
    db.session.commit()
    return ticket_id


def extension_requested(w):
    ticket_id = acknowledged(w)
    request = workflow.request_extension(w.unit_k1, ticket_id, version(ticket_id),
                                         TODAY + timedelta(days=90), "资金未到位")
    db.session.commit()
    return request.id


@contextmanager
def count_statements():
    counter = {"n": 0}

    def count(*_args):
        counter["n"] += 1

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", count)


# --- authentication ---------------------------------------------------------------------

def test_ticket_list_without_token_is_401(client, world):
    response = client.get("/api/v1/tickets")
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_ticket_list_with_unknown_token_is_401(client, world):
    response = client.get("/api/v1/tickets", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 401


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/tickets/1"),
    ("patch", "/api/v1/tickets/1"),
    ("post", "/api/v1/tickets/1/acknowledge"),
    ("post", "/api/v1/tickets/1/decline"),
    ("post", "/api/v1/tickets/1/progress"),
    ("post", "/api/v1/tickets/1/submit"),
    ("post", "/api/v1/tickets/1/approve"),
    ("post", "/api/v1/tickets/1/return"),
    ("post", "/api/v1/tickets/1/long-term"),
    ("post", "/api/v1/tickets/1/cancel"),
    ("post", "/api/v1/tickets/1/reopen"),
    ("post", "/api/v1/tickets/1/extension-requests"),
    ("get", "/api/v1/extension-requests"),
    ("post", "/api/v1/extension-requests/1/approve"),
    ("post", "/api/v1/extension-requests/1/refuse"),
])
def test_every_ticket_route_refuses_a_request_without_token(client, world, method, path):
    response = getattr(client, method)(path, json={"version": 1})
    assert response.status_code == 401


def test_revoked_token_is_401(api, world):
    caller = api("unit_k1")
    assert caller.get("/api/v1/tickets").status_code == 200
    assert caller.delete("/api/v1/auth/token").status_code == 204
    assert caller.get("/api/v1/tickets").status_code == 401


def test_expired_token_is_401(api, world, frozen_today):
    caller = api("unit_k1")
    frozen_today.shift(timedelta(hours=13))
    assert caller.get("/api/v1/tickets").status_code == 401


def test_token_of_deactivated_user_is_401(api, world):
    caller = api("unit_k1")
    fresh(world.t1.id)  # expire the world's objects
    world.unit_k1.is_active_user = False
    db.session.commit()
    assert caller.get("/api/v1/tickets").status_code == 401


# --- reading: list and detail, scoped ----------------------------------------------------

def test_ticket_list_answers_items_total_page_per_page_and_cursors(api, world):
    body = api("office").get("/api/v1/tickets").get_json()
    assert set(body) == {"items", "total", "total_capped", "page", "per_page", "next_cursor",
                         "prev_cursor"}
    assert body["total"] == 2 and body["page"] == 1 and body["per_page"] == 50
    assert body["total_capped"] is False
    assert body["next_cursor"] is None and body["prev_cursor"] is None
    assert {t["id"] for t in body["items"]} == {world.t1.id, world.t2.id}


def test_ticket_list_shows_every_state_unless_status_narrows(api, world):
    cancelled = world.t2.id
    workflow.cancel(world.office, cancelled, version(cancelled), "重复交办")
    db.session.commit()
    caller = api("office")
    assert caller.get("/api/v1/tickets").get_json()["total"] == 2
    body = caller.get("/api/v1/tickets?status=assigned&status=in_progress").get_json()
    assert [t["id"] for t in body["items"]] == [world.t1.id]
    body = caller.get("/api/v1/tickets?status=cancelled").get_json()
    assert [t["id"] for t in body["items"]] == [cancelled]


def test_unit_user_sees_only_its_tickets_in_list_and_total(api, world):
    body = api("unit_k2").get("/api/v1/tickets").get_json()
    assert body["total"] == 1
    assert [t["id"] for t in body["items"]] == [world.t2.id]


def test_unit_user_filtering_by_another_units_subtree_learns_nothing(api, world):
    body = api("unit_k2").get(f"/api/v1/tickets?unit={world.k1.id}").get_json()
    assert body == {"items": [], "total": 0, "total_capped": False, "page": 1, "per_page": 50,
                    "next_cursor": None, "prev_cursor": None}


def test_cooperating_unit_sees_the_ticket_with_lead_first_in_unit_ids(api, world):
    body = api("unit_d1").get("/api/v1/tickets").get_json()
    [item] = body["items"]
    assert item["id"] == world.t1.id
    assert item["unit_ids"] == [world.k1.id, world.d1.id]
    assert item["cooperating_unit_ids"] == [world.d1.id]


def test_city_office_lists_only_its_city(api, world):
    body = api("city_office").get("/api/v1/tickets").get_json()
    assert [t["id"] for t in body["items"]] == [world.t1.id]
    assert body["total"] == 1


def test_unit_user_gets_404_for_another_units_ticket(api, world):
    caller = api("unit_k2")
    response = caller.get(url(world.t1.id))
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_unit_user_cannot_act_on_another_units_ticket_404(api, world):
    before = version(world.t1.id), audit_count()
    response = api("unit_k2").post(url(world.t1.id, "acknowledge"),
                                   json={"version": version(world.t1.id)})
    assert response.status_code == 404
    assert (version(world.t1.id), audit_count()) == before


def test_missing_ticket_and_absurd_id_are_404(api, world):
    caller = api("admin")
    assert caller.get(url(999999)).status_code == 404
    assert caller.get(url(10**30)).status_code == 404


def test_ticket_detail_has_every_documented_field(api, world):
    body = api("unit_k1").get(url(world.t1.id)).get_json()
    assert {"id", "finding_id", "inspection_id", "status", "deadline", "original_deadline",
            "planned_completion_on", "is_overdue", "is_near_due", "light", "lead_unit_id",
            "unit_ids", "cooperating_unit_ids", "responsible_person", "measures", "target",
            "timeline", "progress_percent", "stage_goal", "next_review_on",
            "review_cycle_days", "is_declined", "decline_reason", "return_reason", "version",
            "acknowledged_at", "submitted_at", "closed_at", "updated_at",
            "pending_extension"} <= set(body)
    assert body["status"] == "assigned"
    assert body["deadline"] == (TODAY + timedelta(days=30)).isoformat()
    assert body["inspection_id"] == world.inspection.id
    assert body["light"] == "green" and body["pending_extension"] is None


def test_ticket_flags_come_from_the_deadline_rule(api, world):
    finding = factories.finding(world.inspection, number=2)
    late = factories.ticket(world.office, finding, world.k1, deadline=TODAY - timedelta(days=1))
    soon = factories.ticket(world.office, factories.finding(world.inspection, number=3),
                            world.k1, deadline=TODAY + timedelta(days=7))
    db.session.commit()
    caller = api("office")
    late_body = caller.get(url(late.id)).get_json()
    soon_body = caller.get(url(soon.id)).get_json()
    assert (late_body["is_overdue"], late_body["is_near_due"], late_body["light"]) == (
        True, False, "red")
    assert (soon_body["is_overdue"], soon_body["is_near_due"], soon_body["light"]) == (
        False, True, "yellow")
    overdue = caller.get("/api/v1/tickets?overdue=true").get_json()
    near = caller.get("/api/v1/tickets?near_due=1").get_json()
    assert [t["id"] for t in overdue["items"]] == [late.id]
    assert [t["id"] for t in near["items"]] == [soon.id]
    listed = {t["id"]: t["light"] for t in caller.get("/api/v1/tickets").get_json()["items"]}
    assert listed[late.id] == "red" and listed[soon.id] == "yellow"


def test_ticket_list_filters_by_finding_inspection_category_deadline_and_text(api, world):
    other = factories.finding(world.inspection, number=2, title="校园安全存在隐患")
    safety = factories.ticket(world.office, other, world.k1, deadline=date(2027, 3, 1))
    db.session.commit()
    caller = api("office")

    def ids(query):
        return [t["id"] for t in caller.get(f"/api/v1/tickets?{query}").get_json()["items"]]

    assert ids(f"finding={other.id}") == [safety.id]
    assert set(ids(f"inspection={world.inspection.id}")) == {world.t1.id, world.t2.id, safety.id}
    assert set(ids(f"category={world.category.id}")) == {world.t1.id, world.t2.id}
    assert ids("deadline_from=2027-01-01") == [safety.id]
    assert set(ids("deadline_to=2026-12-31")) == {world.t1.id, world.t2.id}
    assert ids("q=校园安全") == [safety.id]
    assert ids(f"unit={world.c1.id}&sort=-deadline") == [safety.id, world.t1.id]


def test_ticket_list_statement_count_does_not_grow_with_the_page(api, world):
    caller = api("office")
    caller.get("/api/v1/tickets")  # warm up
    with count_statements() as small:
        caller.get("/api/v1/tickets")
    factories.more_tickets(world, 12)
    workflow.request_extension(world.unit_k1, world.t1.id, version(world.t1.id),
                               TODAY + timedelta(days=60), "资金未到位")
    db.session.commit()
    with count_statements() as large:
        body = caller.get("/api/v1/tickets").get_json()
    assert body["total"] == 14
    assert large["n"] == small["n"]


# --- pagination -------------------------------------------------------------------------

@pytest.mark.parametrize("sort", ["deadline", "-deadline", "updated", "-updated"])
def test_cursor_pagination_returns_every_ticket_exactly_once(api, world, sort):
    all_ids = {world.t1.id, world.t2.id, *factories.more_tickets(world, 11)}
    caller = api("office")
    seen, cursor, pages = [], None, 0
    while True:
        query = f"/api/v1/tickets?per_page=4&sort={sort}" + (f"&cursor={cursor}" if cursor else "")
        body = caller.get(query).get_json()
        assert body["total"] == len(all_ids)
        seen += [t["id"] for t in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert pages < 10
    assert len(seen) == len(all_ids) and set(seen) == all_ids
    assert pages == 4


def test_page_numbers_page_through_the_same_order(api, world):
    factories.more_tickets(world, 5)
    caller = api("office")
    first = caller.get("/api/v1/tickets?per_page=3&page=1").get_json()
    second = caller.get("/api/v1/tickets?per_page=3&page=2").get_json()
    everything = caller.get("/api/v1/tickets?per_page=200").get_json()
    assert [t["id"] for t in first["items"] + second["items"]] == [
        t["id"] for t in everything["items"]][:6]
    assert second["page"] == 2


@pytest.mark.parametrize("sort", ["deadline", "-deadline", "updated", "-updated"])
def test_prev_cursor_walks_back_through_the_same_pages(api, world, sort):
    factories.more_tickets(world, 9)
    caller = api("office")
    forward, cursor = [], None
    while True:
        body = caller.get(f"/api/v1/tickets?per_page=3&sort={sort}"
                          + (f"&cursor={cursor}" if cursor else "")).get_json()
        forward.append([t["id"] for t in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(forward) == 4  # 11 tickets: 3 + 3 + 3 + 2
    back, cursor = [forward[-1]], body["prev_cursor"]
    while cursor is not None:
        body = caller.get(f"/api/v1/tickets?per_page=3&sort={sort}&cursor={cursor}").get_json()
        back.insert(0, [t["id"] for t in body["items"]])
        assert body["next_cursor"] is not None
        cursor = body["prev_cursor"]
    assert back == forward


def test_an_offset_page_links_back_by_cursor(api, world):
    factories.more_tickets(world, 4)
    caller = api("office")
    first = caller.get("/api/v1/tickets?per_page=3&page=1").get_json()
    second = caller.get("/api/v1/tickets?per_page=3&page=2").get_json()
    assert first["prev_cursor"] is None and second["prev_cursor"]
    back = caller.get(f"/api/v1/tickets?per_page=3&cursor={second['prev_cursor']}").get_json()
    assert [t["id"] for t in back["items"]] == [t["id"] for t in first["items"]]
    assert back["prev_cursor"] is None


def test_total_is_capped_instead_of_counting_the_whole_scope(api, world, monkeypatch):
    from tracker.services import ticket_queries
    factories.more_tickets(world, 3)
    monkeypatch.setattr(ticket_queries, "COUNT_CAP", 4)
    body = api("office").get("/api/v1/tickets?per_page=2").get_json()
    assert body["total"] == 4 and body["total_capped"] is True
    body = api("office").get("/api/v1/tickets?per_page=2&status=cancelled").get_json()
    assert body["total"] == 0 and body["total_capped"] is False


def test_cursor_pages_report_no_page_number(api, world):
    factories.more_tickets(world, 3)
    caller = api("office")
    cursor = caller.get("/api/v1/tickets?per_page=2").get_json()["next_cursor"]
    body = caller.get(f"/api/v1/tickets?per_page=2&cursor={cursor}").get_json()
    assert body["page"] is None and len(body["items"]) == 2


@pytest.mark.parametrize("query, field", [
    ("per_page=201", "per_page"),
    ("per_page=0", "per_page"),
    ("page=1&cursor=abc", "cursor"),
    ("colour=red", "colour"),
    ("status=open", "status.0"),
    ("sort=title", "sort"),
    ("overdue=perhaps", "overdue"),
    ("unit=abc", "unit"),
    ("unit=99999999999999999999", "unit"),
    ("deadline_from=2026-13-01", "deadline_from"),
    ("deadline_to=1900-01-01", "deadline_to"),
    ("cursor=not-a-cursor", "cursor"),
    ("q=" + "x" * 101, "q"),
])
def test_ticket_list_refuses_bad_query_with_422_at_the_field(api, world, query, field):
    response = api("office").get(f"/api/v1/tickets?{query}")
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "validation" and body["message"]
    assert field in body["fields"] and body["fields"][field]


@pytest.mark.parametrize("forged", [
    '["deadline", "2026-11-21", 99999999999999999999999]',
    '["updated", "2026-11-21T02:00:00", 1]',
    '["-deadline", "2026-11-21", 1]',
    '["deadline", 5, 1]',
    '{"a": 1}',
    '["deadline", "2026-11-21", 1, "next"]',
    '["deadline", "2026-11-21", true]',
    '"deadline"',
])
def test_forged_cursor_is_422_not_a_fault(api, world, forged):
    import base64
    cursor = base64.urlsafe_b64encode(forged.encode()).decode().rstrip("=")
    sort = "updated" if "updated" in forged else "deadline"
    response = api("office").get(f"/api/v1/tickets?sort={sort}&cursor={cursor}")
    assert response.status_code == 422
    assert "cursor" in response.get_json()["fields"]


# --- the unit's actions -----------------------------------------------------------------

def test_lead_unit_acknowledges(api, world):
    events, read = audit_count(), version(world.t1.id)
    response = api("unit_k1").post(url(world.t1.id, "acknowledge"), json={"version": read})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "in_progress" and body["acknowledged_at"]
    assert body["version"] == version(world.t1.id) > read
    assert audit_count() == events + 1


def test_lead_unit_acknowledging_a_long_term_ticket_makes_it_long_term(api, world):
    ticket = factories.ticket(world.office, factories.finding(world.inspection, number=2),
                              world.k1, timeline=TimelineKind.LONG_TERM)
    db.session.commit()
    response = api("unit_k1").post(url(ticket.id, "acknowledge"),
                                   json={"version": version(ticket.id)})
    assert response.get_json()["status"] == "long_term"


def test_lead_unit_declines_with_reason(api, world):
    response = api("unit_k1").post(url(world.t1.id, "decline"),
                                   json={"version": world.t1.version, "reason": "不属于本单位职责"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "assigned" and body["is_declined"] is True
    assert body["decline_reason"] == "不属于本单位职责"


def test_lead_unit_writes_progress_201_with_update_and_ticket(api, world):
    response = api("unit_k1").post(url(world.t1.id, "progress"), json={
        "version": world.t1.version, "text": "已拨付资金500万元", "percent": 40,
        "planned_completion_on": "2026-12-31"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["update"]["text"] == "已拨付资金500万元" and body["update"]["percent"] == 40
    assert body["update"]["unit_id"] == world.k1.id
    assert body["ticket"]["status"] == "in_progress"
    assert body["ticket"]["progress_percent"] == 40
    assert body["ticket"]["planned_completion_on"] == "2026-12-31"
    assert body["ticket"]["version"] == version(world.t1.id)


def test_cooperating_unit_writes_progress_but_not_the_percent(api, world):
    caller = api("unit_d1")
    ok = caller.post(url(world.t1.id, "progress"),
                     json={"version": world.t1.version, "text": "已配合核拨经费"})
    assert ok.status_code == 201
    assert ok.get_json()["ticket"]["status"] == "assigned"  # only the lead unit moves it
    refused = caller.post(url(world.t1.id, "progress"), json={
        "version": version(world.t1.id), "text": "完成", "percent": 100})
    assert refused.status_code == 403


def test_lead_unit_submits_for_sign_off(api, world):
    ticket_id = with_progress(world)
    response = api("unit_k1").post(url(ticket_id, "submit"), json={"version": version(ticket_id)})
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "submitted" and body["submitted_at"]
    assert body["waiting_days"] == 0


def test_cooperating_unit_may_not_submit_403(api, world):
    ticket_id = with_progress(world)
    before = version(ticket_id), audit_count()
    response = api("unit_d1").post(url(ticket_id, "submit"), json={"version": version(ticket_id)})
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"
    assert (version(ticket_id), audit_count()) == before


def test_lead_unit_requests_an_extension_201(api, world):
    ticket_id = acknowledged(world)
    response = api("unit_k1").post(url(ticket_id, "extension-requests"), json={
        "version": version(ticket_id), "deadline": "2027-03-31", "reason": "资金未到位"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "pending" and body["requested_deadline"] == "2027-03-31"
    assert body["ticket_version"] == version(ticket_id)
    detail = api("office").get(url(ticket_id)).get_json()
    assert detail["pending_extension"]["id"] == body["id"]
    assert detail["deadline"] == (TODAY + timedelta(days=30)).isoformat()


def test_second_pending_extension_request_is_invalid_transition(api, world):
    extension_requested(world)
    response = api("unit_k1").post(url(world.t1.id, "extension-requests"), json={
        "version": version(world.t1.id), "deadline": "2027-06-30", "reason": "再次申请"})
    assert response.status_code == 409
    assert response.get_json()["error"] == "invalid_transition"


# --- decisions --------------------------------------------------------------------------

def test_office_approves_and_closes_a_one_level_ticket(api, world):
    ticket_id = submitted(world)
    response = api("office").post(url(ticket_id, "approve"),
                                  json={"version": version(ticket_id), "note": "材料齐全"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "closed" and body["closed_at"] and body["progress_percent"] == 100


def test_two_level_chain_supervisor_verifies_then_office_closes(api, world):
    inspection = factories.inspection(world.c1_office, levels=2, title="2026年专项督导")
    ticket = factories.ticket(world.city_office, factories.finding(inspection), world.k1)
    db.session.commit()
    submitted(world, ticket.id)
    verified = api("supervisor").post(url(ticket.id, "approve"),
                                      json={"version": version(ticket.id)})
    assert verified.get_json()["status"] == "verified"
    closed_ = api("city_office").post(url(ticket.id, "approve"),
                                      json={"version": verified.get_json()["version"]})
    assert closed_.get_json()["status"] == "closed"


def test_unit_user_may_not_approve_403(api, world):
    ticket_id = submitted(world)
    response = api("unit_k1").post(url(ticket_id, "approve"), json={"version": version(ticket_id)})
    assert response.status_code == 403


def test_office_returns_with_reason(api, world):
    ticket_id = submitted(world)
    response = api("office").post(url(ticket_id, "return"),
                                  json={"version": version(ticket_id), "reason": "佐证材料不全"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "returned" and body["return_reason"] == "佐证材料不全"


def test_office_marks_long_term(api, world):
    ticket_id = acknowledged(world)
    response = api("office").post(url(ticket_id, "long-term"), json={
        "version": version(ticket_id), "stage_goal": "2027年底前完成校舍改造",
        "next_review_on": "2027-03-31", "review_cycle_days": 90})
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "long_term" and body["timeline"] == "long_term"
    assert body["next_review_on"] == "2027-03-31" and body["review_cycle_days"] == 90


def test_office_cancels_and_the_pending_extension_is_refused(api, world):
    request_id = extension_requested(world)
    response = api("office").post(url(world.t1.id, "cancel"),
                                  json={"version": version(world.t1.id), "reason": "重复交办"})
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"
    assert response.get_json()["pending_extension"] is None
    assert db.session.get(ExtensionRequest, request_id).status == ExtensionStatus.REFUSED


def test_office_reopens_a_closed_ticket_with_a_new_deadline(api, world):
    ticket_id = closed(world)
    response = api("office").post(url(ticket_id, "reopen"), json={
        "version": version(ticket_id), "reason": "回头看发现反弹", "deadline": "2027-02-28"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "in_progress" and body["deadline"] == "2027-02-28"
    assert body["closed_at"] is None


def test_office_approves_an_extension_and_the_deadline_moves(api, world):
    request_id = extension_requested(world)
    caller = api("office")
    pending = caller.get("/api/v1/extension-requests").get_json()
    assert [r["id"] for r in pending["items"]] == [request_id] and pending["total"] == 1
    response = caller.post(f"/api/v1/extension-requests/{request_id}/approve",
                           json={"note": "同意", "version": version(world.t1.id)})
    assert response.status_code == 200
    assert response.get_json()["status"] == "approved"
    ticket = fresh(world.t1.id)
    assert ticket.deadline == TODAY + timedelta(days=90)
    assert ticket.original_deadline == TODAY + timedelta(days=30)
    assert response.get_json()["ticket_version"] == ticket.version
    assert caller.get("/api/v1/extension-requests").get_json()["total"] == 0


def test_office_refuses_an_extension_and_the_deadline_stays(api, world):
    request_id = extension_requested(world)
    response = api("office").post(f"/api/v1/extension-requests/{request_id}/refuse",
                                  json={"version": version(world.t1.id)})
    assert response.status_code == 200
    assert response.get_json()["status"] == "refused"
    assert fresh(world.t1.id).deadline == TODAY + timedelta(days=30)


def test_extension_requests_of_another_scope_are_invisible(api, world):
    request_id = extension_requested(world)
    caller = api("sup_c2")
    assert caller.get("/api/v1/extension-requests").get_json()["total"] == 0
    assert api("unit_k2").post(f"/api/v1/extension-requests/{request_id}/approve",
                               json={"version": version(world.t1.id)}).status_code == 404


def test_unit_user_may_not_decide_its_own_extension_403(api, world):
    request_id = extension_requested(world)
    response = api("unit_k1").post(f"/api/v1/extension-requests/{request_id}/approve",
                                   json={"version": version(world.t1.id)})
    assert response.status_code == 403
    assert db.session.get(ExtensionRequest, request_id).status == ExtensionStatus.PENDING


# --- the office's edit ------------------------------------------------------------------

def test_office_patches_deadline_measures_and_cooperating_units(api, world):
    events = audit_count()
    response = api("office").patch(url(world.t1.id), json={
        "version": world.t1.version, "deadline": "2027-01-31", "measures": "新增专项资金",
        "cooperating_unit_ids": []})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["deadline"] == "2027-01-31" and body["measures"] == "新增专项资金"
    assert body["original_deadline"] == (TODAY + timedelta(days=30)).isoformat()
    assert body["unit_ids"] == [world.k1.id] and body["cooperating_unit_ids"] == []
    assert audit_count() == events + 1


def test_office_reassigns_the_lead_unit(api, world):
    response = api("office").patch(url(world.t1.id), json={
        "version": world.t1.version, "lead_unit_id": world.d1.id})
    assert response.status_code == 200
    assert response.get_json()["unit_ids"] == [world.d1.id]


def test_city_office_cannot_give_a_ticket_to_a_unit_outside_its_city(api, world):
    response = api("city_office").patch(url(world.t1.id), json={
        "version": world.t1.version, "lead_unit_id": world.k2.id})
    assert response.status_code == 422
    assert "lead_unit_id" in response.get_json()["fields"]


@pytest.mark.parametrize("user", ["unit_k1", "unit_d1", "supervisor"])
def test_only_the_office_may_patch_403(api, world, user):
    before = version(world.t1.id), audit_count()
    response = api(user).patch(url(world.t1.id), json={
        "version": world.t1.version, "deadline": "2027-06-30"})
    assert response.status_code == 403
    assert (version(world.t1.id), audit_count()) == before


@pytest.mark.parametrize("field, value", [
    ("status", "closed"), ("finding_id", 1), ("id", 5), ("owner_unit_id", 1),
    ("approver_id", 1), ("original_deadline", "2030-01-01"), ("progress_percent", 100),
    ("is_declined", False), ("timeline", "long_term"),
])
def test_patch_refuses_fields_no_role_may_set_422(api, world, field, value):
    before = version(world.t1.id), audit_count()
    response = api("office").patch(url(world.t1.id), json={
        "version": world.t1.version, field: value})
    assert response.status_code == 422
    assert response.get_json()["fields"][field]
    assert (version(world.t1.id), audit_count()) == before


def test_patch_refuses_null_and_empty_changes_422(api, world):
    caller = api("office")
    nulled = caller.patch(url(world.t1.id), json={"version": world.t1.version, "deadline": None})
    assert nulled.status_code == 422 and "deadline" in nulled.get_json()["fields"]
    empty = caller.patch(url(world.t1.id), json={"version": world.t1.version})
    assert empty.status_code == 422 and "body" in empty.get_json()["fields"]


# --- conflicts --------------------------------------------------------------------------

def test_stale_version_is_409_and_changes_nothing(api, world):
    stale = world.t1.version
    acknowledged(world)
    before = version(world.t1.id), audit_count()
    response = api("unit_k1").post(url(world.t1.id, "progress"),
                                   json={"version": stale, "text": "过时的版本"})
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "version_conflict" and body["message"]
    assert (version(world.t1.id), audit_count()) == before


def test_invalid_transition_is_409_and_changes_nothing(api, world):
    before = version(world.t1.id), audit_count()
    response = api("unit_k1").post(url(world.t1.id, "submit"), json={"version": world.t1.version})
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "invalid_transition" and body["message"]
    assert (version(world.t1.id), audit_count()) == before


def test_reopening_an_open_ticket_is_invalid_transition(api, world):
    response = api("office").post(url(world.t1.id, "reopen"), json={
        "version": world.t1.version, "reason": "回头看", "deadline": "2027-01-31"})
    assert response.status_code == 409
    assert response.get_json()["error"] == "invalid_transition"


# --- malformed input --------------------------------------------------------------------

BAD_BODIES = [
    ("not json", "body"),
    ("[1, 2]", "body"),
    ('"text"', "body"),
    ("[" * 20000, "body"),
    ('{"version": "1"}', "version"),
    ('{"version": 1.5}', "version"),
    ('{"version": true}', "version"),
    ('{"version": 0}', "version"),
    ('{"version": 123456789012345678901234567890}', "version"),
    ('{"version": 1, "unexpected": 1}', "unexpected"),
    ('{"version": 1, "reason": "' + "长" * 20000 + '"}', "reason"),
]
ACTIONS = ["acknowledge", "decline", "progress", "submit", "approve", "return", "long-term",
           "cancel", "reopen", "extension-requests"]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("raw, field", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_malformed_action_bodies_are_422_with_fields(api, world, action, raw, field):
    before = version(world.t1.id), audit_count()
    response = api("unit_k1").post(url(world.t1.id, action), data=raw,
                                   content_type="application/json")
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["error"] == "validation" and body["message"] and body["fields"]
    if action in ("acknowledge", "submit") or field != "reason":
        assert field in body["fields"], body
    assert (version(world.t1.id), audit_count()) == before


@pytest.mark.parametrize("payload, field", [
    ({"version": 1}, "reason"),
    ({"version": 1, "reason": ""}, "reason"),
    ({"version": 1, "reason": "   "}, "reason"),
    ({"version": 1, "reason": 5}, "reason"),
    ({"version": 1, "reason": ["列表"]}, "reason"),
    ({"version": 1, "reason": "x" * 1001}, "reason"),
])
def test_decline_reason_is_required_text_422(api, world, payload, field):
    response = api("unit_k1").post(url(world.t1.id, "decline"), json=payload)
    assert response.status_code == 422
    assert field in response.get_json()["fields"]


@pytest.mark.parametrize("payload, field", [
    ({"text": "x"}, "version"),
    ({"version": 1, "text": "x", "percent": 101}, "percent"),
    ({"version": 1, "text": "x", "percent": "50"}, "percent"),
    ({"version": 1, "text": "x", "planned_completion_on": "31/12/2026"}, "planned_completion_on"),
    ({"version": 1, "text": "x", "planned_completion_on": "1899-12-31"}, "planned_completion_on"),
    ({"version": 1, "text": "x" * 5001}, "text"),
])
def test_progress_body_is_validated_422(api, world, payload, field):
    response = api("unit_k1").post(url(world.t1.id, "progress"), json=payload)
    assert response.status_code == 422
    assert field in response.get_json()["fields"]


@pytest.mark.parametrize("payload, field", [
    ({"version": 1, "stage_goal": "x", "next_review_on": "2027-01-01", "review_cycle_days": 0},
     "review_cycle_days"),
    ({"version": 1, "stage_goal": "x", "review_cycle_days": 30}, "next_review_on"),
    ({"version": 1, "next_review_on": "2027-01-01", "review_cycle_days": 30}, "stage_goal"),
])
def test_long_term_body_is_validated_422(api, world, payload, field):
    response = api("office").post(url(world.t1.id, "long-term"), json=payload)
    assert response.status_code == 422
    assert field in response.get_json()["fields"]


def test_extension_request_must_move_the_deadline_later_422(api, world):
    ticket_id = acknowledged(world)
    response = api("unit_k1").post(url(ticket_id, "extension-requests"), json={
        "version": version(ticket_id), "deadline": "2026-12-01", "reason": "资金未到位"})
    assert response.status_code == 422
    assert "deadline" in response.get_json()["fields"]


def test_reopen_deadline_in_the_past_is_422(api, world):
    ticket_id = closed(world)
    response = api("office").post(url(ticket_id, "reopen"), json={
        "version": version(ticket_id), "reason": "回头看", "deadline": "2026-11-20"})
    assert response.status_code == 422
    assert response.get_json()["fields"]["deadline"]
    assert fresh(ticket_id).status == TicketStatus.CLOSED


def test_extension_decision_needs_the_current_ticket_version(api, world):
    request_id = extension_requested(world)
    caller = api("office")
    missing = caller.post(f"/api/v1/extension-requests/{request_id}/approve", json={})
    assert missing.status_code == 422 and "version" in missing.get_json()["fields"]
    stale = caller.post(f"/api/v1/extension-requests/{request_id}/approve",
                        json={"version": version(world.t1.id) - 1})
    assert stale.status_code == 409 and stale.get_json()["error"] == "version_conflict"
    assert db.session.get(ExtensionRequest, request_id).status == ExtensionStatus.PENDING
