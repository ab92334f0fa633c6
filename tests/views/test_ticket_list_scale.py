"""The ticket list at scale (issue 6): the unit picker that replaced the whole-scope unit
selects, keyset links for deep pages, the capped total, and the edit form's unit pickers."""
import re

import flask_babel
import pytest

from tests import factories
from tests.factories import TODAY
from tracker.extensions import db
from tracker.models import Ticket, UnitKind
from tracker.services import ticket_queries


def english(client):
    client.get("/?lang=en")
    flask_babel.refresh()
    return client


def ticket_links(html: str) -> list[int]:
    return list(dict.fromkeys(int(n) for n in re.findall(r'href="/tickets/(\d+)"', html)))


def option_values(html: str) -> list[str]:
    return re.findall(r'<option value="([^"]*)"', html)


def fresh(ticket_id: int) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, ticket_id)


# --- the unit picker --------------------------------------------------------------------

def test_list_page_holds_no_select_of_the_whole_scope(world, login):
    html = login("office").get("/tickets").get_data(as_text=True)
    assert 'name="unit"' in html and 'list="unit-options"' in html
    assert world.c2.name not in html  # no option per unit in scope (C2 leads no ticket)
    assert re.search(r'<label[^>]*for="unit"', html)  # labelled, keyboard reachable


def test_unit_suggestions_come_from_the_users_scope_only(world, login):
    html = login("supervisor").get("/tickets/unit-options?unit=62").get_data(as_text=True)
    values = option_values(html)
    assert "城关区 (620102)" in values and "兰州市 (6201)" in values
    assert not any("临夏" in v for v in values)  # city C2 lies outside C1's scope
    html = login("unit_k1").get("/tickets/unit-options?unit=").get_data(as_text=True)
    assert option_values(html) == ["城关区 (620102)"]


def test_unit_suggestions_are_limited(world, login):
    for n in range(25):
        factories.unit(f"620102-{n:02d}", f"城关区第{n}学校", UnitKind.SCHOOL, world.k1)
    db.session.commit()
    html = login("office").get("/tickets/unit-options?unit=城关区").get_data(as_text=True)
    assert len(option_values(html)) == 20


def test_unit_suggestions_treat_like_wildcards_as_text(world, login):
    html = login("office").get("/tickets/unit-options?unit=%25").get_data(as_text=True)
    assert option_values(html) == []


@pytest.mark.parametrize("typed", ["城关区", "620102", "城关区 (620102)", "城关区（620102）"])
def test_a_unit_typed_by_name_or_code_filters_without_javascript(world, login, typed):
    response = login("office").get("/tickets", query_string={"unit": typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert set(ticket_links(html)) == {world.t1.id}
    assert 'value="城关区 (620102)"' in html  # shown back as the picker shows it


def test_a_shared_link_with_a_unit_id_still_filters(world, login):
    response = login("office").get(f"/tickets?unit={world.k2.id}")
    assert response.status_code == 200
    assert set(ticket_links(response.get_data(as_text=True))) == {world.t2.id}


def test_a_unit_outside_the_scope_is_refused_at_the_field_by_name_too(world, login):
    client = english(login("supervisor"))
    response = client.get("/tickets", query_string={"unit": "临夏市"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="unit-error"[^>]*>No unit in your scope has this name or code', html)
    assert world.t2.id not in ticket_links(html)


def test_a_name_shared_by_two_units_asks_for_the_code(world, login):
    factories.unit("622901-X", "城关区", UnitKind.COUNTY, world.c2)
    db.session.commit()
    response = english(login("office")).get("/tickets", query_string={"unit": "城关区"})
    assert response.status_code == 400
    assert "Several units in your scope have this name" in response.get_data(as_text=True)
    response = login("office").get("/tickets", query_string={"unit": "620102"})
    assert response.status_code == 200


def test_the_refusal_is_chinese_by_default(world, login):
    html = login("supervisor").get("/tickets?unit=临夏市").get_data(as_text=True)
    assert "您的范围内没有这个名称或代码的单位" in html


# --- totals and deep pages ------------------------------------------------------------------

def test_the_total_is_shown_as_more_than_the_cap(world, login, monkeypatch):
    factories.more_tickets(world, 3, deadlines=3)
    monkeypatch.setattr(ticket_queries, "COUNT_CAP", 3)
    html = english(login("office")).get("/tickets?per_page=2").get_data(as_text=True)
    assert "More than 3 tickets match" in html


def test_past_the_counted_pages_next_follows_the_cursor(world, login, monkeypatch):
    ids = factories.more_tickets(world, 7, deadlines=3)  # 9 tickets
    monkeypatch.setattr(ticket_queries, "COUNT_CAP", 4)
    client = login("office")
    expected = [r.ticket.id for r in ticket_queries.page(
        world.office, ticket_queries.TicketFilter(), TODAY, 7, per_page=200).rows]
    assert set(expected) == {world.t1.id, world.t2.id, *ids}
    html = client.get("/tickets?per_page=2&page=2").get_data(as_text=True)
    seen = ticket_links(html)
    assert seen == expected[2:4]
    pages = 2
    while True:
        found = re.search(r'href="([^"]*cursor=[^"]*)" rel="next"', html)
        if not found:
            break
        html = client.get(found.group(1).replace("&amp;", "&")).get_data(as_text=True)
        seen += ticket_links(html)
        pages += 1
        assert pages < 10
    assert seen == expected[2:] and pages == 5
    # ... and back.
    back = re.search(r'href="([^"]*cursor=[^"]*)" rel="prev"', html).group(1)
    html = client.get(back.replace("&amp;", "&")).get_data(as_text=True)
    assert ticket_links(html) == expected[6:8]


def shown(row: ticket_queries.TicketRow) -> tuple:
    """What a ticket table shows of a row, from an ORM ticket or a TableTicket."""
    t = row.ticket
    names = ((t.title, t.inspection_title, t.document_number, t.lead_unit_name)
             if isinstance(t, ticket_queries.TableTicket) else
             (t.finding.title, t.finding.inspection.title,
              t.finding.inspection.document_number, t.lead_unit.name))
    return (t.id, t.status, t.is_declined, t.deadline, t.next_review_on, t.progress_percent,
            t.submitted_on, t.updated_at, t.lead_unit_id, *names, row.is_overdue,
            row.is_near_due, row.light)


@pytest.mark.parametrize("sort", sorted(ticket_queries.SORTS))
def test_a_table_page_reads_the_rows_the_full_page_reads(world, sort):
    """`page(table=True)` (the list page's plain columns) gives the same tickets, in the
    same order, with the same flags and cursors as the ORM rows, page after page."""
    factories.more_tickets(world, 7, deadlines=3)
    flt = ticket_queries.TicketFilter(sort=sort)
    full = ticket_queries.page(world.office, flt, TODAY, 7, per_page=3)
    table = ticket_queries.page(world.office, flt, TODAY, 7, per_page=3, table=True)
    pages = 0
    while True:
        assert [shown(r) for r in table.rows] == [shown(r) for r in full.rows]
        assert (table.total, table.next_cursor, table.prev_cursor) == (
            full.total, full.next_cursor, full.prev_cursor)
        pages += 1
        if full.next_cursor is None:
            break
        full = ticket_queries.page(world.office, flt, TODAY, 7, per_page=3,
                                   cursor=full.next_cursor)
        table = ticket_queries.page(world.office, flt, TODAY, 7, per_page=3, table=True,
                                    cursor=table.next_cursor)
    assert pages == 3
    back = ticket_queries.page(world.office, flt, TODAY, 7, per_page=3, table=True,
                               cursor=table.prev_cursor)
    assert [shown(r) for r in back.rows] == [shown(r) for r in ticket_queries.page(
        world.office, flt, TODAY, 7, per_page=3, cursor=full.prev_cursor).rows]


def test_a_cursor_of_another_sort_order_shows_the_first_page(world, login):
    factories.more_tickets(world, 3, deadlines=3)
    client = english(login("office"))
    html = client.get("/tickets?per_page=2&sort=-deadline").get_data(as_text=True)
    cursor = re.search(r'cursor=([^"&]+)', html)
    assert cursor is None  # shallow pages are numbered
    page = ticket_queries.page(world.office, ticket_queries.TicketFilter(sort="-deadline"),
                               TODAY, 7, per_page=2)
    response = client.get(f"/tickets?per_page=2&cursor={page.next_cursor}")
    assert response.status_code == 400
    assert "showing the first page" in response.get_data(as_text=True)
    assert client.get("/tickets?cursor=%%%").status_code == 400


# --- the edit form ----------------------------------------------------------------------

def edit_data(ticket, **fields):
    return {"edit-version": ticket.version, "edit-deadline": ticket.deadline.isoformat(),
            "edit-measures": ticket.measures, **fields}


def test_edit_page_shows_the_lead_unit_in_a_picker_and_no_select_of_the_scope(world, login):
    html = login("office").get(f"/tickets/{world.t1.id}/edit").get_data(as_text=True)
    assert 'value="城关区 (620102)"' in html and 'list="edit-lead_unit_id-options"' in html
    assert "临夏市" not in html
    assert re.search(r'<input[^>]*name="edit-cooperating_unit_ids"[^>]*checked', html)


def test_edit_reassigns_the_lead_unit_typed_by_name(world, login):
    ticket = fresh(world.t1.id)
    response = login("office").post(f"/tickets/{ticket.id}/edit", data=edit_data(
        ticket, **{"edit-lead_unit_id": "临夏市", "edit-cooperating_unit_ids": world.d1.id}))
    assert response.status_code == 302, response.get_data(as_text=True)
    ticket = fresh(ticket.id)
    assert ticket.lead_unit_id == world.k2.id and ticket.unit_ids[1:] == [world.d1.id]


def test_edit_adds_and_removes_cooperating_units(world, login):
    ticket = fresh(world.t1.id)
    response = login("office").post(f"/tickets/{ticket.id}/edit", data=edit_data(
        ticket, **{"edit-lead_unit_id": "城关区 (620102)",
                   "edit-add_cooperating": ["622901", "", "兰州市"]}))
    assert response.status_code == 302, response.get_data(as_text=True)
    # D1 was unchecked (not sent): it is removed; K2 and C1 are added in order.
    ticket = fresh(ticket.id)
    assert ticket.lead_unit_id == world.k1.id
    assert set(ticket.unit_ids[1:]) == {world.k2.id, world.c1.id}


def test_edit_refuses_an_unknown_unit_at_its_field_and_keeps_the_text(world, login):
    ticket = fresh(world.t1.id)
    client = english(login("city_office"))
    response = client.post(f"/tickets/{ticket.id}/edit", data=edit_data(
        ticket, **{"edit-lead_unit_id": "城关区", "edit-add_cooperating": ["临夏市"]}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="cooperating-error"[^>]*>临夏市: No unit in your scope', html)
    assert 'value="临夏市"' in html
    assert fresh(ticket.id).unit_ids == [world.k1.id, world.d1.id]


def test_edit_keeps_a_cooperating_unit_outside_the_scope_when_left_checked(world, login):
    t3 = factories.ticket(world.office, world.finding, world.k1, cooperating=[world.k2])
    db.session.commit()
    client = login("city_office")  # C1's office: K2 lies outside its scope
    html = client.get(f"/tickets/{t3.id}/edit").get_data(as_text=True)
    assert "临夏市 (622901)" in html
    ticket = fresh(t3.id)
    response = client.post(f"/tickets/{t3.id}/edit", data=edit_data(
        ticket, **{"edit-lead_unit_id": "城关区 (620102)",
                   "edit-cooperating_unit_ids": world.k2.id, "edit-measures": "改"}))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert fresh(t3.id).unit_ids == [world.k1.id, world.k2.id]


# --- the inspection picker --------------------------------------------------------------

def test_inspection_filter_is_a_picker_not_a_select_of_every_inspection(world, login):
    html = login("office").get("/tickets").get_data(as_text=True)
    assert 'list="inspection-options"' in html and "<option" not in html.split(
        'id="inspection"')[1].split("</div>")[0]


def test_inspection_suggestions_and_resolution_are_scoped(world, login):
    other = factories.inspection(world.p_office, title="2026年临夏州专项督导")
    finding = factories.finding(other, title="学生餐饮管理不规范")
    factories.ticket(world.office, finding, world.k2)
    db.session.commit()
    html = login("unit_k1").get("/tickets/inspection-options?inspection=督导").get_data(
        as_text=True)
    assert not any("临夏州" in v for v in option_values(html))
    values = option_values(login("office").get(
        "/tickets/inspection-options?inspection=临夏").get_data(as_text=True))
    assert values == [f"{other.year} {other.title} (#{other.id})"]
    response = login("office").get("/tickets", query_string={"inspection": values[0]})
    assert response.status_code == 200
    assert len(ticket_links(response.get_data(as_text=True))) == 1
    response = login("office").get("/tickets", query_string={"inspection": other.title})
    assert response.status_code == 200
    response = english(login("unit_k1")).get("/tickets", query_string={"inspection": other.id})
    assert response.status_code == 400
    assert "No inspection you may see has this title" in response.get_data(as_text=True)
