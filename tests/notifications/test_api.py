"""The notification and urging-notice endpoints of the JSON API."""
from sqlalchemy import select

from tests.notifications.conftest import notes
from tracker.extensions import db
from tracker.models import NotificationKind, UrgingNotice
from tracker.services import workflow

K = NotificationKind


def test_list_own_notifications_and_mark_one_read(world, api):
    caller = api("unit_k1")
    body = caller.get("/api/v1/notifications").get_json()
    assert body["unread"] == 1 and body["total"] == 1
    [item] = body["items"]
    assert item["kind"] == "assigned" and item["ticket_id"] == world.t1.id
    answer = caller.post(f"/api/v1/notifications/{item['id']}/read")
    assert answer.status_code == 200 and answer.get_json()["read_at"]
    assert caller.get("/api/v1/notifications?unread=true").get_json()["items"] == []


def test_someone_elses_notification_is_not_found(world, api):
    [news] = notes(K.ASSIGNED, user=world.unit_k2)
    assert api("unit_k1").post(f"/api/v1/notifications/{news.id}/read").status_code == 404


def test_unknown_query_parameter_is_refused(world, api):
    response = api("unit_k1").get("/api/v1/notifications?colour=red")
    assert response.status_code == 422 and "colour" in response.get_json()["fields"]


def test_urging_issued_and_acknowledged(world, api):
    response = api("supervisor").post(f"/api/v1/tickets/{world.t1.id}/urgings", json={
        "level": "important", "text": "请加快整改进度", "respond_by": "2026-11-30"})
    assert response.status_code == 201, response.get_json()
    urging = response.get_json()
    assert urging["level"] == "important" and urging["acknowledged_at"] is None
    listed = api("unit_k1").get(f"/api/v1/tickets/{world.t1.id}/urgings").get_json()
    assert [u["id"] for u in listed["items"]] == [urging["id"]]
    assert api("unit_d1").post(f"/api/v1/urgings/{urging['id']}/acknowledge",
                               json={}).status_code == 403  # cooperating, not lead
    done = api("unit_k1").post(f"/api/v1/urgings/{urging['id']}/acknowledge",
                               json={"response": "已召开专题会议"})
    assert done.status_code == 200 and done.get_json()["acknowledged_at"]
    again = api("unit_k1").post(f"/api/v1/urgings/{urging['id']}/acknowledge", json={})
    assert again.status_code == 409


def test_urging_with_a_bad_level_is_refused_with_the_field(world, api):
    response = api("office").post(f"/api/v1/tickets/{world.t1.id}/urgings",
                                  json={"level": "urgent", "text": "x"})
    assert response.status_code == 422 and "level" in response.get_json()["fields"]
    assert db.session.scalars(select(UrgingNotice)).all() == []


def test_urging_in_the_past_is_refused(world, api):
    response = api("office").post(f"/api/v1/tickets/{world.t1.id}/urgings", json={
        "level": "general", "text": "请加快", "respond_by": "2026-01-01"})
    assert response.status_code == 422 and "respond_by" in response.get_json()["fields"]


def test_urging_outside_the_scope_is_not_found_and_by_a_unit_forbidden(world, api):
    url = f"/api/v1/tickets/{world.t1.id}/urgings"
    assert api("sup_c2").post(url, json={"level": "general", "text": "x"}).status_code == 404
    assert api("unit_k1").post(url, json={"level": "general", "text": "x"}).status_code == 403
    assert api("unit_k2").get(url).status_code == 404


def test_urging_a_closed_ticket_is_refused(world, api):
    t1 = world.t1
    workflow.cancel(world.office, t1.id, t1.version, "重复")
    db.session.commit()
    response = api("office").post(f"/api/v1/tickets/{t1.id}/urgings",
                                  json={"level": "general", "text": "x"})
    assert response.status_code == 409


def test_openapi_documents_the_notification_routes(world, client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/notifications", "/api/v1/notifications/{notification_id}/read",
                 "/api/v1/tickets/{ticket_id}/urgings", "/api/v1/urgings/{urging_id}/acknowledge"):
        assert path in paths
