"""What the ticket page and "my tickets" read in few statements still shows the same thing:
the ticket's flags and pending extension read with the ticket, and my tickets' groups ranked
in one statement (each group its own order, its own limit and its own count)."""
import re
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.factories import TODAY
from tests.rollup.builders import Spec, make_findings, spread
from tracker.extensions import db
from tracker.models import TicketStatus
from tracker.services import ticket_queries, workflow
from tracker.views import tickets as ticket_views

S = TicketStatus


def many_for_k1(world, n: int = 24):
    """Tickets led by K1 in every state, with deadlines spread either side of today."""
    findings = make_findings(world, n)
    statuses = list(S)
    specs = [Spec(i, 0, statuses[i % len(statuses)], (i * 7) % 41 - 20, None)
             for i in range(n)]
    spread(world, findings, specs)
    db.session.commit()


def section_ids(html: str, key: str) -> list[int]:
    start = html.index(f'id="group-{key}"')
    end = html.find('<section id="group-', start + 1)
    part = html[start:end if end != -1 else len(html)]
    return list(dict.fromkeys(int(n) for n in re.findall(r'href="/tickets/(\d+)"', part)))


def expected(world, group) -> tuple[list[int], int]:
    result = ticket_queries.page(
        world.unit_k1, ticket_queries.TicketFilter(statuses=group.statuses, sort=group.sort),
        TODAY, 7, per_page=group.limit)
    return [r.ticket.id for r in result.rows], result.total


def test_my_groups_hold_the_rows_order_and_count_of_each_groups_own_list(world, login):
    many_for_k1(world)
    html = login("unit_k1").get("/my").get_data(as_text=True)
    for group in ticket_views.GROUPS:
        ids, total = expected(world, group)
        assert section_ids(html, group.key) == ids, group.key
        badge = re.search(rf'id="group-{group.key}-title">[^<]*<span class="badge[^"]*">(\d+)<',
                          html)
        assert badge and int(badge.group(1)) == total, group.key


def test_my_groups_stop_at_their_limit_and_still_count_everything(world, login, monkeypatch):
    many_for_k1(world, 40)
    small = tuple(replace(g, limit=2) for g in ticket_views.GROUPS)
    monkeypatch.setattr(ticket_views, "GROUPS", small)
    html = login("unit_k1").get("/my").get_data(as_text=True)
    for group in small:
        ids, total = expected(world, group)
        assert section_ids(html, group.key) == ids[:2], group.key
        if total > 2:
            assert "/tickets?status=" in html


def test_ticket_page_shows_the_overdue_flag_read_with_the_ticket(world, login):
    world.t1.deadline = TODAY - timedelta(days=3)
    db.session.commit()
    html = login("office").get(f"/tickets/{world.t1.id}").get_data(as_text=True)
    assert "light-red" in html or "逾期" in html


@pytest.mark.parametrize("who, sees_decision", [("office", True), ("unit_k1", False)])
def test_ticket_page_shows_a_pending_extension_read_with_the_ticket(world, login, who,
                                                                    sees_decision):
    workflow.acknowledge(world.unit_k1, world.t1.id, world.t1.version)
    db.session.commit()
    workflow.request_extension(world.unit_k1, world.t1.id, world.t1.version,
                               world.t1.deadline + timedelta(days=30), "需要更多时间")
    db.session.commit()
    html = login(who).get(f"/tickets/{world.t1.id}").get_data(as_text=True)
    assert "需要更多时间" in html
    assert ('name="decide_extension-version"' in html) == sees_decision
    # The lead unit may not ask again while one request waits.
    assert 'name="extension-version"' not in html


def test_dashboard_planned_table_names_its_first_column(world, login):
    html = login("office").get("/dashboard").get_data(as_text=True)
    assert re.search(r"<th[^>]*>\s*</th>", html) is None
    assert "统计对象" in html
