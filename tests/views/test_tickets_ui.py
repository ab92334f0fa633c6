"""The ticket pages: my tickets, the ticket list, one ticket and its action forms, and the
decision queue. Each test logs in through the real login form."""
import re
from contextlib import contextmanager
from datetime import timedelta

import flask_babel
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
)
from tracker.services import decisions, scoping, ticket_queries, workflow
from tracker.views.ui import has_endpoint


# --- helpers ----------------------------------------------------------------------------

def fresh(ticket_id: int) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, ticket_id)


def ticket_links(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/tickets/(\d+)"', html)}


def english(client):
    """Switch the session to English. The tests' requests share one application context
    (conftest keeps it open), where Flask-Babel caches the locale: refresh that cache."""
    client.get("/?lang=en")  # the language is remembered in the session
    flask_babel.refresh()
    return client


def audit_count() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)))


@contextmanager
def count_statements():
    statements: list[str] = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before_cursor_execute)


def submitted(world, ticket):
    """Walk a ticket of K1 to `submitted` through the workflow, as its unit would."""
    workflow.acknowledge(world.unit_k1, ticket.id, ticket.version)
    workflow.add_progress(world.unit_k1, ticket.id, ticket.version, "已完成")
    workflow.submit(world.unit_k1, ticket.id, ticket.version)
    db.session.commit()
    return ticket


# --- where users land, and what they see ------------------------------------------------

@pytest.mark.parametrize("username, target", [
    ("unit_k1", "/my"), ("admin", "/tickets"), ("office", "/tickets"),
    ("supervisor", "/tickets"),
])
def test_start_page_depends_on_the_role(world, login, username, target):
    client = login(username)
    response = client.get("/")
    assert response.status_code == 302
    expected = "/dashboard" if has_endpoint("dashboard.index") and username in (
        "office", "supervisor") else target
    assert response.headers["Location"].startswith(expected)


def test_unit_user_sees_own_ticket_and_not_other_units_in_my_tickets(world, login):
    html = login("unit_k1").get("/my").get_data(as_text=True)
    assert world.t1.id in ticket_links(html)
    assert world.t2.id not in ticket_links(html)


def test_cooperating_unit_sees_the_ticket_it_cooperates_on(world, login):
    html = login("unit_d1").get("/my").get_data(as_text=True)
    assert ticket_links(html) == {world.t1.id}


def test_my_tickets_groups_by_what_the_ticket_needs(world, login):
    workflow.acknowledge(world.unit_k1, world.t1.id, world.t1.version)
    db.session.commit()
    html = login("unit_k1").get("/my").get_data(as_text=True)
    working = html[html.index('id="group-working"'):html.index('id="group-waiting"')]
    acknowledge = html[html.index('id="group-acknowledge"'):html.index('id="group-returned"')]
    assert f'href="/tickets/{world.t1.id}"' in working
    assert f'href="/tickets/{world.t1.id}"' not in acknowledge


def test_my_tickets_shows_light_word_and_days_overdue(world, login):
    late = factories.ticket(world.office, world.finding, world.k1,
                            deadline=TODAY - timedelta(days=3))
    db.session.commit()
    html = english(login("unit_k1")).get("/my").get_data(as_text=True)
    row = html[html.index(f'href="/tickets/{late.id}"'):]
    row = row[:row.index("</tr>")]
    assert "text-bg-danger" in row and "Overdue" in row
    assert "3 days overdue" in row


def test_other_units_ticket_page_answers_404(world, login):
    client = login("unit_k1")
    assert client.get(f"/tickets/{world.t2.id}").status_code == 404
    assert client.post(f"/tickets/{world.t2.id}/acknowledge",
                       data={"acknowledge-version": world.t2.version}).status_code == 404
    assert fresh(world.t2.id).status == TicketStatus.ASSIGNED


def test_ticket_page_shows_finding_units_and_history(world, login):
    html = login("unit_d1").get(f"/tickets/{world.t1.id}").get_data(as_text=True)
    assert "经费投入保障政策未完全落实" in html
    assert "甘政教督办函〔2026〕1号" in html
    assert "城关区" in html and "兰州市财政局" in html
    assert 'id="history"' in html


def test_history_labels_actions_in_the_users_language(world, login):
    workflow.decline(world.unit_k1, world.t1.id, world.t1.version, "不属于本单位职责")
    db.session.commit()
    html = english(login("unit_k1")).get(f"/tickets/{world.t1.id}").get_data(as_text=True)
    history = html[html.index('id="history"'):]
    assert "Declined" in history and "不属于本单位职责" in history
    assert "unit_k1" in history  # the actor


# --- action forms -----------------------------------------------------------------------

def test_only_the_lead_unit_is_offered_acknowledge(world, login):
    lead = login("unit_k1").get(f"/tickets/{world.t1.id}").get_data(as_text=True)
    assert 'action="/tickets/%d/acknowledge"' % world.t1.id in lead
    cooperating = login("unit_d1").get(f"/tickets/{world.t1.id}").get_data(as_text=True)
    assert "/acknowledge" not in cooperating
    assert 'action="/tickets/%d/progress"' % world.t1.id in cooperating


def test_acknowledge_by_post_moves_the_ticket_to_in_progress(world, login):
    response = login("unit_k1").post(f"/tickets/{world.t1.id}/acknowledge",
                                     data={"acknowledge-version": world.t1.version})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/tickets/{world.t1.id}")
    assert fresh(world.t1.id).status == TicketStatus.IN_PROGRESS


def test_actions_refuse_get(world, login):
    response = login("unit_k1").get(f"/tickets/{world.t1.id}/acknowledge")
    assert response.status_code == 405
    assert fresh(world.t1.id).status == TicketStatus.ASSIGNED


def test_stale_version_shows_the_conflict_and_writes_nothing(world, login):
    stale = world.t1.version
    workflow.add_progress(world.unit_d1, world.t1.id, stale, "配合单位已提供数据")
    db.session.commit()
    before = audit_count()
    client = english(login("unit_k1"))
    response = client.post(f"/tickets/{world.t1.id}/decline",
                           data={"decline-version": stale, "decline-reason": "不是我们的"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else changed this ticket" in html
    assert "配合单位已提供数据" in html  # the fresh ticket, with the other change
    assert f'value="{fresh(world.t1.id).version}"' in html  # the form now names it
    ticket = fresh(world.t1.id)
    assert ticket.is_declined is False and audit_count() == before


def test_missing_reason_is_shown_beside_the_field_in_chinese(world, login):
    before = audit_count()
    response = login("unit_k1").post(f"/tickets/{world.t1.id}/decline",
                                     data={"decline-version": world.t1.version,
                                           "decline-reason": "  "})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(r'id="decline-reason-error">([^<]*)<', html)
    assert error is not None and "必填" in error.group(1)
    assert 'aria-describedby="decline-reason-error"' in html
    assert audit_count() == before


def test_service_refusal_is_shown_beside_the_field(world, login):
    client = english(login("unit_k1"))
    response = client.post(f"/tickets/{world.t1.id}/extension", data={
        "extension-version": world.t1.version, "extension-reason": "需要更多时间",
        "extension-deadline": (world.t1.deadline - timedelta(days=1)).isoformat()})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(r'id="extension-deadline-error">([^<]*)<', html)
    assert error is not None and "later than the current one" in error.group(1)
    assert workflow.pending_extension(world.t1.id) is None


def test_cooperating_unit_writes_progress_without_percent(world, login):
    client = login("unit_d1")
    page = client.get(f"/tickets/{world.t1.id}").get_data(as_text=True)
    assert 'name="progress-percent"' not in page
    assert 'enctype="multipart/form-data"' in page
    response = client.post(f"/tickets/{world.t1.id}/progress", data={
        "progress-version": world.t1.version, "progress-text": "已提供财政数据",
        "progress-percent": "90"})
    assert response.status_code == 302
    ticket = fresh(world.t1.id)
    assert ticket.progress_percent == 0 and ticket.status == TicketStatus.ASSIGNED


def test_lead_unit_progress_sets_percent_and_plan(world, login):
    response = login("unit_k1").post(f"/tickets/{world.t1.id}/progress", data={
        "progress-version": world.t1.version, "progress-text": "方案已印发",
        "progress-percent": "40", "progress-planned_completion_on": "2026-12-20"})
    assert response.status_code == 302
    ticket = fresh(world.t1.id)
    assert ticket.progress_percent == 40 and ticket.status == TicketStatus.IN_PROGRESS
    assert ticket.planned_completion_on.isoformat() == "2026-12-20"


def test_office_signs_off_a_submitted_ticket_through_the_form(world, login):
    ticket = submitted(world, world.t1)
    client = login("office")
    assert 'action="/tickets/%d/approve"' % ticket.id in client.get(
        f"/tickets/{ticket.id}").get_data(as_text=True)
    response = client.post(f"/tickets/{ticket.id}/approve",
                           data={"approve-version": fresh(ticket.id).version})
    assert response.status_code == 302
    assert fresh(ticket.id).status == TicketStatus.CLOSED


def test_unit_user_is_not_offered_the_decision(world, login):
    ticket = submitted(world, world.t1)
    html = login("unit_k1").get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "/approve" not in html and "/return" not in html


def test_office_decides_a_pending_extension(world, login):
    new_deadline = world.t1.deadline + timedelta(days=30)
    workflow.request_extension(world.unit_k1, world.t1.id, world.t1.version, new_deadline,
                               "资金尚未到位")
    db.session.commit()
    client = login("office")
    assert "资金尚未到位" in client.get(f"/tickets/{world.t1.id}").get_data(as_text=True)
    response = client.post(f"/tickets/{world.t1.id}/decide_extension", data={
        "decide_extension-version": fresh(world.t1.id).version,
        "decide_extension-decision": "approve"})
    assert response.status_code == 302
    assert fresh(world.t1.id).deadline == new_deadline
    request = db.session.scalar(select(ExtensionRequest))
    assert request.status == ExtensionStatus.APPROVED


def test_office_reassigns_a_declined_ticket_on_the_edit_page(world, login):
    workflow.decline(world.unit_k1, world.t1.id, world.t1.version, "应由财政局牵头")
    db.session.commit()
    client = login("office")
    assert client.get(f"/tickets/{world.t1.id}/edit").status_code == 200
    ticket = fresh(world.t1.id)
    response = client.post(f"/tickets/{ticket.id}/edit", data={
        "edit-version": ticket.version, "edit-lead_unit_id": world.d1.id,
        "edit-deadline": ticket.deadline.isoformat(), "edit-measures": ticket.measures})
    assert response.status_code == 302, response.get_data(as_text=True)
    ticket = fresh(ticket.id)
    assert ticket.lead_unit_id == world.d1.id and ticket.is_declined is False
    assert ticket.unit_ids == [world.d1.id]


def test_unit_user_may_not_open_the_edit_page(world, login):
    assert login("unit_k1").get(f"/tickets/{world.t1.id}/edit").status_code == 403


# --- the ticket list --------------------------------------------------------------------

def test_list_filters_overdue(world, login):
    late = factories.ticket(world.office, world.finding, world.k1,
                            deadline=TODAY - timedelta(days=1))
    db.session.commit()
    html = login("office").get("/tickets?overdue=1").get_data(as_text=True)
    assert ticket_links(html) == {late.id}


def test_supervisors_list_holds_only_its_scope(world, login):
    html = login("supervisor").get("/tickets").get_data(as_text=True)
    assert ticket_links(html) == {world.t1.id}


def test_list_refuses_a_unit_outside_the_scope_with_a_message(world, login):
    response = english(login("supervisor")).get(f"/tickets?unit={world.k2.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "No unit in your scope has this name or code" in html
    assert world.t2.id not in ticket_links(html)


def test_bad_list_parameters_give_a_message_not_an_error(world, login):
    response = login("office").get(
        "/tickets?page=abc&per_page=9999&unit=x&deadline_from=2026-13-01&sort=bogus"
        "&status=nonsense&overdue=maybe&q=" + "长" * 200)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert html.count("invalid-feedback") >= 6
    assert ticket_links(html) == {world.t1.id, world.t2.id}  # bad filters are left out


def test_list_status_filter_is_repeatable_and_kept_in_page_links(world, login):
    workflow.acknowledge(world.unit_k1, world.t1.id, world.t1.version)
    db.session.commit()
    client = login("office")
    html = client.get("/tickets?status=in_progress&status=submitted").get_data(as_text=True)
    assert ticket_links(html) == {world.t1.id}
    for _ in range(3):
        factories.ticket(world.office, world.finding, world.k2)
    db.session.commit()
    html = client.get("/tickets?status=assigned&per_page=2").get_data(as_text=True)
    assert "status=assigned" in html and "page=2" in html


def test_list_searches_text(world, login):
    other = factories.finding(world.inspection, number=2, title="校园安全存在隐患")
    hit = factories.ticket(world.office, other, world.k2)
    db.session.commit()
    html = login("office").get("/tickets?q=校园安全").get_data(as_text=True)
    assert ticket_links(html) == {hit.id}


@pytest.mark.parametrize("params", [
    {"lead_unit": "k1"}, {"unit": "c1"}, {"year": 2026}, {"severity": "general"},
    {"category": "none"}, {"closed_late": 1}, {"planned": "this_year"}, {"declined": 1},
    {"status": ["assigned", "in_progress"], "overdue": 0}, {"near_due": 1},
])
def test_list_honours_every_dashboard_drill_down_parameter(world, login, params):
    """The dashboard links each figure to /tickets with rollup.drill_params; the list must
    show exactly the tickets the shared filter counts."""
    uncategorised = factories.finding(world.inspection, number=2, title="校园安全存在隐患")
    factories.ticket(world.office, uncategorised, world.d1, deadline=TODAY + timedelta(days=3))
    workflow.decline(world.unit_k2, world.t2.id, world.t2.version, "不属于本单位")
    db.session.commit()
    params = {k: getattr(world, v).id if k in ("lead_unit", "unit") else v
              for k, v in params.items()}
    expected = ticket_queries.count(world.office, ticket_queries.filter_from_args(params),
                                    TODAY, 7)
    response = login("office").get("/tickets", query_string={**params, "per_page": 200})
    assert response.status_code == 200
    assert len(ticket_links(response.get_data(as_text=True))) == expected


@pytest.mark.parametrize("url, username", [("/tickets?per_page=50", "office"),
                                           ("/my", "unit_k1")])
def test_list_costs_the_same_statements_at_5_and_40_rows(world, login, url, username):
    client = login(username)

    def statements_with(total):
        while db.session.scalar(select(func.count(Ticket.id))) < total:
            factories.ticket(world.office, world.finding, world.k1, cooperating=[world.d1])
        db.session.commit()
        with count_statements() as statements:
            response = client.get(url)
        assert response.status_code == 200
        assert len(ticket_links(response.get_data(as_text=True))) >= total - 1
        return len(statements)

    assert statements_with(5) == statements_with(40)


# --- the decision queue -----------------------------------------------------------------

def test_queue_offers_the_office_submitted_tickets(world, login):
    ticket = submitted(world, world.t1)
    html = login("office").get("/queue").get_data(as_text=True)
    assert f'/tickets/{ticket.id}#decide' in html


def test_two_level_queue_goes_to_the_supervisor_first(world, login):
    world.inspection.signoff_levels = 2
    db.session.commit()
    ticket = submitted(world, world.t1)
    assert f'/tickets/{ticket.id}#decide' in login("supervisor").get("/queue").get_data(
        as_text=True)
    assert ticket.id not in ticket_links(login("city_office").get("/queue").get_data(
        as_text=True))


def test_queue_lists_declined_tickets_and_extension_requests_for_the_office(world, login):
    workflow.decline(world.unit_k1, world.t1.id, world.t1.version, "应由财政局牵头")
    workflow.request_extension(world.unit_k2, world.t2.id, world.t2.version,
                               world.t2.deadline + timedelta(days=10), "资金未到位")
    db.session.commit()
    client = login("office")
    declined = client.get("/queue?tab=declined").get_data(as_text=True)
    extensions = client.get("/queue?tab=extensions").get_data(as_text=True)
    assert f'/tickets/{world.t1.id}/edit' in declined
    assert "资金未到位" in extensions and world.t1.id not in ticket_links(extensions)


def test_queue_sends_unit_users_to_their_tickets(world, login):
    response = login("unit_k1").get("/queue")
    assert response.status_code == 302 and response.headers["Location"].endswith("/my")


@pytest.mark.parametrize("levels, supervisors_may_sign_off", [(1, False), (1, True), (2, False)])
def test_queue_sql_agrees_with_can_approve(world, levels, supervisors_may_sign_off):
    world.inspection.signoff_levels = levels
    world.inspection.supervisors_may_sign_off = supervisors_may_sign_off
    submitted(world, world.t1)
    workflow.acknowledge(world.unit_k2, world.t2.id, world.t2.version)
    workflow.add_progress(world.unit_k2, world.t2.id, world.t2.version, "已完成")
    workflow.submit(world.unit_k2, world.t2.id, world.t2.version)
    db.session.commit()
    users = [world.admin, world.office, world.city_office, world.supervisor, world.sup_c2,
             world.unit_k1]
    for _round in range(2):  # as submitted, then after each decides what it can
        for user in users:
            in_sql = set(db.session.scalars(select(Ticket.id).where(
                decisions.awaiting_approval(user))))
            in_python = {t.id for t in db.session.scalars(scoping.tickets(user))
                         if workflow.can_approve(user, t)}
            assert in_sql == in_python, user.username
        for ticket in (world.t1, world.t2):
            if ticket.status == TicketStatus.SUBMITTED and levels == 2:
                approver = world.supervisor if ticket is world.t1 else world.sup_c2
                workflow.approve(approver, ticket.id, ticket.version)
        db.session.commit()


def test_has_endpoint_knows_registered_pages_only(app):
    with app.test_request_context():
        assert has_endpoint("tickets.index") and has_endpoint("queue.index")
        assert not has_endpoint("no_such_area.index")


def test_navigation_links_by_role(world, login):
    unit_nav = login("unit_k1").get("/my").get_data(as_text=True)
    assert 'href="/my"' in unit_nav and 'href="/queue"' not in unit_nav
    office_nav = login("office").get("/tickets").get_data(as_text=True)
    assert 'href="/queue"' in office_nav and "?lang=en" in office_nav
