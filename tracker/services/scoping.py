"""What a user may see. Every query of user data starts here.

`ticket_clause(user)` is the one rule: admin sees everything; office and supervisor see
tickets whose lead unit lies in their scope subtree; a unit user sees tickets their unit
leads or cooperates on. Inspections, findings, units, evidence and counts are derived from
it, so a unit never learns of another unit's tickets by any route.
"""
import re

from flask import has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import Select, exists, false, or_, select, true, union
from sqlalchemy.sql import ColumnElement

from tracker.extensions import db
from tracker.models import (
    Finding,
    Inspection,
    Role,
    Ticket,
    TicketUnit,
    Unit,
    UnitClosure,
    User,
)
from tracker.models.base import shared_alias
from tracker.services.errors import NotFound, ValidationFailed


def subtree_ids(unit_id: int) -> Select:
    """Ids of a unit and every unit below it, as a subquery."""
    return select(UnitClosure.descendant_id).where(UnitClosure.ancestor_id == unit_id)


def in_subtree(column, unit_id: int) -> ColumnElement[bool]:
    return column.in_(subtree_ids(unit_id))


def _sees_nothing(user: User | None) -> bool:
    """No user, or a deactivated one, sees nothing at all."""
    return user is None or not user.is_active


def ticket_clause(user: User) -> ColumnElement[bool]:
    if _sees_nothing(user):
        return false()
    if user.role == Role.ADMIN:
        return true()
    if user.role in (Role.OFFICE, Role.SUPERVISOR):
        if user.scope_unit_id is None:
            return false()
        if covers_everything(user):
            return true()  # no clause: PostgreSQL reads the list's order from its index
        return in_subtree(Ticket.lead_unit_id, user.scope_unit_id)
    return Ticket.id.in_(unit_ticket_ids(user.unit_id))


def covers_everything(user: User) -> bool:
    """Whether an office's or supervisor's scope is the whole organisation: its scope unit
    is the root and no other root exists (then every ticket's lead unit lies below it)."""
    if user.role not in (Role.OFFICE, Role.SUPERVISOR) or user.scope_unit_id is None:
        return False
    scope = user.scope_unit
    if scope is None or scope.parent_id is not None:
        return False
    return user.root_count == 1  # read with the user (models.user): no statement of its own


#: The tickets of `unit_ticket_ids`, aliased once (SQLAlchemy's work on an alias is kept
#: with it).
_LED = shared_alias(Ticket, name="led")


def unit_ticket_ids(unit_id: int) -> Select:
    """Ids of the tickets a unit leads or cooperates on: a UNION that the index on
    `tickets.lead_unit_id` and the one on `ticket_units.unit_id` each serve (an `OR` with a
    correlated EXISTS could use neither, and read every ticket). Over an alias, never
    correlated with the tickets of the enclosing statement."""
    led = _LED
    return union(
        select(led.id).where(led.lead_unit_id == unit_id).correlate(None),
        select(TicketUnit.ticket_id).where(TicketUnit.unit_id == unit_id).correlate(None),
    )


def tickets(user: User) -> Select:
    """Every ticket the user may see, as a select to narrow further."""
    return select(Ticket).where(ticket_clause(user))


def unit_clause(user: User) -> ColumnElement[bool]:
    """Units the user may see and pick: the scope subtree, or the own unit."""
    if _sees_nothing(user):
        return false()
    if user.role == Role.ADMIN or covers_everything(user):
        return true()
    if user.role in (Role.OFFICE, Role.SUPERVISOR) and user.scope_unit_id is not None:
        return in_subtree(Unit.id, user.scope_unit_id)
    return Unit.id == user.unit_id


def units(user: User) -> Select:
    return select(Unit).where(unit_clause(user))


def inspection_clause(user: User) -> ColumnElement[bool]:
    """Inspections run by an office within the user's scope, or holding a visible ticket."""
    if _sees_nothing(user):
        return false()
    if user.role == Role.ADMIN or covers_everything(user):
        return true()
    has_ticket = exists().where(
        Finding.inspection_id == Inspection.id, Ticket.finding_id == Finding.id,
        ticket_clause(user),
    )
    if user.role in (Role.OFFICE, Role.SUPERVISOR) and user.scope_unit_id is not None:
        return or_(in_subtree(Inspection.owner_unit_id, user.scope_unit_id), has_ticket)
    return has_ticket


def inspections(user: User) -> Select:
    return select(Inspection).where(inspection_clause(user))


def finding_clause(user: User) -> ColumnElement[bool]:
    if _sees_nothing(user):
        return false()
    if user.role == Role.ADMIN or covers_everything(user):
        return true()
    has_ticket = exists().where(Ticket.finding_id == Finding.id, ticket_clause(user))
    if user.role in (Role.OFFICE, Role.SUPERVISOR) and user.scope_unit_id is not None:
        owned = exists().where(
            Inspection.id == Finding.inspection_id,
            in_subtree(Inspection.owner_unit_id, user.scope_unit_id),
        )
        return or_(owned, has_ticket)
    return has_ticket


def findings(user: User) -> Select:
    return select(Finding).where(finding_clause(user))


def _one(statement: Select, what: str):
    obj = db.session.scalars(statement).first()
    if obj is None:
        raise NotFound(what)
    return obj


def get_ticket(user: User, ticket_id: int, *, for_update: bool = False) -> Ticket:
    statement = tickets(user).where(Ticket.id == ticket_id)
    if for_update:
        # The locked row is read afresh, also when the ticket was loaded earlier in the
        # session: a version check must compare with what is committed now.
        statement = statement.with_for_update(of=Ticket).execution_options(
            populate_existing=True)
    return _one(statement, _("Ticket not found."))


def get_inspection(user: User, inspection_id: int) -> Inspection:
    return _one(inspections(user).where(Inspection.id == inspection_id),
                _("Inspection not found."))


def get_finding(user: User, finding_id: int) -> Finding:
    return _one(findings(user).where(Finding.id == finding_id), _("Finding not found."))


def get_unit(user: User, unit_id: int) -> Unit:
    return _one(units(user).where(Unit.id == unit_id), _("Unit not found."))


#: "name (code)", the label a unit picker shows and accepts back (full-width brackets too).
_LABELLED = re.compile(r"^(?P<name>.*?)\s*[(（](?P<code>[^()（）]+)[)）]$")


def unit_label(unit: Unit) -> str:
    """How a unit picker shows a unit, and the text that names it unambiguously."""
    return f"{unit.name} ({unit.code})"


def find_unit(user: User, text: str) -> Unit:
    """The unit in the user's scope that `text` names: its id (shared links, `?unit=5`), its
    code, its `unit_label`, or its exact name when no other unit in the scope has that name.
    One statement. NotFound if none; ValidationFailed if the name is not unique."""
    text = " ".join((text or "").split())[:300]
    if not text:
        raise NotFound(_("Unit not found."))
    labelled = _LABELLED.match(text)
    code = labelled.group("code").strip() if labelled else None
    wanted = [Unit.code == text, Unit.name == text]
    if code:
        wanted.append(Unit.code == code)
    unit_id = int(text) if text.isdigit() and len(text) < 10 else None
    if unit_id is not None:
        wanted.append(Unit.id == unit_id)
    found = db.session.scalars(units(user).where(or_(*wanted)).order_by(Unit.id).limit(20)).all()
    for matches in (lambda u: u.id == unit_id, lambda u: code is not None and u.code == code,
                    lambda u: u.code == text):
        for unit in found:
            if matches(unit):
                return unit
    named = [u for u in found if u.name == text]
    if len(named) == 1:
        return named[0]
    if named:
        raise ValidationFailed(_("Please correct the marked fields."), {"unit": [
            _("Several units in your scope have this name: choose one from the suggestions "
              "or type its code.")]})
    raise NotFound(_("Unit not found."))


def search_units(user: User, q: str, limit: int = 20) -> list[Unit]:
    """Units in the user's scope whose name or code contains `q`, codes first that start
    with it, then by code: the suggestions of a unit picker."""
    q = " ".join((q or "").split())[:100]
    statement = units(user)
    if q:
        labelled = _LABELLED.match(q)
        if labelled:
            q = labelled.group("code").strip()
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(or_(Unit.name.like(pattern, escape="\\"),
                                        Unit.code.like(pattern, escape="\\")))
    return list(db.session.scalars(statement.order_by(Unit.is_active.desc(), Unit.depth,
                                                      Unit.code).limit(limit)))


_NUMBERED = re.compile(r"^(?P<text>.*?)\s*[(（]#(?P<id>\d{1,9})[)）]$")


def find_inspection(user: User, text: str) -> Inspection:
    """The inspection in the user's scope that `text` names: its id (shared links), the
    picker's label ending in "(#id)", or its exact title when no other visible inspection
    has that title. One statement. NotFound if none; ValidationFailed if not unique."""
    text = " ".join((text or "").split())[:300]
    numbered = _NUMBERED.match(text)
    if numbered or (text.isdigit() and len(text) < 10):
        return get_inspection(user, int(numbered.group("id") if numbered else text))
    if not text:
        raise NotFound(_("Inspection not found."))
    found = db.session.scalars(inspections(user).where(Inspection.title == text)
                               .order_by(Inspection.id).limit(2)).all()
    if len(found) > 1:
        raise ValidationFailed(_("Please correct the marked fields."), {"inspection": [
            _("Several inspections have this title: choose one from the suggestions.")]})
    if not found:
        raise NotFound(_("Inspection not found."))
    return found[0]


def search_inspections(user: User, q: str, limit: int = 20) -> list[Inspection]:
    """Inspections the user may see whose title contains `q`, newest first: the
    suggestions of an inspection picker."""
    q = " ".join((q or "").split())[:100]
    statement = inspections(user)
    numbered = _NUMBERED.match(q)
    if numbered:
        statement = statement.where(Inspection.id == int(numbered.group("id")))
    elif q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(Inspection.title.like(pattern, escape="\\"))
    return list(db.session.scalars(statement.order_by(Inspection.year.desc(),
                                                      Inspection.id.desc()).limit(limit)))


def covers_unit(user: User, unit_id: int) -> bool:
    """Whether the unit lies inside the user's scope subtree (office and supervisor)."""
    if _sees_nothing(user):
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role not in (Role.OFFICE, Role.SUPERVISOR) or user.scope_unit_id is None:
        return False
    memo = _coverage_memo()
    key = (user.scope_unit_id, unit_id)
    if key not in memo:
        memo[key] = db.session.get(UnitClosure, key) is not None
    return memo[key]


def preload_coverage(user: User, unit_ids) -> None:
    """Answer `covers_unit` for many units with one statement (a page of rows that each
    ask whether the user's scope covers their lead unit)."""
    if _sees_nothing(user) or user.role not in (Role.OFFICE, Role.SUPERVISOR) \
            or user.scope_unit_id is None:
        return
    memo = _coverage_memo()
    wanted = {u for u in unit_ids if (user.scope_unit_id, u) not in memo}
    if not wanted:
        return
    covered = set(db.session.scalars(select(UnitClosure.descendant_id).where(
        UnitClosure.ancestor_id == user.scope_unit_id, UnitClosure.descendant_id.in_(wanted))))
    memo.update({(user.scope_unit_id, u): u in covered for u in wanted})


def note_coverage(user: User, unit_id: int, covered: bool) -> None:
    """Record a `covers_unit` answer the caller already knows (e.g. the lead unit of a
    ticket an office just found through `tickets(user)`), so that it is not asked again."""
    if user.role in (Role.OFFICE, Role.SUPERVISOR) and user.scope_unit_id is not None:
        _coverage_memo()[(user.scope_unit_id, unit_id)] = covered


def _coverage_memo() -> dict:
    """Answers of `covers_unit` for the span of one request (the tree does not move under
    a page being built); outside a request, nothing is kept."""
    if not has_request_context():
        return {}
    return request.environ.setdefault("tracker.covers_unit", {})
