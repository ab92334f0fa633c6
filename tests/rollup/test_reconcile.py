"""Reconciling a returned ledger: exactly the edited rows are applied, as progress by the
office on the unit's behalf; rows whose ticket changed since the export are conflicts."""
import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import AuditEvent, ProgressUpdate, Ticket
from tracker.services import ledger, reconcile, ticket_queries as tq, workflow
from tests.factories import TODAY
from tests.rollup.builders import Spec, make_findings, spread


def exported(user):
    out, _count = ledger.export(user, tq.TicketFilter(), today=TODAY, days=7)
    with out:
        return load_workbook(io.BytesIO(out.read()))


def edit(book, ticket_id, **values):
    sheet = book.worksheets[0]
    keys = ledger.COLUMN_KEYS
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == ticket_id:
            for key, value in values.items():
                row[keys.index(key)].value = value
            return
    raise AssertionError(f"ticket {ticket_id} not in the ledger")


def saved(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def counts():
    return (db.session.scalar(select(func.count(ProgressUpdate.id))),
            db.session.scalar(select(func.count(AuditEvent.id))))


def test_exported_edited_reconciled_ledger_applies_exactly_the_edited_rows(world):
    findings = make_findings(world, 3)
    spread(world, findings, [Spec(1, 0, "in_progress", 10, None),
                             Spec(2, 2, "in_progress", 10, None)])
    db.session.commit()
    book = exported(world.office)
    edit(book, world.t1.id, latest_progress="已制定方案。\n已拨付经费1200万元。",
         progress_percent=40, planned_completion_on=date(2027, 3, 31))
    before_versions = {t.id: t.version for t in db.session.scalars(select(Ticket))}
    result = reconcile.review(world.office, saved(book), "back.xlsx")
    assert result.ok
    assert [r.ticket_id for r in result.of("apply")] == [world.t1.id]
    assert len(result.of("unchanged")) == len(result.rows) - 1
    assert reconcile.apply(world.office, result) == 1
    db.session.commit()
    t1 = db.session.get(Ticket, world.t1.id)
    assert (t1.progress_percent, t1.planned_completion_on) == (40, date(2027, 3, 31))
    update = db.session.scalars(select(ProgressUpdate).where(
        ProgressUpdate.ticket_id == t1.id)).one()
    assert update.text == "已制定方案。\n已拨付经费1200万元。"
    assert (update.author_id, update.unit_id) == (world.office.id, world.k1.id)
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.ticket_id == t1.id).order_by(AuditEvent.id.desc())).first()
    assert event.action == "ticket.progress_on_behalf" and event.actor_id == world.office.id
    for ticket in db.session.scalars(select(Ticket).where(Ticket.id != t1.id)):
        assert ticket.version == before_versions[ticket.id]


def test_row_whose_ticket_changed_since_export_is_a_conflict_and_not_applied(world):
    book = exported(world.office)
    edit(book, world.t2.id, latest_progress="单位离线填报的进展", progress_percent=50)
    edit(book, world.t1.id, progress_percent=30)
    workflow.acknowledge(world.unit_k2, world.t2.id, world.t2.version)  # changed meanwhile
    db.session.commit()
    result = reconcile.review(world.office, saved(book), "back.xlsx")
    [conflict] = result.of("conflict")
    assert conflict.ticket_id == world.t2.id
    assert conflict.sheet.text == "单位离线填报的进展" and conflict.system.percent == 0
    assert [r.ticket_id for r in result.of("apply")] == [world.t1.id]
    version = db.session.get(Ticket, world.t2.id).version
    reconcile.apply(world.office, result)
    db.session.commit()
    assert db.session.get(Ticket, world.t2.id).version == version
    assert db.session.get(Ticket, world.t2.id).progress_percent == 0
    assert db.session.get(Ticket, world.t1.id).progress_percent == 30


def test_bad_rows_block_the_whole_file_and_are_named(world, login):
    book = exported(world.office)
    edit(book, world.t1.id, progress_percent=150)
    edit(book, world.t2.id, planned_completion_on="下个月")
    before = counts()
    result = reconcile.review(world.office, saved(book), "back.xlsx")
    assert {(e.column) for e in result.problems.items} == {"progress_percent",
                                                           "planned_completion_on"}
    client = login("office")
    response = client.post("/exports/reconcile", data={
        "file": (io.BytesIO(saved(book)), "back.xlsx")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert counts() == before


def test_ticket_outside_the_offices_scope_is_unknown(world):
    book = exported(world.office)
    edit(book, world.t2.id, progress_percent=10)
    result = reconcile.review(world.city_office, saved(book), "back.xlsx")
    assert any(e.column == "ticket_id" for e in result.problems.items)


def test_web_reconciliation_reviews_then_applies(world, login):
    book = exported(world.office)
    edit(book, world.t1.id, latest_progress="进展：已完成80%", progress_percent=80)
    client = login("office")
    response = client.post("/exports/reconcile", data={
        "file": (io.BytesIO(saved(book)), "back.xlsx")}, content_type="multipart/form-data")
    assert response.status_code == 200
    token = response.get_data(as_text=True).split('name="token"')[1].split('value="')[1] \
        .split('"')[0]
    assert client.post("/exports/reconcile/confirm", data={"token": token}).status_code == 302
    assert db.session.get(Ticket, world.t1.id).progress_percent == 80
