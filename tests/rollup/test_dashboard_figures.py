"""Kept dashboard figures (tracker/services/dashboard_figures): a province-sized scope's
dashboard shows the figures counted last, says when they were counted and whether anything
has moved since, and the scheduler counts them again; small scopes are always live."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import DashboardFigures
from tracker.services import dashboard_figures, rollup, workflow
from tests.factories import TODAY
from tests.test_query_counts import count_statements
from tests.rollup.test_rollup_service import demo_like

UNCHANGED = "此后数据没有变动"
CHANGED = "此后数据有变动"


@pytest.fixture
def keep_all(app, monkeypatch):
    """Every scope counts as province-sized: its figures are kept however quickly counted,
    and moved ones are left to the scheduler."""
    monkeypatch.setitem(app.config, "DASHBOARD_KEEP_SECONDS", 0)
    monkeypatch.setitem(app.config, "DASHBOARD_WAIT_SECONDS", 0)


def kept_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(DashboardFigures))


def live(user):
    return dashboard_figures.count(user, rollup.Scope(), TODAY, 7)


def shown(user, **kwargs):
    return dashboard_figures.figures(user, rollup.Scope(), TODAY, 7, **kwargs)


def numbers(figures: dashboard_figures.Figures) -> dict:
    """Every count of every table, labels and order included."""
    return {name: (s.tickets, s.findings, [(g.key, g.label, g.tickets, g.findings)
                                           for g in s.groups])
            for name, s in figures.summaries.items()} | {
        "totals": (figures.ranking_total, figures.inspection_total)}


def acknowledge_t1(world):
    ticket = db.session.get(type(world.t1), world.t1.id)
    workflow.acknowledge(world.unit_k1, ticket.id, ticket.version)
    db.session.commit()


def test_a_scope_counted_quickly_is_counted_on_every_view_and_nothing_is_kept(world, login):
    demo_like(world)
    html = login("office").get("/dashboard").get_data(as_text=True)
    assert kept_rows() == 0
    assert 'id="counted-at"' not in html


def test_kept_figures_are_the_live_numbers_and_say_when_they_were_counted(
        world, login, keep_all, monkeypatch):
    demo_like(world)
    client = login("office")
    client.get("/dashboard")
    assert kept_rows() == 1
    expected = numbers(live(world.office))

    def no_counting(*args, **kwargs):
        raise AssertionError("kept figures must not be counted again")
    monkeypatch.setattr(rollup, "summarize_many", no_counting)
    kept = shown(world.office)
    assert kept.counted_at is not None and kept.current
    assert numbers(kept) == expected
    html = client.get("/dashboard").get_data(as_text=True)
    assert UNCHANGED in html and "立即重新统计" in html


def test_after_a_change_the_kept_figures_are_marked_and_count_now_gives_the_new_ones(
        world, login, keep_all):
    demo_like(world)
    client = login("office")
    client.get("/dashboard")
    before = numbers(live(world.office))
    acknowledge_t1(world)
    after = numbers(live(world.office))
    assert after != before
    kept = shown(world.office)
    assert not kept.current and numbers(kept) == before
    assert CHANGED in client.get("/dashboard").get_data(as_text=True)
    html = client.get("/dashboard?fresh=1").get_data(as_text=True)
    assert 'id="counted-at"' not in html
    kept = shown(world.office)
    assert kept.current and numbers(kept) == after


def test_the_scheduler_counts_moved_figures_again_and_leaves_current_ones(
        world, login, keep_all):
    demo_like(world)
    login("office").get("/dashboard")
    assert dashboard_figures.refresh() == 0
    acknowledge_t1(world)
    assert dashboard_figures.refresh() == 1
    kept = shown(world.office)
    assert kept.current and numbers(kept) == numbers(live(world.office))
    assert dashboard_figures.refresh() == 0


def test_the_scheduler_counts_again_figures_kept_too_long(world, login, keep_all,
                                                          frozen_today):
    login("office").get("/dashboard")
    frozen_today.shift(timedelta(minutes=16))
    assert dashboard_figures.refresh() == 1


def test_each_scope_has_its_own_figures(world, login, keep_all):
    demo_like(world)
    client = login("office")
    client.get("/dashboard")
    login("sup_c2").get("/dashboard")
    assert kept_rows() == 2
    for user in (world.office, world.sup_c2, world.supervisor):
        assert numbers(shown(user)) == numbers(live(user)), user.username
    assert numbers(shown(world.sup_c2)) != numbers(shown(world.office))


def test_a_city_office_and_the_city_supervisor_share_one_scope(world, keep_all):
    demo_like(world)
    shown(world.city_office)
    shown(world.supervisor)
    assert kept_rows() == 1


def test_unit_users_are_always_counted_live(world, login, keep_all):
    demo_like(world)
    login("unit_k1").get("/dashboard")
    login("unit_k1").get("/dashboard/data.json")
    shown(world.unit_k1)
    assert kept_rows() == 0


def test_filters_are_part_of_what_is_kept(world, login, keep_all):
    demo_like(world)
    client = login("office")
    client.get("/dashboard")
    client.get(f"/dashboard?unit={world.c1.id}")
    assert kept_rows() == 2
    narrowed = dashboard_figures.figures(world.office, rollup.Scope(unit_id=world.c1.id),
                                         TODAY, 7)
    assert narrowed.counted_at is not None
    assert numbers(narrowed) == numbers(dashboard_figures.count(
        world.office, rollup.Scope(unit_id=world.c1.id), TODAY, 7))


def test_kept_figures_of_another_scope_are_not_reachable_by_filter(world, login, keep_all):
    demo_like(world)
    office_c2 = sentence(login("office").get(f"/dashboard?unit={world.c2.id}"))
    client = login("supervisor")
    response = client.get(f"/dashboard?unit={world.c2.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "部分筛选条件无法识别" in html  # C2 is outside C1: the filter is left out
    assert "临夏州" not in html.split("<h2", 1)[-1]
    own = sentence(client.get("/dashboard"))
    assert sentence(response) == own != office_c2  # the supervisor's own figures


def sentence(response) -> str:
    """The report sentence of a dashboard page: every count of its findings in one line."""
    html = response.get_data(as_text=True)
    return re.search(r'<p class="lead rollup-sentence">(.*?)</p>', html, re.S).group(1)


def test_the_charts_read_the_same_kept_figures(world, login, keep_all):
    demo_like(world)
    client = login("office")
    client.get("/dashboard")
    acknowledge_t1(world)
    data = client.get("/dashboard/data.json").get_json()
    kept = shown(world.office)
    assert [r["total"] for r in data["regions"]] == [
        g.tickets.total for g in kept.summaries["region"].groups]
    assert sum(s["value"] for s in data["status"]) == kept.overall.tickets.total


def test_figures_of_a_user_who_lost_the_scope_are_dropped_by_the_scheduler(
        world, keep_all, frozen_today):
    shown(world.office)
    world.office.is_active_user = False
    db.session.commit()
    frozen_today.shift(timedelta(minutes=16))
    assert dashboard_figures.refresh() == 0
    assert kept_rows() == 0


def test_figures_read_yesterday_are_counted_for_today_and_old_days_dropped(
        world, keep_all, frozen_today):
    shown(world.office)
    frozen_today.shift(timedelta(days=1))
    assert dashboard_figures.refresh() == 1
    rows = db.session.scalars(select(DashboardFigures)).all()
    assert [row.counted_on for row in rows] == [TODAY + timedelta(days=1)]


def test_reading_kept_figures_is_one_statement(world, keep_all):
    demo_like(world)
    shown(world.office)
    assert world.office.scope_unit_id  # the user as a request has it, loaded
    with count_statements() as statements:
        shown(world.office)
    assert len(statements) == 1, statements


def test_the_uncategorised_group_is_named_in_the_readers_language(world, login, keep_all):
    demo_like(world)
    login("office").get("/dashboard")
    html = login("office").get("/dashboard?lang=en").get_data(as_text=True)
    assert "未分类" not in html


@pytest.mark.parametrize("url", ["/dashboard", "/dashboard/print", "/dashboard/data.json"])
def test_counting_and_keeping_stays_within_eight_statements(world, login, keep_all, url):
    demo_like(world)
    client = login("office")
    for query in ("", "?fresh=1", ""):  # counted and kept; counted again; read
        with count_statements() as statements:
            assert client.get(url + query).status_code == 200
        assert len(statements) <= 8, (query, statements)


def test_only_the_lease_holder_counts_kept_figures_again(app, world, keep_all, frozen_today):
    from tracker import scheduler

    demo_like(world)
    shown(world.office)
    acknowledge_t1(world)
    first, second = scheduler.ReminderScheduler(app), scheduler.ReminderScheduler(app)
    assert first.heartbeat() and not second.heartbeat()
    assert second.dashboards() == 0
    assert not shown(world.office).current
    assert first.dashboards() == 1
    db.session.rollback()  # the job committed in its own session: read after it
    assert shown(world.office).current
    first.shutdown()
    second.shutdown()


def test_moved_figures_quick_to_count_are_counted_again_during_the_view(
        app, world, login, keep_all, monkeypatch):
    monkeypatch.setitem(app.config, "DASHBOARD_WAIT_SECONDS", 60)
    demo_like(world)
    client = login("office")
    client.get("/dashboard")
    acknowledge_t1(world)
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'id="counted-at"' not in html  # counted for this view
    kept = shown(world.office)
    assert kept.current and numbers(kept) == numbers(live(world.office))


def test_kept_figures_quick_to_count_need_no_note(app, world, login, keep_all, monkeypatch):
    monkeypatch.setitem(app.config, "DASHBOARD_WAIT_SECONDS", 60)
    demo_like(world)
    client = login("office")
    client.get("/dashboard")
    html = client.get("/dashboard").get_data(as_text=True)
    assert shown(world.office).counted_at is not None  # kept, and current
    assert 'id="counted-at"' not in html


# --- the rendered tables of kept figures --------------------------------------------------

def tables(html: str) -> list[str]:
    return re.findall(r"<table.*?</table>", html, re.S)


@pytest.fixture
def renders(monkeypatch):
    """The group table rows rendered from now on (an empty cache of kept tables first: an
    earlier test's figures, equal to these, would otherwise be found there)."""
    from tracker.lru import LruCache
    from tracker.views import dashboard as views

    monkeypatch.setattr(views, "KEPT_TABLES", LruCache(32))
    rows = []
    cells = views.CountLinks.cells
    monkeypatch.setattr(views.CountLinks, "cells",
                        lambda self, *args: rows.append(1) or cells(self, *args))
    return rows


def test_the_tables_of_kept_figures_are_rendered_once_per_language(
        world, login, keep_all, renders):
    demo_like(world)
    client = login("office")
    client.get("/dashboard")  # counted for this view, and kept
    rows = len(renders)  # the rows of one rendering of the tables
    first = client.get("/dashboard").get_data(as_text=True)  # kept: rendered once more
    assert rows and len(renders) == 2 * rows and tables(first)
    again = client.get("/dashboard").get_data(as_text=True)
    assert len(renders) == 2 * rows and tables(again) == tables(first)
    english = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert len(renders) == 3 * rows
    assert "Tickets by region" in english and "Tickets by region" not in first
    client.get("/dashboard?lang=en")
    assert len(renders) == 3 * rows


def test_figures_counted_again_show_their_own_tables(world, login, keep_all, renders):
    demo_like(world)
    client = login("office")
    client.get("/dashboard")
    before = tables(client.get("/dashboard").get_data(as_text=True))
    world.t1.status = "cancelled"  # moves the counts every table shows
    db.session.commit()
    counted_now = tables(client.get("/dashboard?fresh=1").get_data(as_text=True))
    assert counted_now != before
    rendered = len(renders)
    kept = tables(client.get("/dashboard").get_data(as_text=True))
    assert kept == counted_now and len(renders) > rendered


def test_figures_counted_for_the_view_are_rendered_every_time(world, login, renders):
    demo_like(world)
    client = login("office")
    client.get("/dashboard")
    rendered = len(renders)
    client.get("/dashboard")
    assert kept_rows() == 0 and len(renders) == 2 * rendered > 0
