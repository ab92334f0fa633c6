"""The roll-up commands: import-findings with a progress bar, and the daily snapshot."""

from openpyxl import Workbook
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import Finding, RollupSnapshot
from tracker.services import rollup
from tests.factories import TODAY


def test_import_findings_command_imports_and_reports_counts(world, app, tmp_path):
    book = Workbook()
    book.active.append(["序号", "问题", "牵头单位", "整改时限"])
    book.active.append([2, "学生餐饮保障存在问题", "620102", "2026-12-20"])
    path = tmp_path / "list.xlsx"
    book.save(path)
    runner = app.test_cli_runner()
    args = ["import-findings", str(path), "--inspection", str(world.inspection.id),
            "--user", "office"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "1 created" in result.output
    assert db.session.scalar(select(func.count(Finding.id))) == 2
    again = runner.invoke(args=args)
    assert "0 created, 0 updated, 1 unchanged" in again.output


def test_import_findings_command_lists_bad_rows_and_writes_nothing(world, app, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes("序号,问题,牵头单位\n2,,620102\n".encode("gb18030"))
    result = app.test_cli_runner().invoke(args=[
        "import-findings", str(path), "--inspection", str(world.inspection.id),
        "--user", "office"])
    assert result.exit_code != 0
    assert "row 2" in result.output
    assert db.session.scalar(select(func.count(Finding.id))) == 1


def test_snapshot_command_records_each_scope_unit_once_a_day(world, app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["snapshot"]).exit_code == 0
    assert runner.invoke(args=["snapshot"]).exit_code == 0
    rows = db.session.scalars(select(RollupSnapshot)).all()
    units = {r.unit_id for r in rows}
    assert len(rows) == len(units) == len(rollup.snapshot_units())
    p = next(r for r in rows if r.unit_id == world.p.id)
    assert (p.total, p.open) == (2, 2)
    c1 = next(r for r in rows if r.unit_id == world.c1.id)
    assert c1.total == 1 and c1.taken_on == TODAY


def test_snapshot_feeds_the_trend(world, app, login):
    rollup.take_snapshot(TODAY)
    db.session.commit()
    body = login("office").get("/dashboard/data.json").get_json()
    assert body["trend"]["dates"] == [TODAY.isoformat()]
    assert body["trend"]["open"] == [2]
