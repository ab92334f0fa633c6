"""Units and users in bulk: preview, all or nothing, idempotent; handing over a leaving
user's open work."""
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import AuditEvent, Role, Ticket, Unit, UnitClosure, User
from tracker.services import units_import
from tracker.services.errors import Forbidden, ValidationFailed
from tests import factories


def xlsx(header, rows):
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


UNITS = xlsx(["单位代码", "单位名称", "单位类型", "上级单位代码", "是否启用"], [
    ["620102001", "城关区第一小学", "学校", "620102", "是"],
    ["620102-JY", "城关区教育局", "部门", "620102", ""],
    ["620103", "七里河区", "县", "6201", "是"],
    ["620103001", "七里河区实验中学", "学校", "620103", "是"],  # parent defined above
    ["6201", "兰州市", "市", "62", "是"],  # exists: unchanged
])


def counts():
    return (db.session.scalar(select(func.count(Unit.id))),
            db.session.scalar(select(func.count(User.id))),
            db.session.scalar(select(func.count(AuditEvent.id))))


def test_unit_tree_import_creates_new_units_under_their_parents_then_changes_nothing(world):
    preview = units_import.preview_units(world.admin, UNITS, "units.xlsx")
    assert preview.ok, preview.problems.items
    assert preview.counts == {"created": 4, "updated": 0, "unchanged": 1}
    units_import.apply_units(world.admin, preview)
    db.session.commit()
    school = db.session.scalar(select(Unit).where(Unit.code == "620103001"))
    assert school.parent.code == "620103" and school.depth == 3
    assert db.session.get(UnitClosure, (world.p.id, school.id)).depth == 3
    before = counts()
    again = units_import.preview_units(world.admin, UNITS, "units.xlsx")
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 5}
    units_import.apply_units(world.admin, again)
    db.session.commit()
    assert counts() == before


def test_renames_moves_and_deactivations_are_updates(world):
    data = xlsx(["单位代码", "单位名称", "单位类型", "上级单位代码", "是否启用"], [
        ["620102", "城关区（更名）", "县", "6229", "否"]])
    preview = units_import.preview_units(world.admin, data, "u.xlsx")
    assert preview.rows[0].outcome == "updated"
    assert set(preview.rows[0].changes) == {"name", "parent", "active"}
    units_import.apply_units(world.admin, preview)
    db.session.commit()
    k1 = db.session.get(Unit, world.k1.id)
    assert (k1.name, k1.parent_id, k1.is_active) == ("城关区（更名）", world.c2.id, False)


def test_bad_unit_rows_are_named_and_nothing_is_written(world):
    data = xlsx(["单位代码", "单位名称", "单位类型", "上级单位代码"], [
        ["A1", "", "学校", "62"], ["A2", "学校二", "大学", "62"], ["A3", "学校三", "学校", "无此单位"],
        ["A4", "学校四", "学校", "A5"], ["A5", "学校五", "学校", "A4"], ["A1", "重复", "学校", "62"]])
    before = counts()
    preview = units_import.preview_units(world.admin, data, "u.xlsx")
    found = {(e.row, e.column) for e in preview.problems.items}
    assert {(2, "name"), (3, "kind"), (4, "parent"), (5, "parent"), (7, "code")} <= found
    with pytest.raises(ValidationFailed):
        units_import.apply_units(world.admin, preview)
    assert counts() == before


def test_users_import_creates_accounts_with_one_time_passwords_and_is_idempotent(world):
    data = xlsx(["用户名", "姓名", "角色", "单位代码", "管辖单位代码", "电子邮箱"], [
        ["wang", "王老师", "单位用户", "620102", "", "wang@example.cn"],
        ["zhao", "赵督学", "督学", "6201-DD", "6201", ""],
        ["unit_k1", "unit_k1", "单位用户", "620102", "", ""],  # exists, unchanged
    ])
    preview = units_import.preview_users(world.admin, data, "users.xlsx")
    assert preview.counts == {"created": 2, "updated": 0, "unchanged": 1}
    units_import.apply_users(world.admin, preview)
    db.session.commit()
    assert set(preview.one_time_passwords) == {"wang", "zhao"}
    zhao = db.session.scalar(select(User).where(User.username == "zhao"))
    assert zhao.role == Role.SUPERVISOR and zhao.scope_unit_id == world.c1.id
    assert zhao.must_change_password
    again = units_import.preview_users(world.admin, data, "users.xlsx")
    assert again.counts["unchanged"] == 3


def test_users_file_with_errors_names_row_and_column(world):
    data = xlsx(["用户名", "姓名", "角色", "单位代码", "管辖单位代码", "电子邮箱"], [
        ["a", "甲", "校长", "620102", "", ""], ["b", "乙", "督学", "620102", "", ""],
        ["c", "丙", "单位用户", "nowhere", "", "not-an-email"]])
    preview = units_import.preview_users(world.admin, data, "users.xlsx")
    found = {(e.row, e.column) for e in preview.problems.items}
    assert {(2, "role"), (3, "scope"), (4, "unit"), (4, "email")} <= found


def test_only_an_administrator_imports_units(world):
    with pytest.raises(Forbidden):
        units_import.preview_units(world.office, UNITS, "units.xlsx")


def test_leaving_users_open_tickets_and_notifications_go_to_a_colleague(world):
    colleague = factories.user("k1_new", Role.UNIT_USER, world.k1)
    ticket = db.session.get(Ticket, world.t1.id)
    ticket.responsible_person = world.unit_k1.full_name
    db.session.commit()
    result = units_import.hand_over(world.admin, world.unit_k1.id, colleague.id)
    db.session.commit()
    assert result.tickets == 1 and result.deactivated
    assert db.session.get(Ticket, world.t1.id).responsible_person == "k1_new"
    assert not db.session.get(User, world.unit_k1.id).is_active_user
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "ticket.hand_over", AuditEvent.ticket_id == world.t1.id))


def test_hand_over_to_another_units_user_is_refused(world):
    with pytest.raises(ValidationFailed) as error:
        units_import.hand_over(world.admin, world.unit_k1.id, world.unit_k2.id)
    assert "colleague" in error.value.fields


def token_of(html: str) -> str:
    return html.split('name="token"')[1].split('value="')[1].split('"')[0]


def test_web_users_import_shows_the_one_time_passwords_once(world, login):
    data = xlsx(["用户名", "姓名", "角色", "单位代码"], [["li", "李老师", "单位用户", "620102"]])
    client = login("admin")
    response = client.post("/exports/units", data={
        "kind": "users", "file": (io.BytesIO(data), "users.xlsx")},
        content_type="multipart/form-data")
    assert response.status_code == 200
    response = client.post("/exports/units/confirm", data={
        "token": token_of(response.get_data(as_text=True)), "kind": "users"})
    assert response.status_code == 200 and "<code>" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "li")).must_change_password


def test_confirming_with_a_foreign_or_stale_token_writes_nothing(world, login):
    before = counts()
    response = login("admin").post("/exports/units/confirm", data={
        "token": "A" * 32, "kind": "units"})
    assert response.status_code == 302
    assert counts() == before
