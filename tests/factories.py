"""Building blocks for tests: a small unit tree, users of every role, an inspection with
tickets. Everything goes through the services, so closure rows and audit events exist."""

from datetime import date, timedelta
from functools import cache
from types import SimpleNamespace

from tracker.extensions import db
from tracker.models import (
    Category,
    Finding,
    Inspection,
    InspectionKind,
    Role,
    Ticket,
    TimelineKind,
    Unit,
    UnitKind,
    User,
)
from tracker.services import units, workflow

PASSWORD = "correct horse battery"
TODAY = date(2026, 11, 21)


def unit(code, name, kind, parent=None) -> Unit:
    return units.create_unit(None, units.UnitDraft(code=code, name=name, kind=kind,
                                                   parent_id=parent.id if parent else None))


@cache
def _password_hash() -> str:
    """Hashing is slow on purpose (scrypt): test users share one hash of PASSWORD."""
    u = User()
    u.set_password(PASSWORD)
    return u.password_hash


def user(username, role, unit_, scope=None) -> User:
    u = User(username=username, full_name=username, role=role, unit_id=unit_.id,
             scope_unit_id=scope.id if scope else None, password_hash=_password_hash())
    db.session.add(u)
    db.session.flush()
    return u


def inspection(owner: Unit, *, levels=1, supervisors_may_sign_off=False, year=2026,
               feedback_on=date(2026, 1, 10), title="2026年履行教育职责评价") -> Inspection:
    i = Inspection(title=title, kind=InspectionKind.ONSITE, year=year, owner_unit_id=owner.id,
                   inspected_body="某市人民政府", inspecting_body="省政府教育督导委员会办公室",
                   document_number="甘政教督办函〔2026〕1号", feedback_on=feedback_on,
                   default_deadline=date(2026, 12, 31), signoff_levels=levels,
                   supervisors_may_sign_off=supervisors_may_sign_off)
    db.session.add(i)
    db.session.flush()
    return i


def finding(insp: Inspection, number=1, title="经费投入保障政策未完全落实", category=None) -> Finding:
    f = Finding(inspection_id=insp.id, number=number, title=title, description="",
                category_id=category.id if category else None)
    db.session.add(f)
    db.session.flush()
    return f


def ticket(actor: User, fnd: Finding, lead: Unit, *, deadline=TODAY + timedelta(days=30),
           cooperating=(), timeline=TimelineKind.BY_DATE) -> Ticket:
    [t] = workflow.create_tickets(actor, fnd.id, [workflow.TicketDraft(
        lead_unit_id=lead.id, deadline=deadline,
        cooperating_unit_ids=tuple(u.id for u in cooperating), timeline=timeline,
        measures="制定方案，落实经费")])
    return t


def build_world() -> SimpleNamespace:
    """Province P with office; city C1 (county K1, department D1 finance bureau) and city C2
    (county K2). Users: admin; office (all of P); city_office (C1); supervisor (C1);
    sup_c2 (C2); unit_k1, unit_d1, unit_k2 (unit users)."""
    w = SimpleNamespace()
    w.p = unit("62", "甘肃省", UnitKind.PROVINCE)
    w.p_office = unit("62-DD", "省政府教育督导办", UnitKind.OFFICE, w.p)
    w.c1 = unit("6201", "兰州市", UnitKind.CITY, w.p)
    w.c1_office = unit("6201-DD", "兰州市教育督导办", UnitKind.OFFICE, w.c1)
    w.k1 = unit("620102", "城关区", UnitKind.COUNTY, w.c1)
    w.d1 = unit("6201-CZ", "兰州市财政局", UnitKind.DEPARTMENT, w.c1)
    w.c2 = unit("6229", "临夏州", UnitKind.CITY, w.p)
    w.k2 = unit("622901", "临夏市", UnitKind.COUNTY, w.c2)
    w.admin = user("admin", Role.ADMIN, w.p_office)
    w.office = user("office", Role.OFFICE, w.p_office, scope=w.p)
    w.city_office = user("city_office", Role.OFFICE, w.c1_office, scope=w.c1)
    w.supervisor = user("supervisor", Role.SUPERVISOR, w.c1_office, scope=w.c1)
    w.sup_c2 = user("sup_c2", Role.SUPERVISOR, w.p_office, scope=w.c2)
    w.unit_k1 = user("unit_k1", Role.UNIT_USER, w.k1)
    w.unit_d1 = user("unit_d1", Role.UNIT_USER, w.d1)
    w.unit_k2 = user("unit_k2", Role.UNIT_USER, w.k2)
    w.category = Category(code="funding", name="经费投入", sort_order=1)
    db.session.add(w.category)
    db.session.flush()
    w.inspection = inspection(w.p_office)
    w.finding = finding(w.inspection, category=w.category)
    # t1: led by K1 with D1 cooperating; t2: led by K2 (another city).
    w.t1 = ticket(w.office, w.finding, w.k1, cooperating=[w.d1])
    w.t2 = ticket(w.office, w.finding, w.k2)
    return w


def more_tickets(world: SimpleNamespace, count: int, *, deadlines: int = 4) -> list[int]:
    """`count` more tickets led by K1, one finding each, their deadlines spread over the
    next `deadlines` days so that some share one (ties are part of what lists must order).
    Commits; returns the new tickets' ids."""
    ids = []
    for n in range(count):
        fnd = finding(world.inspection, number=10 + n, title=f"问题{n}")
        ids.append(ticket(world.office, fnd, world.k1,
                          deadline=TODAY + timedelta(days=n % deadlines)).id)
    db.session.commit()
    return ids
