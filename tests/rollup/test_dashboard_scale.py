"""The dashboard at a province's size: the unit ranking and the inspection table show their
first rows and say how many there are; the filter offers the upper levels of the tree (and
a deeper unit named in a shared link); labels of thousands of groups are still found."""
import re

from tracker.models import Unit
from tracker.services import rollup
from tracker.services import dashboard_figures
from tracker.views import dashboard
from tests.factories import TODAY
from tests.rollup.test_rollup_service import demo_like


def rows_of(html: str, caption_start: str) -> int:
    start = html.index("<tbody>", html.index(caption_start))
    body = html[start:html.index("</tbody>", start)]
    return len(re.findall(r"<tr>", body))


def test_ranking_and_inspection_table_show_their_first_rows_and_say_how_many(
        world, login, monkeypatch):
    demo_like(world)
    monkeypatch.setattr(dashboard_figures, "TABLE_ROWS", 1)
    for url in ("/dashboard", "/dashboard/print"):
        html = login("office").get(url).get_data(as_text=True)
        assert html.count("仅列出") == 2, url  # under the ranking and the inspections
        assert rows_of(html, "牵头单位，逾期最多者在前") == 1, url


def test_small_tables_are_shown_whole_without_a_note(world, login):
    demo_like(world)
    html = login("office").get("/dashboard").get_data(as_text=True)
    assert "仅列出" not in html


def test_filter_offers_upper_levels_and_a_deeper_unit_named_in_the_link(
        world, login, monkeypatch):
    monkeypatch.setattr(dashboard, "UNIT_LEVELS", 0)
    client = login("office")
    html = client.get("/dashboard").get_data(as_text=True)
    start = html.index('name="unit"')
    offered = set(re.findall(r'<option value="(\d+)"', html[start:html.index("</select>",
                                                                              start)]))
    assert str(world.p.id) in offered and str(world.k1.id) not in offered
    html = client.get(f"/dashboard?unit={world.k1.id}").get_data(as_text=True)
    assert f'<option selected value="{world.k1.id}"' in html or \
        f'<option value="{world.k1.id}" selected' in html


def test_labels_of_many_groups_are_found_without_listing_every_key(world, monkeypatch):
    demo_like(world)
    listed = rollup.summarize(world.office, rollup.Scope(), TODAY, group_by="unit")
    monkeypatch.setattr(rollup, "_MAX_LISTED", 1)
    unlisted = rollup.summarize(world.office, rollup.Scope(), TODAY, group_by="unit")
    assert [(g.key, g.label) for g in unlisted.groups] == [
        (g.key, g.label) for g in listed.groups]
    names = {u.id: u.name for u in (world.k1, world.d1, world.k2, world.c1, world.c2)}
    assert any(g.label == names.get(g.key) for g in unlisted.groups)
    assert all(not isinstance(g.label, Unit) for g in unlisted.groups)


def test_the_inspection_filter_is_a_picker_not_a_list_of_every_inspection(world, login):
    demo_like(world)
    client = login("office")
    html = client.get("/dashboard").get_data(as_text=True)
    start = html.index('<form method="get"')
    form = html[start:html.index("</form>", start)]
    assert 'list="inspection-options"' in form
    assert world.inspection.title not in form  # no <option> per inspection


def test_the_inspection_filter_takes_a_typed_title_or_an_id(world, login):
    demo_like(world)
    client = login("office")
    by_id = client.get(f"/dashboard?inspection={world.inspection.id}").get_data(as_text=True)
    by_title = client.get("/dashboard", query_string={"inspection": world.inspection.title}
                          ).get_data(as_text=True)
    sentence = re.compile(r'<p class="lead rollup-sentence">(.*?)</p>', re.S)
    assert sentence.search(by_id).group(1) == sentence.search(by_title).group(1)
    assert f"inspection={world.inspection.id}" in by_title  # the drill-down links narrow too
    unknown = client.get("/dashboard?inspection=999999").get_data(as_text=True)
    assert "没有您可查看的此标题的检查" in unknown and 'aria-invalid="true"' in unknown


def test_a_long_region_table_shows_the_most_overdue_regions_and_says_how_many(
        world, login, monkeypatch):
    demo_like(world)
    monkeypatch.setattr(dashboard_figures, "REGION_ROWS", 1)
    html = login("office").get("/dashboard").get_data(as_text=True)
    assert rows_of(html, "各地区整改任务") == 1
    everything = rollup.summarize(world.office, rollup.Scope(), TODAY, group_by="region")
    assert len(everything.groups) == 3  # the province's own level and two cities
    assert "仅列出3项中逾期任务最多的1项" in html
    shown = dashboard_figures.count(world.office, rollup.Scope(), TODAY, 7)
    worst = max(everything.groups, key=lambda g: g.tickets.overdue)
    assert worst.tickets.overdue > min(g.tickets.overdue for g in everything.groups)
    assert [g.key for g in shown.summaries["region"].groups] == [worst.key]
    assert shown.region_total == 3
