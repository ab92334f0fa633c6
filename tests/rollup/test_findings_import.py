"""Importing a problem list: preview first, all or nothing, idempotent; the exported list
imported again changes nothing."""
import io
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import AuditEvent, Finding, Ticket
from tracker.services import findings_import, sheets
from tracker.services.errors import Forbidden


def xlsx(rows, header=None):
    book = Workbook()
    sheet = book.active
    sheet.append(header or ["序号", "问题", "问题描述", "问题类别", "严重程度", "牵头单位", "配合单位",
                            "整改措施", "整改时限", "时限类型", "责任人"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def state():
    return (db.session.scalar(select(func.count(Finding.id))),
            db.session.scalar(select(func.count(Ticket.id))),
            db.session.scalar(select(func.count(AuditEvent.id))))


GOOD = [
    [1, "经费投入保障政策未完全落实", "", "经费投入", "一般", "620102", "6201-CZ",
     "一、落实生均公用经费\n二、按季度拨付", date(2026, 12, 31), "限期整改", "张三"],
    [2, "校园安全存在隐患", "部分学校\n安防不达标", "", "严重", "临夏市", "", "完成安防“4个100%”建设",
     "2027年6月30日", "立行立改", ""],
    [2, "校园安全存在隐患", "部分学校\n安防不达标", "", "严重", "兰州市", "", "-按月调度，+专人负责", "2027/3/1",
     "", "李四"],
    [3, "督导职能落实不能适应教育需求", "", "", "", "", "", "", None, "", ""],
]


def test_preview_writes_nothing_and_says_what_would_happen(world):
    before = state()
    result = findings_import.preview(world.office, world.inspection.id, xlsx(GOOD), "list.xlsx")
    assert result.ok, [(e.row, e.column, e.message) for e in result.problems.items]
    assert state() == before
    # Row 2 (problem 1 with K1) exists already as t1 with other measures: updated.
    assert [r.outcome for r in result.rows] == ["updated", "created", "created", "created"]


def test_import_creates_findings_and_tickets_then_reimport_changes_nothing(world):
    result = findings_import.preview(world.office, world.inspection.id, xlsx(GOOD), "l.xlsx")
    counts = findings_import.apply(world.office, result)
    db.session.commit()
    assert counts == {"created": 3, "updated": 1, "unchanged": 0}
    t = db.session.scalars(select(Ticket).where(Ticket.measures == "-按月调度，+专人负责")).one()
    assert t.deadline == date(2027, 3, 1) and t.responsible_person == "李四"
    after = state()
    again = findings_import.preview(world.office, world.inspection.id, xlsx(GOOD), "l.xlsx")
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 4}
    findings_import.apply(world.office, again)
    db.session.commit()
    assert state() == after


def test_exported_problem_list_imported_again_changes_nothing(world):
    result = findings_import.preview(world.office, world.inspection.id, xlsx(GOOD), "l.xlsx")
    findings_import.apply(world.office, result)
    db.session.commit()
    exported = findings_import.export(world.office, world.inspection.id)
    before = state()
    again = findings_import.preview(world.office, world.inspection.id, exported, "x.xlsx")
    assert again.ok, [(e.row, e.column, e.message) for e in again.problems.items]
    assert again.counts["created"] == again.counts["updated"] == 0
    findings_import.apply(world.office, again)
    db.session.commit()
    assert state() == before
    sheet = load_workbook(io.BytesIO(exported)).worksheets[0]
    texts = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "一、落实生均公用经费\n二、按季度拨付" in texts
    assert "'-按月调度，+专人负责" in texts  # neutralised in the sheet, restored on import


def test_csv_in_gb18030_reads_like_excel(world):
    text = "序号,问题,牵头单位,整改时限\n5,\"控辍保学\n工作不到位\",620102,2026-12-01\n"
    result = findings_import.preview(world.office, world.inspection.id,
                                     text.encode("gb18030"), "list.csv")
    assert result.ok and result.rows[0].title == "控辍保学\n工作不到位"


def test_bad_import_writes_nothing_and_names_each_bad_row_and_column(world, login):
    bad = [
        ["x", "标题", "", "", "", "620102", "", "", "2026-12-31", "", ""],  # bad number
        [6, "", "", "", "", "620102", "", "", "2026-12-31", "", ""],  # missing title
        [7, "问题七", "", "无此类别", "", "不存在的单位", "", "", "2026-13-45", "", ""],
        [8, "问题八", "", "", "", "620102", "", "", "2026-12-31", "", ""],
        [8, "问题八", "", "", "", "620102", "", "", "2026-12-31", "", ""],  # duplicate
    ]
    before = state()
    client = login("office")
    response = client.post("/exports/problem-list", data={
        "inspection": str(world.inspection.id),
        "file": (io.BytesIO(xlsx(bad)), "bad.xlsx")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert state() == before
    result = findings_import.preview(world.office, world.inspection.id, xlsx(bad), "b.xlsx")
    found = {(e.row, e.column) for e in result.problems.items}
    assert {(2, "number"), (3, "title"), (4, "category"), (4, "lead_unit"), (4, "deadline"),
            (6, "lead_unit")} <= found
    with pytest.raises(Exception):
        findings_import.apply(world.office, result)
    assert state() == before


def test_web_import_previews_then_confirms_all_at_once(world, login):
    client = login("office")
    response = client.post("/exports/problem-list", data={
        "inspection": str(world.inspection.id),
        "file": (io.BytesIO(xlsx(GOOD)), "good.xlsx")}, content_type="multipart/form-data")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    token = html.split('name="token"')[1].split('value="')[1].split('"')[0]
    before = state()
    response = client.post("/exports/problem-list/confirm", data={
        "token": token, "inspection": str(world.inspection.id)})
    assert response.status_code == 302
    assert state()[0] == before[0] + 2


def test_only_the_owning_office_imports(world):
    with pytest.raises(Forbidden):
        findings_import.preview(world.supervisor, world.inspection.id, xlsx(GOOD), "l.xlsx")


def test_template_has_the_columns_and_reads_back(world):
    data = findings_import.template()
    table = sheets.read_table(data, "t.xlsx", findings_import.COLUMNS)
    assert len(table.rows) == 1 and "title" in table.keys


def test_dates_in_every_common_form():
    for raw in ("2026-12-31", "2026/12/31", "2026.12.31", "2026年12月31日", "20261231",
                date(2026, 12, 31), 46387):
        assert sheets.parse_date(raw) == date(2026, 12, 31), raw
    for raw in ("2026-13-01", "明年", "31/12/2026"):
        with pytest.raises(ValueError):
            sheets.parse_date(raw)


# --- the bulk path (issue 6: 10,000 rows in seconds) -----------------------------------

def many_rows(findings: int) -> list[list]:
    """`findings` new problems, each with a ticket for K1 (D1 cooperating) and one for K2."""
    rows = []
    for n in range(10, 10 + findings):
        rows.append([n, f"问题{n}", "", "", "一般", "620102", "6201-CZ", "措施",
                     date(2027, 6, 30), "限期整改", "王五"])
        rows.append([n, f"问题{n}", "", "", "一般", "临夏市", "", "措施", date(2027, 6, 30),
                     "限期整改", ""])
    return rows


def import_many(world, findings: int) -> list[Ticket]:
    """Import `many_rows(findings)` as the office and commit; the tickets created."""
    result = findings_import.preview(world.office, world.inspection.id,
                                     xlsx(many_rows(findings)), "l.xlsx")
    findings_import.apply(world.office, result)
    db.session.commit()
    return db.session.scalars(select(Ticket).where(Ticket.measures == "措施")).all()


def test_imported_tickets_are_audited_in_an_unbroken_chain(world):
    from tracker.services import audit

    created = import_many(world, 5)
    assert len(created) == 10
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "ticket.create",
        AuditEvent.ticket_id.in_([t.id for t in created]))).all()
    assert sorted(e.ticket_id for e in events) == sorted(t.id for t in created)
    assert all(e.after["status"] == "assigned" and e.actor_id == world.office.id
               for e in events)
    coop = next(e for e in events if e.after["lead_unit_id"] == world.k1.id)
    assert coop.after["cooperating_unit_ids"] == [world.d1.id]
    verification = audit.verify()
    assert verification.ok, verification.problems


def test_imported_tickets_tell_the_lead_and_cooperating_units_once(world):
    from tracker.models import Notification, NotificationKind

    created = import_many(world, 3)
    told = db.session.execute(select(Notification.recipient_user_id, Notification.ticket_id,
                                     Notification.body).where(
        Notification.kind == NotificationKind.ASSIGNED,
        Notification.ticket_id.in_([t.id for t in created]))).all()
    # Each K1 ticket: K1's user and D1's (cooperating); each K2 ticket: K2's user.
    assert sorted((u, t) for u, t, _b in told) == sorted(
        [(world.unit_k1.id, t.id) for t in created if t.lead_unit_id == world.k1.id]
        + [(world.unit_d1.id, t.id) for t in created if t.lead_unit_id == world.k1.id]
        + [(world.unit_k2.id, t.id) for t in created if t.lead_unit_id == world.k2.id])
    assert all("问题" in body for _u, _t, body in told)


def test_import_statements_do_not_grow_with_the_tickets(world):
    """New tickets on problems already imported: scope, audit events and notices are
    written for all of them at once; at most the ticket INSERT itself repeats (on a
    database that cannot return many new ids from one statement)."""
    from sqlalchemy import event

    def statements(findings: int, start: int) -> int:
        k1_rows = [row for row in many_rows(findings) if row[5] == "620102"]
        for row in k1_rows:
            row[0] += start
            row[1] = f"问题{row[0]}"
        first = findings_import.preview(world.office, world.inspection.id, xlsx(k1_rows),
                                        "l.xlsx")
        findings_import.apply(world.office, first)
        db.session.commit()
        k2_rows = [[n, title, "", "", "一般", "临夏市", "", "措施", date(2027, 6, 30),
                    "限期整改", ""] for n, title, *_rest in k1_rows]
        result = findings_import.preview(world.office, world.inspection.id,
                                         xlsx(k1_rows + k2_rows), "l.xlsx")
        assert result.counts["created"] == findings
        count = [0]

        def counter(*_args, **_kwargs):
            count[0] += 1
        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            findings_import.apply(world.office, result)
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
        db.session.commit()
        return count[0]

    small, large = statements(2, 0), statements(20, 100)
    assert large - small <= 18, (small, large)
