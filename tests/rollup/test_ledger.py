"""The ledger (整改台账) in Excel: one row per ticket of the filter, in the caller's scope,
with real dates, neutralised formulas, frozen header, filters and a roll-up sheet."""
import io

from openpyxl import load_workbook

from tracker.extensions import db
from tracker.models import Ticket
from tracker.services import ledger, rollup, ticket_queries as tq
from tests.factories import TODAY
from tests.rollup.builders import Spec, make_findings, spread


def workbook(response):
    """The downloaded workbook; the response is closed (a WSGI server does that)."""
    try:
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert response.mimetype.endswith("spreadsheetml.sheet")
        return load_workbook(io.BytesIO(response.data))
    finally:
        response.close()


def ids_of(sheet):
    return sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True))


def test_office_ledger_has_one_row_per_ticket_with_id_and_version(world, login):
    book = workbook(login("office").get("/exports/ledger.xlsx"))
    sheet = book.worksheets[0]
    assert ids_of(sheet) == sorted([world.t1.id, world.t2.id])
    header = [c.value for c in sheet[1]]
    assert len(header) == len(ledger.COLUMNS)
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == world.t1.id)
    assert row[1].value == world.t1.version
    deadline = row[ledger.COLUMN_KEYS.index("deadline")]
    assert deadline.is_date and deadline.value.date() == world.t1.deadline
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref.startswith("A1:")


def test_unit_users_ledger_holds_only_their_own_tickets(world, login):
    sheet = workbook(login("unit_k2").get("/exports/ledger.xlsx")).worksheets[0]
    assert ids_of(sheet) == [world.t2.id]


def test_ledger_follows_the_ticket_list_filter(world, login):
    findings = make_findings(world, 3)
    made = spread(world, findings, [Spec(1, 0, "in_progress", -3, None),
                                    Spec(2, 2, "closed", 3, None)])
    db.session.commit()
    sheet = workbook(login("office").get("/exports/ledger.xlsx?overdue=1")).worksheets[0]
    assert ids_of(sheet) == [made[0].id]
    sheet = workbook(login("office").get(
        "/exports/ledger.xlsx?status=closed&year=2025")).worksheets[0]
    expected = tq.count(world.office, tq.TicketFilter(statuses=("closed",), year=2025), TODAY, 7)
    assert len(ids_of(sheet)) == expected


def test_formula_like_text_is_neutralised(world, login):
    ticket = db.session.get(Ticket, world.t1.id)
    ticket.measures = "=HYPERLINK(\"http://x\",\"点我\")"
    ticket.responsible_person = "\t@SUM(1)"
    db.session.commit()
    sheet = workbook(login("office").get("/exports/ledger.xlsx")).worksheets[0]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == world.t1.id)
    measures = row[ledger.COLUMN_KEYS.index("measures")]
    person = row[ledger.COLUMN_KEYS.index("responsible_person")]
    assert measures.data_type == "s" and measures.value.startswith("'=")
    assert person.value.startswith("'\t")


def test_second_sheet_holds_the_rollup_of_the_same_scope(world, login, app):
    book = workbook(login("office").get("/exports/ledger.xlsx"))
    assert len(book.worksheets) == 2
    values = [v for row in book.worksheets[1].iter_rows(values_only=True) for v in row if v]
    with app.test_request_context():
        s = rollup.summarize(world.office, rollup.Scope(), TODAY, group_by="unit")
        assert rollup.findings_sentence(s.findings, s.cut) in values


def test_bad_filter_is_a_clear_error_not_a_fault(world, login):
    response = login("office").get("/exports/ledger.xlsx?overdue=maybe")
    response.close()
    assert response.status_code == 422
