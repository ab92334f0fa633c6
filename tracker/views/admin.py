"""Administration pages: the unit tree, user accounts and the problem categories.

The administrator manages everything; an office manages the units inside its scope (adds
units under a unit it covers and corrects their names). Units, users and categories are
deactivated, never deleted: tickets and history refer to them."""
from collections import defaultdict

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from tracker.extensions import db
from tracker.forms.inspections import choices
from tracker.forms.admin import (
    ROLE_LABELS,
    UNIT_KIND_LABELS,
    CategoryForm,
    MoveUnitForm,
    NewUnitForm,
    NewUserForm,
    UnitForm,
    UserForm,
)
from tracker.models import Role, Unit, UnitKind, User
from tracker.services import accounts, inspections, scoping, units
from tracker.services.errors import DomainError, Forbidden, NotFound
from tracker.views.forms import attempt
from tracker.views.inspections import refuse_impossible_ids, unit_options

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.url_value_preprocessor(refuse_impossible_ids)

PER_PAGE = 50


@bp.context_processor
def labels():
    return {
        "unit_kind_label": lambda kind: str(UNIT_KIND_LABELS[UnitKind(kind)]),
        "role_label": lambda role: str(ROLE_LABELS[Role(role)]),
        "is_admin": current_user.is_authenticated and current_user.role == Role.ADMIN,
    }


def _require_admin() -> None:
    if current_user.role != Role.ADMIN:
        raise Forbidden(_("Only an administrator manages this."))


def _require_unit_manager() -> None:
    if not (current_user.role == Role.ADMIN or (
            current_user.role == Role.OFFICE and current_user.scope_unit_id is not None)):
        raise Forbidden(_("Only an administrator or an office manages units."))


def _done(message: str, endpoint: str, **values):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(endpoint, **values))


@bp.get("/")
@login_required
def index():
    _require_unit_manager()
    return redirect(url_for(".units"))


# --- units ------------------------------------------------------------------------------

@bp.route("/units", methods=["GET", "POST"], endpoint="units")
@login_required
def units_page():
    _require_unit_manager()
    rows = list(db.session.scalars(scoping.units(current_user).order_by(Unit.code)))
    ids = {u.id for u in rows}
    children: dict[int | None, list[Unit]] = defaultdict(list)
    for unit in rows:
        children[unit.parent_id if unit.parent_id in ids else None].append(unit)
    form = NewUnitForm()
    top = [("", _("(top level)"))] if current_user.role == Role.ADMIN else []
    form.parent_id.choices = choices(top + unit_options())
    if request.method == "GET" and request.args.get("parent", "").isdigit():
        form.parent_id.data = int(request.args["parent"])
    if form.validate_on_submit():
        draft = units.UnitDraft(code=form.code.data, name=form.name.data,
                                kind=UnitKind(form.kind.data), parent_id=form.parent_id.data)
        saved, unit = attempt(form, lambda: units.create_unit(current_user, draft))
        if saved:
            return _done(_("Unit %(name)s was added.", name=unit.name), ".units")
    return render_template("admin/units.html", roots=children[None], children=children,
                           form=form, total=len(rows))


def _unit_forms(unit: Unit, edit_form: UnitForm | None = None,
                move_form: MoveUnitForm | None = None):
    edit_form = edit_form or UnitForm(obj=unit, formdata=None)
    if edit_form.kind.data is None or not isinstance(edit_form.kind.data, str):
        edit_form.kind.data = unit.kind.value
    move_form = move_form or MoveUnitForm(formdata=None, parent_id=unit.parent_id)
    if current_user.role == Role.ADMIN:
        below = set(db.session.scalars(scoping.subtree_ids(unit.id)))
        move_form.parent_id.choices = choices((i, label) for i, label in unit_options()
                                              if i not in below)
    return edit_form, move_form


def _unit_page(unit: Unit, edit_form=None, move_form=None):
    edit_form, move_form = _unit_forms(unit, edit_form, move_form)
    user_count = db.session.scalar(select(func.count(User.id)).where(
        User.unit_id == unit.id, User.is_active_user.is_(True)))
    return render_template("admin/unit.html", unit=unit, form=edit_form, move_form=move_form,
                           user_count=user_count)


def _editable_unit(unit_id: int) -> Unit:
    _require_unit_manager()
    unit = scoping.get_unit(current_user, unit_id)
    if not units.may_edit_unit(current_user, unit.id):
        raise Forbidden(_("You may not change this unit."))
    return unit


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@login_required
def unit_page(unit_id: int):
    unit = _editable_unit(unit_id)
    if request.method == "GET":
        return _unit_page(unit)
    form = UnitForm()
    if form.validate_on_submit():
        changes = units.UnitChanges(code=form.code.data, name=form.name.data,
                                    kind=form.kind.data, webhook_url=form.webhook_url.data)
        saved, _result = attempt(form, lambda: units.update_unit(current_user, unit.id, changes))
        if saved:
            return _done(_("The unit was saved."), ".unit_page", unit_id=unit.id)
    return _unit_page(unit, edit_form=form)


@bp.post("/units/<int:unit_id>/move")
@login_required
def move_unit(unit_id: int):
    _require_admin()
    unit = _editable_unit(unit_id)
    form = MoveUnitForm()
    _unit_forms(unit, move_form=form)
    if form.validate_on_submit():
        saved, _result = attempt(form, lambda: units.change_parent(
            current_user, unit.id, form.parent_id.data))
        if saved:
            return _done(_("The unit was moved."), ".unit_page", unit_id=unit.id)
    return _unit_page(unit, move_form=form)


@bp.post("/units/<int:unit_id>/active")
@login_required
def unit_active(unit_id: int):
    _require_admin()
    unit = _editable_unit(unit_id)
    active = request.form.get("active") == "1"
    units.set_unit_active(current_user, unit.id, active)
    message = _("The unit was restored.") if active else _("The unit was deactivated.")
    return _done(message, ".unit_page", unit_id=unit.id)


# --- users ------------------------------------------------------------------------------

@bp.get("/users", endpoint="users")
@login_required
def users_page():
    _require_admin()
    statement = select(User).options(joinedload(User.unit), joinedload(User.scope_unit))
    q = request.args.get("q", "").strip()[:80]
    role = request.args.get("role", "")
    state = request.args.get("state", "active")
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(or_(User.username.like(pattern, escape="\\"),
                                        User.full_name.like(pattern, escape="\\")))
    if role in {r.value for r in Role}:
        statement = statement.where(User.role == role)
    if state in ("active", "inactive"):
        statement = statement.where(User.is_active_user.is_(state == "active"))
    total = db.session.scalar(select(func.count()).select_from(
        statement.with_only_columns(User.id).subquery()))
    value = request.args.get("page", "1")
    page = max(1, int(value)) if value.isdigit() else 1
    rows = list(db.session.scalars(statement.order_by(User.username)
                                   .offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
    return render_template("admin/users.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), q=q, role=role, state=state,
                           roles=ROLE_LABELS)


def _user_choices(form: UserForm, user: User | None = None) -> None:
    options = unit_options()
    known = {i for i, _label in options}
    units_ = list(options)
    scopes = list(options)
    if user is not None and user.unit_id not in known:  # a deactivated unit stays shown
        units_.append((user.unit_id, user.unit.name))
    if user is not None and user.scope_unit_id is not None and user.scope_unit_id not in known:
        scopes.append((user.scope_unit_id, user.scope_unit.name))
    form.unit_id.choices = choices([("", _("(choose a unit)"))] + units_)
    form.scope_unit_id.choices = choices([("", _("(none)"))] + scopes)


def _one_time_password(user: User, password: str, created: bool):
    return render_template("admin/one_time_password.html", user=user, password=password,
                           created=created)


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def new_user():
    _require_admin()
    form = NewUserForm()
    _user_choices(form)
    if form.validate_on_submit():
        draft = accounts.UserDraft(
            username=form.username.data, full_name=form.full_name.data,
            role=Role(form.role.data), unit_id=form.unit_id.data,
            scope_unit_id=form.scope_unit_id.data, email=form.email.data or None,
            phone=form.phone.data or None)
        saved, created = attempt(form, lambda: accounts.create_user(current_user, draft))
        if saved:
            user, password = created
            # Shown once, on this response only; never stored in clear or sent again.
            return _one_time_password(user, password, created=True)
    return render_template("admin/user_form.html", form=form, user=None)


def _get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("User not found."))
    return user


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def user_page(user_id: int):
    _require_admin()
    user = _get_user(user_id)
    form = UserForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.role.data = user.role.value
    _user_choices(form, user)
    if form.validate_on_submit():
        changes = accounts.UserChanges(
            full_name=form.full_name.data, role=Role(form.role.data),
            unit_id=form.unit_id.data, scope_unit_id=form.scope_unit_id.data,
            email=form.email.data, phone=form.phone.data)
        saved, _result = attempt(form, lambda: accounts.update_user(current_user, user.id, changes))
        if saved:
            return _done(_("The account of %(name)s was saved.", name=user.full_name),
                         ".user_page", user_id=user.id)
    return render_template("admin/user_form.html", form=form, user=user)


@bp.post("/users/<int:user_id>/reset-password")
@login_required
def reset_password(user_id: int):
    _require_admin()
    user = _get_user(user_id)
    password = accounts.reset_password(current_user, user.id)
    db.session.commit()
    return _one_time_password(user, password, created=False)


@bp.post("/users/<int:user_id>/active")
@login_required
def user_active(user_id: int):
    _require_admin()
    user = _get_user(user_id)
    active = request.form.get("active") == "1"
    try:
        accounts.set_active(current_user, user.id, active)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for(".user_page", user_id=user.id))
    message = (_("The account was restored.") if active
               else _("The account was deactivated; its sessions have ended."))
    return _done(message, ".user_page", user_id=user.id)


# --- categories -------------------------------------------------------------------------

@bp.route("/categories", methods=["GET", "POST"], endpoint="categories")
@login_required
def categories_page():
    _require_admin()
    form = CategoryForm()
    if form.validate_on_submit():
        draft = inspections.CategoryDraft(code=form.code.data, name=form.name.data)
        saved, category = attempt(form, lambda: inspections.create_category(current_user, draft))
        if saved:
            return _done(_("Category %(name)s was added.", name=category.name),
                         ".categories")
    return render_template("admin/categories.html", rows=inspections.all_categories(),
                           form=form)


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@login_required
def category_page(category_id: int):
    _require_admin()
    category = inspections.get_category(category_id)
    form = CategoryForm(obj=category if request.method == "GET" else None)
    if form.validate_on_submit():
        draft = inspections.CategoryDraft(code=form.code.data, name=form.name.data)
        saved, _result = attempt(form, lambda: inspections.update_category(
            current_user, category.id, draft))
        if saved:
            return _done(_("The category was saved."), ".categories")
    return render_template("admin/category.html", category=category, form=form)


@bp.post("/categories/<int:category_id>/move")
@login_required
def move_category(category_id: int):
    _require_admin()
    offset = -1 if request.form.get("direction") == "up" else 1
    inspections.move_category(current_user, category_id, offset)
    return _done(_("The order was saved."), ".categories")


@bp.post("/categories/<int:category_id>/active")
@login_required
def category_active(category_id: int):
    _require_admin()
    active = request.form.get("active") == "1"
    inspections.set_category_active(current_user, category_id, active)
    message = _("The category was restored.") if active else _(
        "The category was retired; findings keep it, new findings cannot choose it.")
    return _done(message, ".categories")
