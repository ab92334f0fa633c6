"""The scope clauses at scale (issue 6): a unit user's clause is a UNION both indexes serve,
an office over the whole organisation gets no clause at all, and neither widens what
anybody sees."""

from tests import factories
from tracker.extensions import db
from tracker.models import Role, Ticket, UnitKind
from tracker.services import scoping


def visible(user) -> set[int]:
    return set(db.session.scalars(scoping.tickets(user).with_only_columns(Ticket.id)))


def sql(clause) -> str:
    return str(clause.compile(db.engine))


def test_unit_users_clause_is_a_union_of_led_and_cooperating_tickets(world):
    text = sql(scoping.ticket_clause(world.unit_d1))
    assert "UNION" in text and "EXISTS" not in text
    t3 = factories.ticket(world.office, world.finding, world.d1, cooperating=[world.k2])
    assert visible(world.unit_d1) == {world.t1.id, t3.id}  # cooperates on t1, leads t3
    assert visible(world.unit_k2) == {world.t2.id, t3.id}


def test_the_union_does_not_correlate_with_an_enclosing_ticket_query(world):
    """Used inside EXISTS over tickets (the inspection and finding clauses), it must still
    select from its own copy of the tickets table."""
    other = factories.inspection(world.p_office, title="2026年临夏州专项督导")
    finding = factories.finding(other, title="学生餐饮管理不规范")
    factories.ticket(world.office, finding, world.k2)
    assert world.inspection.id in set(db.session.scalars(
        scoping.inspections(world.unit_k1).with_only_columns(scoping.Inspection.id)))
    assert other.id not in set(db.session.scalars(
        scoping.inspections(world.unit_k1).with_only_columns(scoping.Inspection.id)))


def test_an_office_over_the_only_root_has_no_clause_and_sees_everything(world):
    assert scoping.covers_everything(world.office)
    assert sql(scoping.ticket_clause(world.office)) in ("true", "1")
    assert visible(world.office) == {world.t1.id, world.t2.id}
    assert not scoping.covers_everything(world.city_office)
    assert not scoping.covers_everything(world.unit_k1)


def test_a_second_root_gives_the_root_office_its_subtree_clause_again(world):
    other_root = factories.unit("63", "青海省", UnitKind.PROVINCE)
    county = factories.unit("630102", "城东区", UnitKind.COUNTY, other_root)
    office_unit = factories.unit("63-DD", "青海省督导办", UnitKind.OFFICE, other_root)
    other_office = factories.user("qh_office", Role.OFFICE, office_unit, scope=other_root)
    finding = factories.finding(factories.inspection(office_unit))
    foreign = factories.ticket(other_office, finding, county)
    db.session.commit()
    assert not scoping.covers_everything(world.office)
    assert foreign.id not in visible(world.office)
    assert county.id not in set(db.session.scalars(
        scoping.units(world.office).with_only_columns(scoping.Unit.id)))
    assert foreign.id in visible(world.admin)


def test_find_unit_resolves_ids_codes_labels_and_unique_names_in_scope(world):
    assert scoping.find_unit(world.office, str(world.k1.id)) == world.k1
    assert scoping.find_unit(world.office, "620102") == world.k1
    assert scoping.find_unit(world.office, "城关区 (620102)") == world.k1
    assert scoping.find_unit(world.office, " 城关区 ") == world.k1
    import pytest
    from tracker.services.errors import NotFound
    with pytest.raises(NotFound):
        scoping.find_unit(world.supervisor, "临夏市")
    with pytest.raises(NotFound):
        scoping.find_unit(world.supervisor, str(world.k2.id))
    with pytest.raises(NotFound):
        scoping.find_unit(world.unit_k1, "兰州市财政局")
