"""GET /api/v1/summary answers the roll-up of the caller's scope."""
from tracker.models import TicketStatus
from tests.rollup.builders import Spec, make_findings, spread
from tracker.extensions import db


def test_summary_lists_every_state_with_zeros_and_the_findings(world, api):
    body = api("office").get("/api/v1/summary").get_json()
    assert body["total"] == 2
    assert set(body["by_status"]) == {s.value for s in TicketStatus}
    assert body["by_status"]["closed"] == 0
    assert body["findings"]["found"] == 1
    assert set(body["planned"]) == {"this_year", "by_cut", "later", "long_term"}
    assert body["groups"] == []


def test_summary_groups_sum_to_the_total(world, api):
    findings = make_findings(world, 4)
    spread(world, findings, [Spec(1, 0, TicketStatus.CLOSED, 3, None),
                             Spec(2, 2, TicketStatus.IN_PROGRESS, -3, None)])
    db.session.commit()
    for group_by in ("unit", "region", "category", "inspection", "severity", "year"):
        body = api("office").get(f"/api/v1/summary?group_by={group_by}").get_json()
        assert sum(g["total"] for g in body["groups"]) == body["total"] == 4, group_by


def test_unit_users_summary_counts_only_their_own_tickets(world, api):
    body = api("unit_k2").get("/api/v1/summary").get_json()
    assert body["total"] == 1
    assert api("unit_k2").get(f"/api/v1/summary?unit={world.k1.id}").status_code == 404


def test_summary_refuses_an_unknown_grouping_with_422(world, api):
    response = api("office").get("/api/v1/summary?group_by=colour")
    assert response.status_code == 422
    assert "group_by" in response.get_json()["fields"]


def test_summary_needs_a_token(world, client):
    assert client.get("/api/v1/summary").status_code == 401
