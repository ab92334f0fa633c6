"""The unit tree: creating, moving and deactivating units, keeping the closure table true."""
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete, insert, select

from tracker.extensions import db
from tracker.models import Role, Unit, UnitClosure, UnitKind, User
from tracker.services import audit, scoping
from tracker.services.errors import Forbidden, NotFound, ValidationFailed

__all__ = ["UnitDraft", "UnitKind", "create_unit", "move_unit", "set_unit_active"]


@dataclass(frozen=True)
class UnitDraft:
    code: str
    name: str
    kind: UnitKind
    parent_id: int | None = None
    webhook_url: str | None = None


def _may_manage(actor: User | None, parent_id: int | None) -> bool:
    if actor is None or actor.role == Role.ADMIN:
        return True
    return actor.role == Role.OFFICE and parent_id is not None and scoping.covers_unit(
        actor, parent_id)


def create_unit(actor: User | None, draft: UnitDraft) -> Unit:
    """A new unit under `parent_id`. Admins anywhere; an office inside its scope;
    `actor` None is the command line."""
    if not _may_manage(actor, draft.parent_id):
        raise Forbidden(_("You may not add units here."))
    errors = {}
    code, name = draft.code.strip(), draft.name.strip()
    if not code or len(code) > 64:
        errors["code"] = [_("Between 1 and 64 characters.")]
    elif db.session.scalar(select(Unit.id).where(Unit.code == code)):
        errors["code"] = [_("This code is taken.")]
    if not name or len(name) > 200:
        errors["name"] = [_("Between 1 and 200 characters.")]
    parent = db.session.get(Unit, draft.parent_id) if draft.parent_id else None
    if draft.parent_id and parent is None:
        errors["parent_id"] = [_("Unknown unit.")]
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), errors)
    unit = Unit(code=code, name=name, kind=draft.kind, parent=parent,
                depth=parent.depth + 1 if parent else 0, webhook_url=draft.webhook_url or None)
    db.session.add(unit)
    db.session.flush()
    _link(unit.id, parent.id if parent else None)
    audit.record(actor, "unit.create", "unit", unit.id,
                 after={"code": code, "name": name, "kind": draft.kind.value,
                        "parent_id": draft.parent_id})
    return unit


def _link(unit_id: int, parent_id: int | None) -> None:
    """Closure rows of a new leaf: itself, and each ancestor of the parent one step further."""
    db.session.execute(insert(UnitClosure).values(ancestor_id=unit_id, descendant_id=unit_id,
                                                  depth=0))
    if parent_id is not None:
        db.session.execute(insert(UnitClosure).from_select(
            ["ancestor_id", "descendant_id", "depth"],
            select(UnitClosure.ancestor_id, unit_id, UnitClosure.depth + 1).where(
                UnitClosure.descendant_id == parent_id)))


def move_unit(actor: User, unit_id: int, new_parent_id: int) -> Unit:
    if actor.role != Role.ADMIN:
        raise Forbidden(_("Only an administrator moves units."))
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(_("Unit not found."))
    if db.session.get(UnitClosure, (unit_id, new_parent_id)) is not None:
        raise ValidationFailed(_("A unit cannot move under itself."),
                               {"parent_id": [_("A unit cannot move under itself.")]})
    before = {"parent_id": unit.parent_id}
    subtree = list(db.session.execute(
        select(UnitClosure.descendant_id, UnitClosure.depth).where(
            UnitClosure.ancestor_id == unit_id)))
    sub_ids = [row.descendant_id for row in subtree]
    # Cut the links from outside ancestors into the subtree, then graft under the new parent.
    db.session.execute(delete(UnitClosure).where(
        UnitClosure.descendant_id.in_(sub_ids), UnitClosure.ancestor_id.not_in(sub_ids)))
    ancestors = list(db.session.execute(select(UnitClosure.ancestor_id, UnitClosure.depth).where(
        UnitClosure.descendant_id == new_parent_id)))
    rows = [{"ancestor_id": a.ancestor_id, "descendant_id": d.descendant_id,
             "depth": a.depth + d.depth + 1} for a in ancestors for d in subtree]
    if rows:
        db.session.execute(insert(UnitClosure), rows)
    parent = db.session.get(Unit, new_parent_id)
    unit.parent = parent
    shift = parent.depth + 1 - unit.depth
    for descendant in db.session.scalars(select(Unit).where(Unit.id.in_(sub_ids))):
        descendant.depth += shift
    audit.record(actor, "unit.move", "unit", unit.id, before=before,
                 after={"parent_id": new_parent_id})
    return unit


def set_unit_active(actor: User, unit_id: int, active: bool) -> Unit:
    if actor.role != Role.ADMIN:
        raise Forbidden(_("Only an administrator deactivates units."))
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(_("Unit not found."))
    unit.is_active = active
    audit.record(actor, "unit.activate" if active else "unit.deactivate", "unit", unit.id,
                 after={"is_active": active})
    return unit


# --- editing units (admin pages and API) ------------------------------------------------

@dataclass(frozen=True)
class UnitChanges:
    code: str
    name: str
    kind: UnitKind | str
    webhook_url: str | None = None


def may_edit_unit(actor: User, unit_id: int) -> bool:
    """Admins edit any unit; an office the units inside its scope."""
    return actor.role == Role.ADMIN or (
        actor.role == Role.OFFICE and scoping.covers_unit(actor, unit_id))


def update_unit(actor: User, unit_id: int, changes: UnitChanges) -> Unit:
    """Rename a unit, correct its code or kind, set its work-chat webhook."""
    unit = scoping.get_unit(actor, unit_id)  # outside the scope: not found
    if not may_edit_unit(actor, unit.id):
        raise Forbidden(_("You may not change this unit."))
    errors: dict[str, list[str]] = {}
    code, name = (changes.code or "").strip(), (changes.name or "").strip()
    if not code or len(code) > 64:
        errors["code"] = [_("Between 1 and 64 characters.")]
    elif db.session.scalar(select(Unit.id).where(Unit.code == code, Unit.id != unit.id)):
        errors["code"] = [_("This code is taken.")]
    if not name or len(name) > 200:
        errors["name"] = [_("Between 1 and 200 characters.")]
    try:
        kind = UnitKind(changes.kind)
    except ValueError:
        errors["kind"] = [_("Not one of the allowed values.")]
        kind = unit.kind
    webhook = (changes.webhook_url or "").strip() or None
    if webhook is not None and (len(webhook) > 500 or not _is_https_url(webhook)):
        errors["webhook_url"] = [_("Enter an https:// address of at most 500 characters.")]
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), errors)
    fields = ("code", "name", "kind", "webhook_url")
    before = {name_: getattr(unit, name_) for name_ in fields}
    unit.code, unit.name, unit.kind, unit.webhook_url = code, name, kind, webhook
    after = {name_: getattr(unit, name_) for name_ in fields}
    if after != before:
        db.session.flush()
        audit.record(actor, "unit.update", "unit", unit.id, before=before, after=after)
    return unit


def _is_https_url(value: str) -> bool:
    host = value[len("https://"):].split("/", 1)[0] if value.startswith("https://") else ""
    return bool(host) and not any(ch.isspace() for ch in value)


def change_parent(actor: User, unit_id: int, new_parent_id: int | None) -> Unit:
    """`move_unit`, with the new parent checked as a field first (admins only)."""
    if actor.role != Role.ADMIN:
        raise Forbidden(_("Only an administrator moves units."))
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(_("Unit not found."))
    if new_parent_id is None:
        if unit.parent_id is not None:
            raise ValidationFailed(_("Please correct the highlighted fields."),
                                   {"parent_id": [_("Choose the unit to move it under.")]})
        return unit
    if new_parent_id == unit.parent_id:
        return unit
    if db.session.get(Unit, new_parent_id) is None:
        raise ValidationFailed(_("Please correct the highlighted fields."),
                               {"parent_id": [_("Unknown unit.")]})
    return move_unit(actor, unit_id, new_parent_id)
