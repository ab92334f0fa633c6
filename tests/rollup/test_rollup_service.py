"""The roll-up service: a total equals the sum of its groups equals the length of the
ticket list its link drills down to, for every grouping, measure and scope."""
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tracker.extensions import db
from tracker.models import Severity, TicketStatus
from tracker.services import deadlines, rollup, ticket_queries as tq
from tests.factories import TODAY
from tests.rollup.builders import Spec, make_findings, spread

MEASURES = rollup.TICKET_MEASURES


def measure_value(counts: rollup.TicketCounts, measure: str) -> int:
    if measure == "total":
        return counts.total
    if measure == "open":
        return counts.open
    if measure == "waiting":
        return counts.waiting
    if measure.startswith("status:"):
        return counts.by_status[measure.split(":")[1]]
    if measure.startswith("planned:"):
        return counts.planned[measure.split(":")[1]]
    return getattr(counts, measure)


def drill_count(user, params):
    return tq.count(user, tq.filter_from_args(params), TODAY, 7)


def check_consistent(user, scope, measures=MEASURES):
    total = rollup.summarize(user, scope, TODAY)
    for measure in measures:
        assert drill_count(user, rollup.drill_params(scope, measure)) == \
            measure_value(total.tickets, measure), measure
    f = total.findings
    assert f.found == f.rectified + f.in_progress + f.cancelled + f.unassigned
    assert f.in_progress == sum(f.planned.values())
    assert total.tickets.open == sum(total.tickets.planned.values())
    for group_by in rollup.GROUPINGS:
        s = rollup.summarize(user, scope, TODAY, group_by=group_by)
        assert s.tickets.total == total.tickets.total
        for measure in measures:
            expected = measure_value(s.tickets, measure)
            assert sum(measure_value(g.tickets, measure) for g in s.groups) == expected, \
                (group_by, measure)
            for g in s.groups:
                params = rollup.drill_params(scope, measure, group_by=group_by, key=g.key,
                                             region_of=s.region_of)
                assert drill_count(user, params) == measure_value(g.tickets, measure), \
                    (group_by, g.label, measure)
        if group_by not in ("unit", "region"):
            # Finding attributes: each finding falls in exactly one group.
            assert sum(g.findings.found for g in s.groups) == total.findings.found
            assert sum(g.findings.rectified for g in s.groups) == total.findings.rectified


def demo_like(world):
    findings = make_findings(world, 8)
    S = TicketStatus
    specs = [
        Spec(0, 0, S.IN_PROGRESS, -5, None),  # overdue
        Spec(1, 1, S.IN_PROGRESS, 3, 20),  # near-due
        Spec(1, 2, S.SUBMITTED, -2, None),
        Spec(2, 3, S.VERIFIED, 10, 200),
        Spec(2, 4, S.RETURNED, -1, 50),
        Spec(3, 0, S.CLOSED, 5, None, late=True),
        Spec(3, 2, S.CLOSED, 5, None),
        Spec(4, 1, S.LONG_TERM, 40, None, long_term=True),
        Spec(4, 5, S.CANCELLED, 5, None),
        Spec(5, 5, S.CLOSED, -30, None),
        Spec(6, 3, S.ASSIGNED, 400, 500, coop=0),
        Spec(6, 4, S.LONG_TERM, -3, None, long_term=True),
    ]
    spread(world, findings, specs)
    db.session.commit()
    return findings


def test_office_totals_count_every_ticket_in_scope(world):
    s = rollup.summarize(world.office, rollup.Scope(), TODAY)
    assert s.tickets.total == 2
    assert s.tickets.by_status["assigned"] == 2
    assert s.findings.found == 1 and s.findings.in_progress == 1


def test_demo_like_totals_equal_groups_equal_drill_down_lists_for_office(world):
    demo_like(world)
    check_consistent(world.office, rollup.Scope())


def test_demo_like_totals_equal_groups_for_a_narrowed_scope(world):
    findings = demo_like(world)
    check_consistent(world.office, rollup.Scope(unit_id=world.c1.id, year=2026))
    few = ("total", "open", "overdue", "near_due", "closed_late", "planned:by_cut")
    check_consistent(world.office, rollup.Scope(inspection_id=findings[1].inspection_id,
                                                severity=Severity.SERIOUS), measures=few)
    check_consistent(world.office, rollup.Scope(category_id=world.category.id), measures=few)


def test_demo_like_totals_equal_groups_for_city_office_supervisor_and_unit_user(world):
    demo_like(world)
    for user in (world.city_office, world.supervisor, world.unit_k1, world.unit_d1):
        check_consistent(user, rollup.Scope(), measures=("total", "open", "overdue",
                                                         "planned:this_year"))


def test_unit_user_counts_only_tickets_its_unit_leads_or_cooperates_on(world):
    demo_like(world)
    s = rollup.summarize(world.unit_k1, rollup.Scope(), TODAY)
    visible = tq.count(world.unit_k1, tq.TicketFilter(), TODAY, 7)
    assert s.tickets.total == visible
    office = rollup.summarize(world.office, rollup.Scope(), TODAY)
    assert s.tickets.total < office.tickets.total


def test_region_groups_put_each_ticket_under_the_child_holding_its_lead_unit(world):
    s = rollup.summarize(world.office, rollup.Scope(), TODAY, group_by="region")
    assert {g.key: g.tickets.total for g in s.groups} == {world.c1.id: 1, world.c2.id: 1}


def test_region_own_level_counts_tickets_led_by_the_region_unit_itself(world):
    findings = make_findings(world, 2)
    spread(world, findings, [Spec(1, 3, TicketStatus.ASSIGNED, 10, None)])  # led by C1
    s = rollup.summarize(world.office, rollup.Scope(region_of=world.c1.id), TODAY,
                         group_by="region")
    own = [g for g in s.groups if g.is_own_level]
    assert [g.key for g in own] == [world.c1.id] and own[0].tickets.total == 1
    assert sum(g.tickets.total for g in s.groups) == 2  # t1 under K1, the new one at C1


def test_finding_is_rectified_when_all_but_cancelled_tickets_are_closed(world):
    findings = make_findings(world, 2, second_inspection=False)
    S = TicketStatus
    spread(world, findings, [Spec(1, 0, S.CLOSED, 1, None), Spec(1, 1, S.CANCELLED, 1, None)])
    s = rollup.summarize(world.office, rollup.Scope(), TODAY, group_by="finding")
    second = next(g for g in s.groups if g.key == findings[1].id)
    assert second.findings.rectified == 1 and second.findings.in_progress == 0
    assert s.findings.found == 2 and s.findings.rectified == 1


def test_whole_organisation_counts_findings_without_tickets_as_unassigned(world):
    # The whole organisation's totals count the findings apart from their tickets' counts
    # (rollup._finding_branch): a finding without any ticket must still be found and
    # unassigned, for the office that sees everything and for an administrator.
    make_findings(world, 3, second_inspection=False)  # two more findings, without tickets
    for user in (world.office, world.admin):
        s = rollup.summarize(user, rollup.Scope(), TODAY)
        assert s.findings.found == 3 and s.findings.unassigned == 2, user.username
        assert s.findings.in_progress == 1


def test_each_unit_and_region_group_counts_what_the_roll_up_of_that_unit_counts(world):
    # Groups by unit and by region carry their ticket and finding counts in one row
    # (rollup._joined): each must equal the roll-up narrowed to that lead unit or region.
    demo_like(world)
    by_unit = rollup.summarize(world.office, rollup.Scope(), TODAY, group_by="unit")
    assert len(by_unit.groups) > 3
    for g in by_unit.groups:
        alone = rollup.summarize(world.office, rollup.Scope(lead_unit_id=g.key), TODAY)
        assert (g.tickets, g.findings) == (alone.tickets, alone.findings), g.label
    by_region = rollup.summarize(world.office, rollup.Scope(region_of=world.c1.id), TODAY,
                                 group_by="region")
    assert len(by_region.groups) > 1
    for g in by_region.groups:
        narrowed = rollup.Scope(lead_unit_id=g.key) if g.is_own_level else \
            rollup.Scope(unit_id=g.key)
        alone = rollup.summarize(world.office, narrowed, TODAY)
        assert (g.tickets, g.findings) == (alone.tickets, alone.findings), g.label


def test_finding_with_every_ticket_cancelled_counts_as_cancelled_not_rectified(world):
    findings = make_findings(world, 2, second_inspection=False)
    spread(world, findings, [Spec(1, 0, TicketStatus.CANCELLED, 1, None)])
    s = rollup.summarize(world.office, rollup.Scope(), TODAY)
    assert s.findings.cancelled == 1 and s.findings.rectified == 0


def test_planned_buckets_split_open_findings_by_latest_planned_completion(world, app):
    findings = make_findings(world, 5, second_inspection=False)
    S = TicketStatus
    year_end = (TODAY.replace(month=12, day=31) - TODAY).days
    spread(world, findings, [
        Spec(1, 0, S.IN_PROGRESS, 10, year_end),  # 31 Dec: this year
        Spec(2, 0, S.IN_PROGRESS, 10, year_end + 1),  # 1 Jan: by the cut
        Spec(2, 1, S.IN_PROGRESS, 10, 5),  # the later plan of the two decides
        Spec(3, 0, S.IN_PROGRESS, 10, year_end + 182),  # 1 July next year: later
        Spec(4, 0, S.LONG_TERM, 10, None, long_term=True),
    ])
    s = rollup.summarize(world.office, rollup.Scope(), TODAY)
    # world.finding holds t1/t2, deadline in 30 days: this year.
    assert s.findings.planned == {"this_year": 2, "by_cut": 1, "later": 1, "long_term": 1}
    app.config["ROLLUP_NEXT_YEAR_CUT"] = "07-31"
    try:
        assert rollup.summarize(world.office, rollup.Scope(), TODAY).findings.planned[
            "by_cut"] == 2
    finally:
        app.config.pop("ROLLUP_NEXT_YEAR_CUT")


def test_scope_naming_a_unit_outside_the_callers_scope_is_not_found(world):
    from tracker.services.errors import NotFound
    with pytest.raises(NotFound):
        rollup.summarize(world.city_office, rollup.Scope(unit_id=world.k2.id), TODAY)


spec_strategy = st.builds(
    Spec,
    finding=st.integers(0, 5), lead=st.integers(0, 5),
    status=st.sampled_from(list(TicketStatus)),
    deadline_offset=st.integers(-60, 400),
    planned_offset=st.one_of(st.none(), st.integers(-30, 700)),
    long_term=st.booleans(), late=st.booleans(),
    coop=st.one_of(st.none(), st.integers(0, 5)),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=st.lists(spec_strategy, max_size=25),
       user_name=st.sampled_from(["office", "city_office", "sup_c2", "unit_k1", "admin"]))
def test_random_data_totals_equal_groups_equal_drill_down_lists(world, specs, user_name):
    try:
        findings = make_findings(world, 6)
        spread(world, findings, specs)
        user = getattr(world, user_name)
        check_consistent(user, rollup.Scope(), measures=(
            "total", "open", "overdue", "near_due", "closed_late", "waiting",
            "planned:this_year", "planned:by_cut", "planned:later", "planned:long_term"))
    finally:
        db.session.rollback()


def finding_oracle(user, finding_ids) -> rollup.FindingCounts:
    """The finding counts read off each finding's own ticket list (the list's filters are
    the rules of `deadlines`), one finding at a time: what the roll-up must agree with."""
    expected = rollup.FindingCounts()
    for finding_id in finding_ids:
        def n(**measure):
            return drill_count(user, {"finding": finding_id, **measure})
        open_ = n(**rollup.measure_params("open"))
        closed = n(**rollup.measure_params("status:closed"))
        everything = n()
        expected.found += 1
        if everything == 0:
            expected.unassigned += 1
        elif open_:
            expected.in_progress += 1
            bucket = next((b for b in ("later", "by_cut", "this_year")
                           if n(planned=b)), "long_term")
            expected.planned[bucket] += 1
            if n(overdue=1):
                expected.overdue += 1
            elif n(near_due=1):
                expected.near_due += 1
        elif closed:
            expected.rectified += 1
            expected.closed_late += 1 if n(closed_late=1) else 0
        else:
            expected.cancelled += 1
    return expected


def test_demo_like_finding_counts_follow_each_findings_tickets(world):
    # Every state of a finding at least once: overdue, near-due, open, closed late,
    # closed, cancelled and unassigned.
    findings = demo_like(world)
    s = rollup.summarize(world.office, rollup.Scope(), TODAY)
    expected = finding_oracle(world.office, [f.id for f in findings])
    assert s.findings == expected
    assert expected.closed_late and expected.overdue and expected.near_due
    assert expected.unassigned and expected.rectified > expected.closed_late


@settings(max_examples=15, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=st.lists(spec_strategy, max_size=25))
def test_random_data_finding_counts_follow_each_findings_tickets(world, specs):
    # The roll-up reads a finding's state as the highest of its tickets' (overdue, near-due,
    # open, closed late, closed, cancelled: rollup._finding_state), the lists filter each
    # ticket by the rules of `deadlines`: both must say the same of every finding.
    try:
        findings = make_findings(world, 6)
        spread(world, findings, specs)
        s = rollup.summarize(world.office, rollup.Scope(), TODAY)
        assert s.findings == finding_oracle(world.office, [f.id for f in findings])
    finally:
        db.session.rollback()


def test_every_status_is_closed_cancelled_waiting_or_due():
    # rollup._finding_state tells a due state by elimination: a status outside these four
    # sets would be counted as due.
    S = TicketStatus
    parts = [{S.CLOSED}, {S.CANCELLED}, set(deadlines.WAITING_STATES),
             set(deadlines.DUE_STATES)]
    assert set().union(*parts) == set(TicketStatus)
    assert sum(len(p) for p in parts) == len(TicketStatus)
