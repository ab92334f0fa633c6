"""The dashboard: every figure links to exactly its tickets; its cost does not grow with
the number of tickets; a unit sees its own figures."""
import re
from html import unescape

from markupsafe import escape
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import event

from tracker.extensions import db
from tracker.models import Severity
from tracker.services import rollup, ticket_queries as tq
from tracker.views.dashboard import Drill
from tests.factories import TODAY
from tests.rollup.builders import Spec, make_findings, spread
from tests.rollup.test_rollup_service import demo_like


@pytest.fixture
def count_queries(app):
    counter = {"n": 0}

    def before(*args, **kwargs):
        counter["n"] += 1
    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    yield counter
    event.remove(engine, "before_cursor_execute", before)


def links_with_counts(html: str):
    for href, text in re.findall(r'<a href="([^"]+)" class="count-link"[^>]*>(\d+)</a>', html):
        yield unescape(href), int(text)


def test_every_dashboard_number_lists_exactly_that_many_tickets(world, login):
    demo_like(world)
    client = login("office")
    html = client.get("/dashboard").get_data(as_text=True)
    found = list(links_with_counts(html))
    assert len(found) > 50
    for href, value in found:
        parts = urlsplit(href)
        assert parts.path == "/tickets"
        flt = tq.filter_from_args(parse_qs(parts.query))
        assert tq.count(world.office, flt, TODAY, 7) == value, href


def sentence(app, user):
    with app.test_request_context():
        summary = rollup.summarize(user, rollup.Scope(), TODAY)
        return escape(rollup.findings_sentence(summary.findings, summary.cut))


def test_dashboard_shows_the_seed_sentence_from_the_rollup(world, login, app):
    demo_like(world)
    html = login("office").get("/dashboard").get_data(as_text=True)
    assert sentence(app, world.office) in html


def test_dashboard_query_count_does_not_grow_with_tickets(world, login, count_queries):
    client = login("office")
    findings = make_findings(world, 4)
    spread(world, findings, [Spec(1, 0, "in_progress", 3, None)])
    db.session.commit()
    client.get("/dashboard")
    db.session.commit()  # both measured requests start with nothing loaded
    count_queries["n"] = 0
    assert client.get("/dashboard").status_code == 200
    few = count_queries["n"]
    spread(world, findings, [Spec(f, lead, s, 10 * f - 20, None)
                             for f in range(4) for lead in range(6)
                             for s in ("assigned", "closed", "long_term")])
    db.session.commit()
    count_queries["n"] = 0
    assert client.get("/dashboard").status_code == 200
    assert count_queries["n"] == few


def test_dashboard_data_feeds_charts_with_links(world, login):
    body = login("office").get("/dashboard/data.json").get_json()
    assert sum(r["total"] for r in body["regions"]) == 2
    assert all(r["urls"]["overdue"].startswith("/tickets") for r in body["regions"])
    assert set(body["trend"]) == {"dates", "open", "closed", "overdue"}


def test_unit_user_dashboard_shows_own_figures_and_what_falls_due(world, login):
    html = login("unit_k1").get("/dashboard").get_data(as_text=True)
    assert world.finding.title in html
    for href, value in links_with_counts(html):
        flt = tq.filter_from_args(parse_qs(urlsplit(href).query))
        assert tq.count(world.unit_k1, flt, TODAY, 7) == value


def test_printable_summary_carries_the_same_numbers(world, login, app):
    demo_like(world)
    html = login("office").get("/dashboard/print").get_data(as_text=True)
    assert sentence(app, world.office) in html
    assert "data-print" in html


def test_dashboard_filter_outside_scope_is_flagged_not_a_fault(world, login):
    response = login("city_office").get(f"/dashboard?unit={world.k2.id}&year=abc")
    assert response.status_code == 200
    assert "is-invalid" in response.get_data(as_text=True) or "invalid-feedback" in \
        response.get_data(as_text=True)


def test_every_dashboard_link_opens_the_ticket_list_with_that_many_tickets(world, login, app):
    """End to end: the ticket list page itself shows the count the dashboard showed."""
    from flask_babel import gettext
    demo_like(world)
    client = login("office")
    html = client.get("/dashboard").get_data(as_text=True)
    seen = set()
    for href, value in links_with_counts(html):
        if href in seen or len(seen) >= 30:  # the headline and the region table suffice
            continue
        seen.add(href)
        page = client.get(href)
        assert page.status_code == 200, href
        with app.test_request_context():
            expected = str(escape(gettext("%(n)s tickets match", n=value)))
        assert expected in page.get_data(as_text=True), (href, value)


def test_row_links_encode_exactly_the_drill_down_parameters(world, app):
    """A row's links encode its group once and each measure apart (views/dashboard.py);
    together they must be `drill_params`, in its order."""
    scope = rollup.Scope(unit_id=world.c1.id, year=TODAY.year, severity=Severity.GENERAL)
    with app.test_request_context("/dashboard"):
        for group_by in rollup.GROUPINGS:
            s = rollup.summarize(world.office, scope, TODAY, group_by=group_by)
            drill = Drill(s)
            for group in [None, *s.groups]:
                for measure in rollup.TICKET_MEASURES:
                    params = rollup.drill_params(
                        scope, measure, **({} if group is None else dict(
                            group_by=group_by, key=group.key, region_of=s.region_of)))
                    pairs = [(k, item) for k, v in params.items()
                             for item in (v if isinstance(v, list) else [v]) if item is not None]
                    expected = "/tickets?" + urlencode(pairs, safe="!$'()*,/:;?@")
                    assert drill.links(group).url(measure) == expected
                    assert drill(measure, group) == expected


def test_a_rows_count_link_is_the_count_link_of_its_url(world, app):
    """A row's links are composed from pieces escaped once (CountLinks): each must be the
    HTML `count_link` makes of the same value, URL and label, whatever the query holds."""
    from tracker.views.dashboard import CountLinks, count_link

    rows = [CountLinks("/tickets", "unit=1&year=2026"), CountLinks("/tickets", ""),
            CountLinks("/t<&>", 'q=a"b&c=<x>'), CountLinks("/tickets", "category=none")]
    with app.test_request_context("/dashboard"):
        for links in rows:
            for measure in rollup.TICKET_MEASURES:
                for value, label in [(0, None), (1234, "待审核"), ('<b>"7"</b>', 'a"&<b>')]:
                    assert links(value, measure, label) == count_link(
                        value, links.url(measure), label), (links.path, measure, value)


@pytest.mark.parametrize("value, html", [
    (None, '<span class="text-body-secondary">—</span>'), (0.0, "0.0%"), (66.666, "66.7%"),
    (100.0, "100.0%"),
])
def test_a_completion_rate_reads_with_one_decimal_or_a_dash_when_nothing_counts(value, html):
    from tracker.views.dashboard import rate

    assert str(rate(value)) == html
