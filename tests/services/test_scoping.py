"""What each user may see (DOMAIN.md, "Who uses it"): one rule, in `scoping`.

The world: province P; city C1 with county K1 and finance bureau D1; city C2 with county K2.
t1 is led by K1 with D1 cooperating; t2 is led by K2. Tests add t3, led by D1 with K2
cooperating, where a unit that cooperates across cities matters.
"""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests import factories
from tracker.extensions import db
from tracker.models import Role, Ticket, Unit, UnitClosure, UnitKind
from tracker.services import scoping, units
from tracker.services.errors import NotFound, ValidationFailed


def visible(user) -> set[int]:
    return set(db.session.scalars(scoping.tickets(user).with_only_columns(Ticket.id)))


@pytest.fixture
def t3(world):
    """Led by the finance bureau D1 (city C1), with county K2 (city C2) cooperating."""
    return factories.ticket(world.office, world.finding, world.d1, cooperating=[world.k2])


# --- unit users -----------------------------------------------------------------------------

def test_unit_user_sees_the_tickets_its_unit_leads_or_cooperates_on(world, t3):
    assert visible(world.unit_k1) == {world.t1.id}
    assert visible(world.unit_d1) == {world.t1.id, t3.id}
    assert visible(world.unit_k2) == {world.t2.id, t3.id}


def test_unit_user_cannot_open_another_units_ticket(world):
    with pytest.raises(NotFound):
        scoping.get_ticket(world.unit_k1, world.t2.id)
    with pytest.raises(NotFound):
        scoping.get_ticket(world.unit_k2, world.t1.id)


def test_unit_user_sees_a_shared_finding_but_not_the_other_units_tickets_on_it(world):
    assert scoping.get_finding(world.unit_k1, world.finding.id) == world.finding
    assert visible(world.unit_k1) == {world.t1.id}


def test_unit_user_does_not_see_an_inspection_without_its_tickets(world):
    other = factories.inspection(world.p_office, title="2026年临夏州专项督导")
    finding = factories.finding(other, title="学生餐饮管理不规范")
    factories.ticket(world.office, finding, world.k2)
    with pytest.raises(NotFound):
        scoping.get_inspection(world.unit_k1, other.id)
    with pytest.raises(NotFound):
        scoping.get_finding(world.unit_k1, finding.id)
    assert scoping.get_inspection(world.unit_k2, other.id) == other


def test_unit_user_sees_only_its_own_unit(world):
    assert list(db.session.scalars(scoping.units(world.unit_k1))) == [world.k1]


# --- offices and supervisors ----------------------------------------------------------------

def test_province_office_sees_every_ticket_below_it(world, t3):
    assert visible(world.office) == {world.t1.id, world.t2.id, t3.id}


@pytest.mark.parametrize("username", ["city_office", "supervisor"])
def test_city_office_and_supervisor_see_their_subtree_by_lead_unit(world, t3, username):
    assert visible(getattr(world, username)) == {world.t1.id, t3.id}


def test_scope_goes_by_lead_unit_not_by_cooperating_unit(world, t3):
    """K2 cooperates on t3, but t3 is led from city C1: C2's supervisor does not see it."""
    assert visible(world.sup_c2) == {world.t2.id}
    with pytest.raises(NotFound):
        scoping.get_ticket(world.sup_c2, t3.id)


@pytest.mark.parametrize("username, ticket", [
    ("city_office", "t2"), ("supervisor", "t2"), ("sup_c2", "t1"),
])
def test_ticket_outside_the_scope_is_not_found(world, username, ticket):
    with pytest.raises(NotFound):
        scoping.get_ticket(getattr(world, username), getattr(world, ticket).id)


def test_office_scope_covers_its_subtree_only(world):
    assert scoping.covers_unit(world.city_office, world.k1.id)
    assert scoping.covers_unit(world.city_office, world.c1.id)
    assert not scoping.covers_unit(world.city_office, world.k2.id)
    assert not scoping.covers_unit(world.city_office, world.p.id)


def test_unit_user_covers_no_unit_even_with_a_stale_scope(world):
    world.unit_k1.scope_unit_id = world.p.id  # left over from an earlier office role
    assert not scoping.covers_unit(world.unit_k1, world.k1.id)


def test_admin_sees_everything(world, t3):
    assert visible(world.admin) == {world.t1.id, world.t2.id, t3.id}


# --- deactivated users ----------------------------------------------------------------------

@pytest.mark.parametrize("username", [
    "admin", "office", "city_office", "supervisor", "unit_k1", "unit_d1",
])
def test_inactive_user_sees_nothing(world, username):
    user = getattr(world, username)
    user.is_active_user = False
    db.session.flush()
    assert visible(user) == set()
    assert db.session.scalars(scoping.inspections(user)).all() == []
    assert db.session.scalars(scoping.findings(user)).all() == []
    assert db.session.scalars(scoping.units(user)).all() == []
    assert not scoping.covers_unit(user, world.k1.id)
    with pytest.raises(NotFound):
        scoping.get_ticket(user, world.t1.id)


# --- the tree moves, the scope follows ------------------------------------------------------

def test_moving_a_unit_moves_its_tickets_into_the_new_scope(world):
    units.move_unit(world.admin, world.k1.id, world.c2.id)
    assert visible(world.city_office) == set()
    assert visible(world.supervisor) == set()
    assert visible(world.sup_c2) == {world.t1.id, world.t2.id}
    assert visible(world.unit_k1) == {world.t1.id}  # a unit's own tickets stay its own
    with pytest.raises(NotFound):
        scoping.get_ticket(world.city_office, world.t1.id)


def test_moving_a_unit_takes_its_whole_subtree(world):
    township = factories.unit("620102001", "城关区某街道", UnitKind.TOWNSHIP, world.k1)
    school = factories.unit("620102001-01", "某小学", UnitKind.SCHOOL, township)
    ticket = factories.ticket(world.office, world.finding, school)
    units.move_unit(world.admin, world.k1.id, world.c2.id)
    assert ticket.id in visible(world.sup_c2)
    assert ticket.id not in visible(world.supervisor)
    assert (world.k1.depth, township.depth, school.depth) == (2, 3, 4)
    assert scoping.covers_unit(world.sup_c2, school.id)


def test_unit_cannot_move_under_its_own_subtree(world):
    township = factories.unit("620102001", "城关区某街道", UnitKind.TOWNSHIP, world.k1)
    with pytest.raises(ValidationFailed):
        units.move_unit(world.admin, world.c1.id, township.id)
    assert set(db.session.scalars(scoping.subtree_ids(world.c1.id))) == {
        world.c1.id, world.c1_office.id, world.k1.id, world.d1.id, township.id}


# --- the closure table against a naive walk of the tree -------------------------------------

def naive_subtrees() -> dict[int, set[int]]:
    parent = dict(db.session.execute(select(Unit.id, Unit.parent_id)).all())
    below: dict[int, set[int]] = {u: {u} for u in parent}
    for unit_id in parent:
        ancestor = parent[unit_id]
        while ancestor is not None:
            below[ancestor].add(unit_id)
            ancestor = parent[ancestor]
    return below


def naive_depth(unit_id: int) -> int:
    parent = dict(db.session.execute(select(Unit.id, Unit.parent_id)).all())
    depth = 0
    while parent[unit_id] is not None:
        unit_id, depth = parent[unit_id], depth + 1
    return depth


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_closure_table_matches_a_walk_of_the_tree_after_any_moves(world, data):
    """Random trees grafted under the province, then random moves: every unit's subtree
    and depth equal what walking the parent links gives."""
    try:
        size = data.draw(st.integers(min_value=1, max_value=12), label="size")
        nodes = []
        for i in range(size):
            parent = data.draw(st.sampled_from(nodes), label=f"parent of {i}") if nodes else world.p
            nodes.append(factories.unit(f"H{i}", f"单位{i}", UnitKind.SCHOOL, parent))
        candidates = nodes + [world.c1, world.k1, world.c2]
        moves = data.draw(st.lists(st.tuples(st.sampled_from(candidates),
                                             st.sampled_from(candidates + [world.p])),
                                   max_size=6), label="moves")
        for unit, new_parent in moves:
            if new_parent.id in naive_subtrees()[unit.id]:
                with pytest.raises(ValidationFailed):
                    units.move_unit(world.admin, unit.id, new_parent.id)
            else:
                units.move_unit(world.admin, unit.id, new_parent.id)
            db.session.flush()
        expected = naive_subtrees()
        depth = {unit_id: naive_depth(unit_id) for unit_id in expected}
        for unit_id, below in expected.items():
            assert set(db.session.scalars(scoping.subtree_ids(unit_id))) == below
            assert db.session.get(Unit, unit_id).depth == depth[unit_id]
        for link in db.session.scalars(select(UnitClosure)):
            assert link.depth == depth[link.descendant_id] - depth[link.ancestor_id]
    finally:
        db.session.rollback()


def test_subtree_of_a_leaf_is_itself(world):
    assert set(db.session.scalars(scoping.subtree_ids(world.k2.id))) == {world.k2.id}


def test_office_of_a_county_sees_its_county_only(world):
    county_office = factories.user("k1_office", Role.OFFICE, world.k1, scope=world.k1)
    assert visible(county_office) == {world.t1.id}
