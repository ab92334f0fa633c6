"""The Word report: reopens with python-docx, carries the official East Asian fonts, and
its numbers are those of GET /api/v1/summary for the same scope."""
import io
from datetime import date

from docx import Document
from docx.oxml.ns import qn

from tracker.extensions import db
from tracker.models import ProgressUpdate
from tracker.services import report, rollup
from tests.factories import TODAY
from tests.rollup.builders import Spec, make_findings, spread


def download(client, url):
    response = client.get(url)
    try:
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert response.mimetype.endswith("wordprocessingml.document")
        return Document(io.BytesIO(response.data))
    finally:
        response.close()


def seed(world):
    findings = make_findings(world, 5)
    spread(world, findings, [Spec(1, 0, "closed", 3, None), Spec(2, 1, "in_progress", 5, 400),
                             Spec(3, 2, "long_term", 20, None, long_term=True),
                             Spec(4, 3, "returned", -2, 120)])
    db.session.add(ProgressUpdate(ticket_id=world.t1.id, author_id=world.unit_k1.id,
                                  unit_id=world.k1.id, text="已拨付生均公用经费3200万元。"))
    db.session.commit()
    return findings


def test_report_opens_and_every_run_carries_an_east_asian_font(world, login):
    seed(world)
    document = download(login("office"), "/exports/report.docx")
    runs = [r for p in document.paragraphs for r in p.runs] + [
        r for t in document.tables for row in t.rows for c in row.cells
        for p in c.paragraphs for r in p.runs]
    assert runs
    fonts = {r._element.rPr.rFonts.get(qn("w:eastAsia")) for r in runs}
    assert fonts <= {report.TITLE_FONT, report.HEADING_FONT, report.SUBHEADING_FONT,
                     report.BODY_FONT}
    assert report.TITLE_FONT in fonts and report.BODY_FONT in fonts
    title = document.paragraphs[0].runs[0]
    assert title._element.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"


def test_report_font_table_names_fallbacks_word_and_wps_both_have(world, login):
    document = download(login("office"), "/exports/report.docx")
    table = document.part.part_related_by(
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/fontTable").blob
    text = table.decode("utf-8")
    assert "仿宋_GB2312" in text and 'w:val="仿宋"' in text


def test_report_numbers_match_the_summary_api_for_the_same_scope(world, login, api, app):
    findings = seed(world)
    inspection_id = findings[1].inspection_id
    for query, scope in (("", rollup.Scope()),
                         (f"?inspection={inspection_id}", rollup.Scope(
                             inspection_id=inspection_id))):
        body = api("office").get(f"/api/v1/summary{query}").get_json()
        document = download(login("office"), f"/exports/report.docx{query}")
        with app.test_request_context():
            counts = rollup.FindingCounts(
                found=body["findings"]["found"], rectified=body["findings"]["rectified"],
                in_progress=body["findings"]["in_progress"],
                cancelled=body["findings"]["cancelled"],
                unassigned=body["findings"]["unassigned"],
                planned=dict(body["findings"]["planned"]))
            expected = rollup.findings_sentence(counts, date.fromisoformat(body["next_year_cut"]))
        texts = [p.text for p in document.paragraphs]
        assert any(t.endswith(expected) for t in texts), (query, expected, texts[:5])


def test_report_has_one_numbered_paragraph_per_finding_and_the_ledger_table(world, login, app):
    findings = seed(world)
    document = download(login("office"), f"/exports/report.docx?inspection={world.inspection.id}")
    text = "\n".join(p.text for p in document.paragraphs)
    mine = [f for f in findings if f.inspection_id == world.inspection.id]
    for f in mine:
        assert f"“{f.title}”" in text
    assert "已拨付生均公用经费3200万元" in text
    with app.test_request_context():
        assert report.ordinal(len(mine)) in text
    table = document.tables[0]
    tickets = rollup.summarize(world.office, rollup.Scope(inspection_id=world.inspection.id),
                               TODAY).tickets.total
    assert len(table.rows) == 1 + tickets


def test_unit_users_report_holds_only_their_own_tickets(world, login):
    document = download(login("unit_k2"), "/exports/report.docx")
    assert len(document.tables[0].rows) == 2  # header + t2


def test_chinese_ordinals():
    assert [report.cn_number(n) for n in (1, 9, 10, 11, 20, 23, 99)] == [
        "一", "九", "十", "十一", "二十", "二十三", "九十九"]
