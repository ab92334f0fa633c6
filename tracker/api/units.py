"""The unit tree over the JSON API: read within the caller's scope; offices add and rename
units inside their scope, administrators also move, deactivate and restore them."""
from flask_babel import gettext as _
from pydantic import BaseModel, Field, StrictBool, StrictStr
from sqlalchemy import func, or_, select

from tracker.api.inspections import PageQuery
from tracker.api.schemas import StrictModel
from tracker.api.spec import current_api_user, endpoint
from tracker.api.ticket_schemas import BodyId, QueryId
from tracker.extensions import db
from tracker.models import Role, Unit, UnitKind
from tracker.services import scoping, units
from tracker.services.errors import Forbidden


class UnitListQuery(PageQuery):
    parent_id: QueryId | None = Field(None, description="Only the children of this unit.")
    q: str | None = Field(None, max_length=100, description="Text in the name or code.")
    is_active: bool | None = Field(None, description="Only active (true) or deactivated (false).")


class UnitOut(BaseModel):
    id: int
    code: str
    name: str
    kind: UnitKind
    parent_id: int | None
    is_active: bool


class UnitListOut(BaseModel):
    items: list[UnitOut]
    total: int
    page: int
    per_page: int


class UnitCreate(StrictModel):
    code: StrictStr = Field(max_length=1000)
    name: StrictStr = Field(max_length=1000)
    kind: UnitKind
    parent_id: BodyId | None = Field(
        None, description="Required for an office (a unit it covers); none makes a root (admin).")


class UnitPatch(StrictModel):
    """Only the fields sent change. `parent_id` and `is_active` are for administrators."""

    code: StrictStr | None = Field(None, max_length=1000)
    name: StrictStr | None = Field(None, max_length=1000)
    kind: UnitKind | None = None
    webhook_url: StrictStr | None = Field(None, max_length=1000,
                                          description="https:// address of the work-chat robot.")
    parent_id: BodyId | None = None
    is_active: StrictBool | None = None


def _out(unit: Unit) -> UnitOut:
    return UnitOut(id=unit.id, code=unit.code, name=unit.name, kind=unit.kind,
                   parent_id=unit.parent_id, is_active=unit.is_active)


@endpoint("/units", "GET", "The units in the caller's scope", query=UnitListQuery,
          response=UnitListOut)
def list_units(query: UnitListQuery):
    """Administrators: every unit. Office and supervisor: their scope subtree. Unit users:
    their own unit. Ordered by code."""
    statement = scoping.units(current_api_user())
    if query.parent_id is not None:
        statement = statement.where(Unit.parent_id == query.parent_id)
    if query.is_active is not None:
        statement = statement.where(Unit.is_active.is_(query.is_active))
    if query.q:
        pattern = "%" + query.q.replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_") + "%"
        statement = statement.where(or_(Unit.name.like(pattern, escape="\\"),
                                        Unit.code.like(pattern, escape="\\")))
    total = db.session.scalar(select(func.count()).select_from(
        statement.with_only_columns(Unit.id).subquery()))
    rows = db.session.scalars(statement.order_by(Unit.code)
                              .offset((query.page - 1) * query.per_page).limit(query.per_page))
    return UnitListOut(items=[_out(u) for u in rows], total=total, page=query.page,
                       per_page=query.per_page)


@endpoint("/units/<int:unit_id>", "GET", "One unit in the caller's scope", response=UnitOut)
def get_unit(unit_id: int):
    return _out(scoping.get_unit(current_api_user(), unit_id))


@endpoint("/units", "POST", "Add a unit (an office under a unit it covers; administrators "
          "anywhere)", body=UnitCreate, response=UnitOut, status=201)
def create_unit(body: UnitCreate):
    user = current_api_user()
    if user.role not in (Role.ADMIN, Role.OFFICE):
        raise Forbidden(_("Only an administrator or an office manages units."))
    if body.parent_id is not None:
        scoping.get_unit(user, body.parent_id)  # a parent outside the scope does not exist
    unit = units.create_unit(user, units.UnitDraft(code=body.code, name=body.name,
                                                   kind=body.kind, parent_id=body.parent_id))
    db.session.commit()
    return _out(unit)


@endpoint("/units/<int:unit_id>", "PATCH", "Change a unit (an office within its scope; "
          "moving and deactivating: administrators)", body=UnitPatch, response=UnitOut)
def patch_unit(unit_id: int, body: UnitPatch):
    user = current_api_user()
    unit = scoping.get_unit(user, unit_id)
    changes = body.model_dump(exclude_unset=True)
    if {"code", "name", "kind", "webhook_url"} & changes.keys():
        units.update_unit(user, unit.id, units.UnitChanges(
            code=changes.get("code", unit.code) or "",
            name=changes.get("name", unit.name) or "",
            kind=changes.get("kind", unit.kind) or "",
            webhook_url=changes.get("webhook_url", unit.webhook_url)))
    if "parent_id" in changes:
        units.change_parent(user, unit.id, changes["parent_id"])
    if changes.get("is_active") is not None and changes["is_active"] != unit.is_active:
        units.set_unit_active(user, unit.id, changes["is_active"])
    db.session.commit()
    return _out(unit)
