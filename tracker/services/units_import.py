"""Units and users in bulk: a province has thousands of schools.

Two sheets of the same rules as the problem list (`findings_import`): a units file (code,
name, kind, parent code, active) and a users file (user name, full name, role, unit code,
scope unit code, e-mail, phone, active). `preview_*` checks every row and says what would
be created, updated or left unchanged, writing nothing; `apply_*` writes all through the
services (units, accounts: audited) or raises, and the caller rolls back. Matching is by
unit code and user name, so importing the same file again changes nothing.

`hand_over` gives a leaving user's open work (tickets naming them as responsible person,
unread notifications) to a colleague of the same unit, and deactivates the account.
"""
from dataclasses import dataclass, field
from typing import Any, Callable

from flask_babel import gettext as _
from sqlalchemy import select, update

from tracker.extensions import db
from tracker.models import (
    OPEN_STATUSES,
    Notification,
    Role,
    Ticket,
    Unit,
    UnitKind,
    User,
)
from tracker.services import accounts, audit, scoping, sheets, units
from tracker.services.errors import Forbidden, ValidationFailed

Column = sheets.Column

UNIT_COLUMNS = (
    Column("code", "Unit code", 16, required=True),
    Column("name", "Unit name", 28, required=True),
    Column("kind", "Unit kind", 10, required=True),
    Column("parent", "Parent unit code", 16),
    Column("active", "Active", 8),
)
USER_COLUMNS = (
    Column("username", "User name", 16, required=True),
    Column("full_name", "Full name", 12, required=True),
    Column("role", "Role", 10, required=True),
    Column("unit", "Unit code", 16, required=True),
    Column("scope", "Scope unit code", 16),
    Column("email", "E-mail", 24),
    Column("phone", "Phone", 16),
    Column("active", "Active", 8),
)

KIND_NAMES = {"省": UnitKind.PROVINCE, "省级": UnitKind.PROVINCE, "市": UnitKind.CITY,
              "市州": UnitKind.CITY, "市（州）": UnitKind.CITY, "州": UnitKind.CITY,
              "县": UnitKind.COUNTY, "县区": UnitKind.COUNTY, "县（区）": UnitKind.COUNTY,
              "区": UnitKind.COUNTY, "乡镇": UnitKind.TOWNSHIP, "乡": UnitKind.TOWNSHIP,
              "镇": UnitKind.TOWNSHIP, "学校": UnitKind.SCHOOL, "部门": UnitKind.DEPARTMENT,
              "督导办": UnitKind.OFFICE, "整改办": UnitKind.OFFICE}
ROLE_NAMES = {"系统管理员": Role.ADMIN, "管理员": Role.ADMIN, "督导办": Role.OFFICE,
              "整改办": Role.OFFICE, "督学": Role.SUPERVISOR, "督导人员": Role.SUPERVISOR,
              "单位用户": Role.UNIT_USER, "责任单位经办人": Role.UNIT_USER,
              "经办人": Role.UNIT_USER}
YES = {"", "是", "y", "yes", "1", "true", "启用", "active"}
NO = {"否", "n", "no", "0", "false", "停用", "inactive"}
KIND_TEXT = {UnitKind.PROVINCE: "省", UnitKind.CITY: "市", UnitKind.COUNTY: "县",
             UnitKind.TOWNSHIP: "乡镇", UnitKind.SCHOOL: "学校", UnitKind.DEPARTMENT: "部门",
             UnitKind.OFFICE: "督导办"}
ROLE_TEXT = {Role.ADMIN: "系统管理员", Role.OFFICE: "督导办", Role.SUPERVISOR: "督学",
             Role.UNIT_USER: "单位用户"}


def _require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden(_("Only an administrator imports units and users."))


def _flag(value: Any) -> bool | None:
    raw = sheets.text(value).lower()
    if raw in YES:
        return True
    if raw in NO:
        return False
    return None


@dataclass
class UnitRow:
    row: int
    code: str
    name: str
    kind: UnitKind | None
    parent_code: str
    active: bool
    existing: Unit | None = None
    outcome: str | None = None
    changes: tuple[str, ...] = ()


@dataclass
class UserRow:
    row: int
    username: str
    full_name: str
    role: Role | None
    unit_code: str
    scope_code: str
    email: str
    phone: str
    active: bool
    existing: User | None = None
    outcome: str | None = None
    changes: tuple[str, ...] = ()


@dataclass
class ImportPreview:
    kind: str  # "units" or "users"
    rows: list
    problems: sheets.Problems
    one_time_passwords: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)

    @property
    def counts(self) -> dict[str, int]:
        return {name: sum(1 for r in self.rows if r.outcome == name)
                for name in ("created", "updated", "unchanged")}


# --- units ------------------------------------------------------------------------------

def preview_units(actor: User, data: bytes, filename: str,
                  progress: Callable[[int], None] | None = None) -> ImportPreview:
    _require_admin(actor)
    table = sheets.read_table(data, filename, UNIT_COLUMNS, progress)
    problems = sheets.Problems()
    rows: list[UnitRow] = []
    by_code: dict[str, UnitRow] = {}
    for row, values in table.rows:
        code, name = sheets.text(values.get("code")), sheets.text(values.get("name"))
        kind_raw = sheets.text(values.get("kind"))
        kind = KIND_NAMES.get(kind_raw) or next(
            (k for k in UnitKind if k.value == kind_raw.lower()), None)
        active = _flag(values.get("active"))
        item = UnitRow(row, code, name, kind, sheets.text(values.get("parent")),
                       active if active is not None else True)
        rows.append(item)
        if not code or len(code) > 64:
            problems.add(row, "code", _("Between 1 and 64 characters."))
        elif code in by_code:
            problems.add(row, "code", _("Code %(code)s is already in row %(row)s.",
                                        code=code, row=by_code[code].row))
        else:
            by_code[code] = item
        if not name or len(name) > 200:
            problems.add(row, "name", _("Between 1 and 200 characters."))
        if kind is None:
            problems.add(row, "kind", _("Not one of the allowed values."))
        if active is None:
            problems.add(row, "active", _("Enter 是 or 否."))
    existing = {u.code: u for u in db.session.scalars(
        select(Unit).where(Unit.code.in_(list(by_code) + [r.parent_code for r in rows
                                                          if r.parent_code])))}
    for item in rows:
        if item.parent_code:
            if item.parent_code == item.code:
                problems.add(item.row, "parent", _("A unit cannot be its own parent."))
            elif item.parent_code not in by_code and item.parent_code not in existing:
                problems.add(item.row, "parent", _("Unknown parent unit “%(code)s”.",
                                                   code=item.parent_code))
    _check_cycles(rows, by_code, existing, problems)
    parent_codes = {u.id: u.code for u in db.session.scalars(select(Unit).where(
        Unit.id.in_([u.parent_id for u in existing.values() if u.parent_id])))}
    if not rows:
        problems.add(0, None, _("The file holds no rows."))
    if not problems:
        for item in rows:
            item.existing = existing.get(item.code)
            if item.existing is None:
                item.outcome = "created"
                continue
            unit = item.existing
            changes = []
            if unit.name != item.name:
                changes.append("name")
            if unit.kind != item.kind:
                changes.append("kind")
            if parent_codes.get(unit.parent_id, "") != item.parent_code:
                changes.append("parent")
            if unit.is_active != item.active:
                changes.append("active")
            item.changes = tuple(changes)
            item.outcome = "updated" if changes else "unchanged"
    return ImportPreview(kind="units", rows=rows, problems=problems)


def _check_cycles(rows, by_code, existing, problems) -> None:
    """A parent chain through the file must end at a root or a unit already in the tree
    (whose own chain the database keeps acyclic)."""
    for item in rows:
        seen, code = {item.code}, item.parent_code
        while code and code in by_code and code not in existing:
            if code in seen:
                problems.add(item.row, "parent", _("The parent units form a loop."))
                break
            seen.add(code)
            code = by_code[code].parent_code


def _ordered(rows: list[UnitRow]) -> list[UnitRow]:
    """Parents before their children."""
    by_code = {r.code: r for r in rows}
    done: set[str] = set()
    ordered: list[UnitRow] = []

    def visit(item: UnitRow) -> None:
        stack = []
        while item is not None and item.code not in done:
            stack.append(item)
            item = by_code.get(item.parent_code)
        for pending in reversed(stack):
            if pending.code not in done:
                done.add(pending.code)
                ordered.append(pending)

    for row in rows:
        visit(row)
    return ordered


def apply_units(actor: User, result: ImportPreview) -> dict[str, int]:
    _require_admin(actor)
    if not result.ok:
        raise ValidationFailed(_("The file has errors; nothing was imported."),
                               {"file": [_("Correct the rows listed and upload again.")]})
    ids: dict[str, int] = {}

    def parent_id(code: str) -> int | None:
        if not code:
            return None
        if code not in ids:
            ids[code] = db.session.scalar(select(Unit.id).where(Unit.code == code))
        return ids[code]

    for item in _ordered(result.rows):
        if item.existing is None:
            unit = units.create_unit(actor, units.UnitDraft(
                code=item.code, name=item.name, kind=item.kind,
                parent_id=parent_id(item.parent_code)))
            if not item.active:
                units.set_unit_active(actor, unit.id, False)
            ids[item.code] = unit.id
            continue
        unit = item.existing
        ids[item.code] = unit.id
        if "name" in item.changes or "kind" in item.changes:
            units.update_unit(actor, unit.id, units.UnitChanges(
                code=unit.code, name=item.name, kind=item.kind, webhook_url=unit.webhook_url))
        if "parent" in item.changes:
            if not item.parent_code:
                raise ValidationFailed(_("Please correct the highlighted fields."), {
                    "parent": [_("Row %(row)s: a unit cannot become a root by import.",
                                 row=item.row)]})
            units.change_parent(actor, unit.id, parent_id(item.parent_code))
        if "active" in item.changes:
            units.set_unit_active(actor, unit.id, item.active)
    return result.counts


# --- users ------------------------------------------------------------------------------

def preview_users(actor: User, data: bytes, filename: str,
                  progress: Callable[[int], None] | None = None) -> ImportPreview:
    _require_admin(actor)
    table = sheets.read_table(data, filename, USER_COLUMNS, progress)
    problems = sheets.Problems()
    rows: list[UserRow] = []
    seen: dict[str, int] = {}
    for row, values in table.rows:
        role_raw = sheets.text(values.get("role"))
        role = ROLE_NAMES.get(role_raw) or next(
            (r for r in Role if r.value == role_raw.lower()), None)
        active = _flag(values.get("active"))
        item = UserRow(row, sheets.text(values.get("username")),
                       sheets.text(values.get("full_name")), role,
                       sheets.text(values.get("unit")), sheets.text(values.get("scope")),
                       sheets.text(values.get("email")), sheets.text(values.get("phone")),
                       active if active is not None else True)
        rows.append(item)
        if not item.username or len(item.username) > 80:
            problems.add(row, "username", _("Between 1 and 80 characters."))
        elif item.username in seen:
            problems.add(row, "username", _("User %(name)s is already in row %(row)s.",
                                            name=item.username, row=seen[item.username]))
        else:
            seen[item.username] = row
        if not item.full_name or len(item.full_name) > 100:
            problems.add(row, "full_name", _("Between 1 and 100 characters."))
        if role is None:
            problems.add(row, "role", _("Not one of the allowed values."))
        if not item.unit_code:
            problems.add(row, "unit", _("This field is required."))
        if role in (Role.OFFICE, Role.SUPERVISOR) and not item.scope_code:
            problems.add(row, "scope", _("Office and supervisor accounts need a scope."))
        if item.email and ("@" not in item.email.strip("@") or len(item.email) > 200
                           or any(ch.isspace() for ch in item.email)):
            problems.add(row, "email", _("Enter a valid e-mail address."))
        if len(item.phone) > 40:
            problems.add(row, "phone", _("At most %(n)s characters.", n=40))
        if active is None:
            problems.add(row, "active", _("Enter 是 or 否."))
    codes = {r.unit_code for r in rows if r.unit_code} | {r.scope_code for r in rows
                                                        if r.scope_code}
    found = {u.code: u for u in db.session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    for item in rows:
        if item.unit_code and item.unit_code not in found:
            problems.add(item.row, "unit", _("Unknown unit “%(code)s”.", code=item.unit_code))
        elif item.unit_code and not found[item.unit_code].is_active:
            problems.add(item.row, "unit", _("Choose an active unit."))
        if item.scope_code and item.scope_code not in found:
            problems.add(item.row, "scope", _("Unknown unit “%(code)s”.",
                                              code=item.scope_code))
    existing = {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_(list(seen))))}
    for item in rows:
        current = existing.get(item.username)
        if current is not None and current.id == actor.id and (
                item.role != Role.ADMIN or not item.active):
            problems.add(item.row, "role", _("You cannot take away your own administrator "
                                             "role."))
    if not rows:
        problems.add(0, None, _("The file holds no rows."))
    if not problems:
        for item in rows:
            item.existing = existing.get(item.username)
            if item.existing is None:
                item.outcome = "created"
                continue
            user = item.existing
            scope_id = found[item.scope_code].id if item.scope_code and item.role in (
                Role.OFFICE, Role.SUPERVISOR) else None
            wanted = {"full_name": item.full_name, "role": item.role,
                      "unit_id": found[item.unit_code].id, "scope_unit_id": scope_id,
                      "email": item.email or None, "phone": item.phone or None}
            changes = [name for name, value in wanted.items() if getattr(user, name) != value]
            if user.is_active_user != item.active:
                changes.append("active")
            item.changes = tuple(changes)
            item.outcome = "updated" if changes else "unchanged"
    return ImportPreview(kind="users", rows=rows, problems=problems)


def apply_users(actor: User, result: ImportPreview) -> dict[str, int]:
    """Also fills `result.one_time_passwords` for the accounts created (shown once)."""
    _require_admin(actor)
    if not result.ok:
        raise ValidationFailed(_("The file has errors; nothing was imported."),
                               {"file": [_("Correct the rows listed and upload again.")]})
    codes = {r.unit_code for r in result.rows} | {r.scope_code for r in result.rows
                                                  if r.scope_code}
    ids = dict(db.session.execute(select(Unit.code, Unit.id).where(Unit.code.in_(codes))).all())
    for item in result.rows:
        scope_id = ids.get(item.scope_code) if item.role in (Role.OFFICE, Role.SUPERVISOR) \
            else None
        if item.existing is None:
            user, one_time = accounts.create_user(actor, accounts.UserDraft(
                username=item.username, full_name=item.full_name, role=item.role,
                unit_id=ids[item.unit_code], scope_unit_id=scope_id,
                email=item.email or None, phone=item.phone or None))
            result.one_time_passwords[item.username] = one_time
            if not item.active:
                accounts.set_active(actor, user.id, False)
            continue
        if set(item.changes) - {"active"}:
            accounts.update_user(actor, item.existing.id, accounts.UserChanges(
                full_name=item.full_name, role=item.role, unit_id=ids[item.unit_code],
                scope_unit_id=scope_id, email=item.email or None, phone=item.phone or None))
        if "active" in item.changes:
            accounts.set_active(actor, item.existing.id, item.active)
    return result.counts


# --- templates and exports --------------------------------------------------------------

def units_workbook(actor: User) -> bytes:
    """The unit tree in the import form (the admin's whole tree, parents first)."""
    _require_admin(actor)
    all_units = db.session.scalars(select(Unit).order_by(Unit.depth, Unit.code)).all()
    codes = {u.id: u.code for u in all_units}
    book = sheets.new_book()
    sheets.write_sheet(book, _("Units"), list(UNIT_COLUMNS), (
        [u.code, u.name, KIND_TEXT[u.kind], codes.get(u.parent_id, ""),
         "是" if u.is_active else "否"] for u in all_units))
    return sheets.workbook_bytes(book)


def users_workbook(actor: User) -> bytes:
    """Every account in the import form (never a password)."""
    _require_admin(actor)
    codes = dict(db.session.execute(select(Unit.id, Unit.code)).all())
    book = sheets.new_book()
    sheets.write_sheet(book, _("Users"), list(USER_COLUMNS), (
        [u.username, u.full_name, ROLE_TEXT[u.role], codes[u.unit_id],
         codes.get(u.scope_unit_id, "") if u.scope_unit_id else "", u.email or "",
         u.phone or "", "是" if u.is_active_user else "否"]
        for u in db.session.scalars(select(User).order_by(User.username))))
    return sheets.workbook_bytes(book)


# --- handing over a leaving user's work -------------------------------------------------

@dataclass
class Handover:
    tickets: int
    notifications: int
    deactivated: bool


def hand_over(actor: User, leaving_id: int, colleague_id: int, *,
              deactivate: bool = True) -> Handover:
    """Give the leaving user's open tickets (those naming them as responsible person) and
    unread notifications to a colleague of the same unit; deactivate the account (an
    administrator's right). Each ticket change is audited."""
    leaving = db.session.get(User, leaving_id)
    colleague = db.session.get(User, colleague_id)
    if leaving is None or not (actor.role == Role.ADMIN or (
            actor.role == Role.OFFICE and scoping.covers_unit(actor, leaving.unit_id))):
        raise Forbidden(_("You may not hand over this user's work."))
    errors = {}
    if colleague is None or not colleague.is_active or colleague.id == leaving.id:
        errors["colleague"] = [_("Choose an active colleague.")]
    elif colleague.unit_id != leaving.unit_id:
        errors["colleague"] = [_("The colleague must work for the same unit.")]
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), errors)
    tickets = db.session.scalars(select(Ticket).where(
        Ticket.lead_unit_id == leaving.unit_id, Ticket.status.in_(OPEN_STATUSES),
        Ticket.responsible_person == leaving.full_name).order_by(Ticket.id)).all()
    for ticket in tickets:
        before = audit.snapshot(ticket)
        ticket.responsible_person = colleague.full_name
        db.session.flush()
        audit.record(actor, "ticket.hand_over", "ticket", ticket.id, ticket_id=ticket.id,
                     before=before, after=audit.snapshot(ticket),
                     note=_("Handed over from %(old)s to %(new)s", old=leaving.full_name,
                            new=colleague.full_name))
    moved = db.session.execute(
        update(Notification).where(Notification.recipient_user_id == leaving.id,
                                   Notification.read_at.is_(None))
        .values(recipient_user_id=colleague.id)).rowcount or 0
    audit.record(actor, "user.hand_over", "user", leaving.id,
                 after={"to_user_id": colleague.id, "tickets": len(tickets),
                        "notifications": moved})
    deactivated = False
    if deactivate and actor.role == Role.ADMIN and leaving.is_active_user:
        accounts.set_active(actor, leaving.id, False)
        deactivated = True
    return Handover(tickets=len(tickets), notifications=moved, deactivated=deactivated)
