"""Several groupings of one scope at once (`rollup.summarize_many`, what the dashboard, its
charts' data, the ledger and the Word report use): the same numbers as one `summarize` per
grouping, for a fixed number of statements."""
from contextlib import contextmanager

import pytest
from flask import current_app
from sqlalchemy import event

from tracker.extensions import db
from tracker.models import Severity
from tracker.services import rollup
from tests.factories import TODAY
from tests.rollup.test_rollup_service import demo_like

DASHBOARD = ("region", "unit", "category", "inspection")


@contextmanager
def statements(user):
    """Statements of the block, inside one request (as the pages run it), the user loaded
    already, and the request's once-per-request lookups made."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with current_app.test_request_context():
        rollup.scoping.ticket_clause(user)  # the user, its scope unit, the roots' count
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(db.engine, "before_cursor_execute", record)


def as_numbers(summary: rollup.Summary) -> dict:
    return {
        "tickets": summary.tickets.as_dict(), "findings": summary.findings.as_dict(),
        "region_of": summary.region_of, "scope": summary.scope,
        "groups": [(g.key, g.label, g.is_own_level, g.tickets.as_dict(), g.findings.as_dict())
                   for g in summary.groups],
    }


@pytest.mark.parametrize("who", ["office", "city_office", "supervisor", "unit_k1"])
def test_every_grouping_at_once_gives_the_numbers_of_one_summary_each(world, who):
    demo_like(world)
    user = getattr(world, who)
    for scope in (rollup.Scope(), rollup.Scope(unit_id=world.c1.id),
                  rollup.Scope(severity=Severity.SERIOUS),
                  rollup.Scope(inspection_id=world.inspection.id)):
        if who == "unit_k1" and scope.unit_id is not None:
            continue  # outside a unit user's scope (404)
        groupings = (None, *rollup.GROUPINGS)
        together = rollup.summarize_many(user, scope, TODAY, groupings)
        for group_by in groupings:
            alone = rollup.summarize(user, scope, TODAY, group_by=group_by)
            assert as_numbers(together[group_by]) == as_numbers(alone), (who, scope, group_by)


def test_the_dashboards_tables_cost_one_statement_and_their_labels_one_more(world):
    demo_like(world)
    with statements(world.office) as seen:
        summaries = rollup.summarize_many(world.office, rollup.Scope(), TODAY, DASHBOARD)
    assert len(seen) == 2, seen
    assert all(summaries[g].groups for g in DASHBOARD)
    # Labels are names, not ids.
    assert {g.label for g in summaries["unit"].groups} >= {world.k1.name}


def test_without_labels_the_counts_alone_cost_one_statement(world):
    demo_like(world)
    with statements(world.office) as seen:
        summaries = rollup.summarize_many(world.office, rollup.Scope(), TODAY,
                                          ("inspection", "finding"), labels=False)
    assert len(seen) == 1, seen
    keys = [g.key for g in summaries["finding"].groups]
    assert keys == sorted(keys)
    assert [g.label for g in summaries["inspection"].groups] == [
        str(g.key) for g in summaries["inspection"].groups]


def test_totals_equal_the_sum_of_the_groups_of_a_partitioning_grouping(world):
    demo_like(world)
    summaries = rollup.summarize_many(world.office, rollup.Scope(), TODAY,
                                      ("category", "unit"))
    by_category, by_unit = summaries["category"], summaries["unit"]
    assert by_category.tickets.as_dict() == by_unit.tickets.as_dict()
    assert by_category.findings.found == sum(g.findings.found for g in by_category.groups)
    assert by_category.tickets.total == sum(g.tickets.total for g in by_unit.groups)


def test_an_unknown_grouping_among_several_is_refused(world):
    with pytest.raises(rollup.ValidationFailed):
        rollup.summarize_many(world.office, rollup.Scope(), TODAY, ("unit", "colour"))


@pytest.mark.parametrize("who", ["admin", "office", "city_office", "unit_k1"])
def test_unit_and_region_groups_read_without_the_findings_table_give_the_same_numbers(
        world, who, monkeypatch):
    """When every finding is visible, the per-unit finding counts are taken from the
    tickets alone; the numbers are those of the join with the findings table."""
    demo_like(world)
    user = getattr(world, who)
    fast = rollup.summarize_many(user, rollup.Scope(), TODAY, ("unit", "region"))

    class Never:
        pass
    monkeypatch.setattr(rollup, "True_", Never)  # the findings table always joined
    joined = rollup.summarize_many(user, rollup.Scope(), TODAY, ("unit", "region"))
    for group_by in ("unit", "region"):
        assert as_numbers(fast[group_by]) == as_numbers(joined[group_by]), (who, group_by)
