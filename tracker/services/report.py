"""The Word report (整改情况报告) in the style of the seeds.

For a scope (one inspection, a year, a unit subtree, …): a title, the opening paragraph
with the totals ("……反馈问题N个，已整改完成X个，计划年底前完成Y个，计划明年…完成Z个"),
per inspection one numbered paragraph per finding ("一是针对“……”的问题，……") with its
measures, the latest progress the units reported and its figures, then the ledger table.

Every number comes from `rollup.summarize`, so the report agrees with the dashboard and
GET /api/v1/summary for the same scope. Fonts follow official documents (GB/T 9704): title
方正小标宋简体, headings 黑体 and 楷体_GB2312, body 仿宋_GB2312, set for East Asian text
(w:eastAsia); the font table names a fallback (宋体, 楷体, 仿宋) that Word and WPS both have.
"""
import io
from dataclasses import dataclass
from datetime import date

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt
from flask_babel import get_locale, gettext as _
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import aliased, joinedload

from tracker.extensions import db
from tracker.models import (
    Finding,
    Inspection,
    ProgressUpdate,
    Role,
    Ticket,
    TicketStatus,
    Unit,
    User,
)
from tracker.services import clock, ledger, rollup, scoping, ticket_queries

TITLE_FONT = "方正小标宋简体"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
BODY_FONT = "仿宋_GB2312"
LATIN_FONT = "Times New Roman"
#: What Word and WPS use when the official font is not installed.
FALLBACKS = {TITLE_FONT: "宋体", SUBHEADING_FONT: "楷体", BODY_FONT: "仿宋", HEADING_FONT: "SimHei"}
#: Chinese font sizes: 二号 22pt, 三号 16pt, 小四 12pt, 五号 10.5pt.
TITLE_SIZE, BODY_SIZE, TABLE_SIZE = Pt(22), Pt(16), Pt(10.5)
#: A Word table of a province's whole ledger would be unreadable: the Excel ledger has all.
MAX_TABLE_ROWS = 2000

DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 23 → 二十三, 99 → 九十九; larger numbers stay in digits."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    text = ("" if tens < 2 else DIGITS[tens]) + ("十" if tens else "")
    return text + (DIGITS[ones] if ones else "")


# --- fonts ------------------------------------------------------------------------------

def set_run_font(run, east_asia: str, size=None, bold: bool | None = None) -> None:
    run.font.name = LATIN_FONT
    if size is not None:
        run.font.size = size
    if bold is not None:
        run.font.bold = bold
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)


def _style_font(style, east_asia: str, size) -> None:
    style.font.name = LATIN_FONT
    style.font.size = size
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asia)


def _register_fallbacks(document) -> None:
    """Name each official font in the font table with an alternative (w:altName)."""
    part = document.part.part_related_by(RT.FONT_TABLE)
    root = etree.fromstring(part.blob)
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    present = {el.get(f"{{{w}}}name") for el in root.findall(f"{{{w}}}font")}
    for name, alt in FALLBACKS.items():
        if name in present:
            continue
        font = etree.SubElement(root, f"{{{w}}}font")
        font.set(f"{{{w}}}name", name)
        etree.SubElement(font, f"{{{w}}}altName").set(f"{{{w}}}val", alt)
        etree.SubElement(font, f"{{{w}}}charset").set(f"{{{w}}}val", "86")  # GB2312
        etree.SubElement(font, f"{{{w}}}family").set(f"{{{w}}}val", "modern")
        etree.SubElement(font, f"{{{w}}}pitch").set(f"{{{w}}}val", "fixed")
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _paragraph(document, text: str, *, font=BODY_FONT, size=BODY_SIZE, bold=False,
               align=None, indent=True):
    paragraph = document.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(28) if size == BODY_SIZE else Pt(size.pt * 1.5)
    fmt.space_before = fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(size.pt * 2)  # two characters
    if align is not None:
        paragraph.alignment = align
    set_run_font(paragraph.add_run(text), font, size, bold)
    return paragraph


def _new_document():
    document = Document()
    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.orientation = WD_ORIENT.PORTRAIT
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    _style_font(document.styles["Normal"], BODY_FONT, BODY_SIZE)
    _register_fallbacks(document)
    return document


# --- the content ------------------------------------------------------------------------

@dataclass
class FindingText:
    finding: Finding
    measures: list[tuple[str, str]]  # (lead unit, measures)
    latest: tuple[str, date, str] | None  # (unit, date, text)


def _finding_texts(user: User, scope: rollup.Scope, inspection_ids: list[int]
                   ) -> dict[int, list[FindingText]]:
    """Measures and latest progress per finding of the inspections, from the tickets the
    user may see inside the scope (text only: the figures come from the roll-up), by
    inspection. Two statements whatever the number of inspections, findings and tickets."""
    if not inspection_ids:
        return {}
    flt = ticket_filter(scope)
    ticket_ids = select(Ticket.id).where(
        Ticket.id.in_(ticket_queries.filtered(user, flt, clock.today(), 0)
                      .with_only_columns(Ticket.id)),
        Ticket.status != TicketStatus.CANCELLED)
    latest_ids = ledger.latest_progress_ids(ticket_ids)
    latest = aliased(ProgressUpdate, name="latest_progress")
    lead, reporter = aliased(Unit, name="lead_unit"), aliased(Unit, name="reporting_unit")
    tickets = db.session.execute(
        select(Ticket.id, Ticket.finding_id, Ticket.measures, lead.name,
               latest.text.label("latest_text"), latest.created_at.label("latest_at"),
               latest.id.label("latest_id"), reporter.name.label("reporter"))
        .join(lead, lead.id == Ticket.lead_unit_id)
        .outerjoin(latest_ids, latest_ids.c.ticket_id == Ticket.id)
        .outerjoin(latest, latest.id == latest_ids.c.update_id)
        .outerjoin(reporter, reporter.id == latest.unit_id)
        .where(Ticket.id.in_(ticket_ids)).order_by(lead.code, Ticket.id)).all()
    # The finding's latest progress: the most recent of its tickets' latest updates.
    newest: dict[int, tuple] = {}
    measures: dict[int, list[tuple[str, str]]] = {}
    for t in tickets:
        if t.latest_id is not None:
            mark = (t.latest_at, t.latest_id)
            if t.finding_id not in newest or mark > newest[t.finding_id][0]:
                newest[t.finding_id] = (mark, (t.reporter, clock.local_date(t.latest_at),
                                               t.latest_text))
        if t.measures and t.measures.strip():
            measures.setdefault(t.finding_id, []).append((t.name, t.measures.strip()))
    findings = db.session.scalars(scoping.findings(user).where(
        Finding.inspection_id.in_(inspection_ids)).options(joinedload(Finding.inspection))
        .order_by(Finding.inspection_id, Finding.number)).all()
    texts: dict[int, list[FindingText]] = {i: [] for i in inspection_ids}
    for f in findings:
        latest_of = newest.get(f.id)
        texts[f.inspection_id].append(FindingText(f, measures.get(f.id, []),
                                                  latest_of[1] if latest_of else None))
    return texts


def _sentence_end(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith(("。", "！", "？", ".", "；")) else text + "。"


def finding_paragraph(index: int, text: FindingText, group: rollup.Group | None) -> str:
    parts = [_("%(ordinal)s, on the problem “%(title)s”, ",
               ordinal=ordinal(index), title=text.finding.title)]
    if len(text.measures) == 1:
        parts.append(_sentence_end(text.measures[0][1]))
    elif text.measures:
        parts.append(_sentence_end("；".join(f"{unit}：{m.rstrip('。；;')}"
                                            for unit, m in text.measures)))
    else:
        parts.append(_("measures are being drawn up."))
    if text.latest is not None:
        unit, day, progress = text.latest
        parts.append(_("As of %(day)s, %(unit)s reported: %(text)s",
                       day=_day(day), unit=unit, text=_sentence_end(progress)))
    if group is not None:
        t = group.tickets
        if group.findings.rectified:
            parts.append(_("All %(n)s rectification tasks are completed.", n=t.closed))
        elif t.overdue:
            parts.append(_("Of %(n)s rectification tasks, %(closed)s are completed and "
                           "%(open)s in progress (%(overdue)s overdue).",
                           n=t.total - t.cancelled, closed=t.closed, open=t.open,
                           overdue=t.overdue))
        else:
            parts.append(_("Of %(n)s rectification tasks, %(closed)s are completed and "
                           "%(open)s in progress.",
                           n=t.total - t.cancelled, closed=t.closed, open=t.open))
    return "".join(parts)


def ordinal(index: int) -> str:
    """一是, 二是, … in Chinese; Item 1, Item 2, … otherwise."""
    chinese = str(get_locale() or "zh").startswith("zh")
    return _("Item %(n)s", n=cn_number(index) if chinese else index)


def _day(day: date) -> str:
    return _("%(year)s-%(month)s-%(day)s", year=day.year, month=day.month, day=day.day)


def ticket_filter(scope: rollup.Scope) -> ticket_queries.TicketFilter:
    return ticket_queries.TicketFilter(
        unit_id=scope.unit_id, lead_unit_id=scope.lead_unit_id,
        inspection_id=scope.inspection_id, year=scope.year, category_id=scope.category_id,
        severity=scope.severity.value if scope.severity else None)


def subject(user: User, scope: rollup.Scope) -> str:
    if scope.inspection_id is not None:
        return db.session.get(Inspection, scope.inspection_id).title
    unit_id = scope.unit_id or scope.lead_unit_id or (
        user.scope_unit_id if user.role in (Role.OFFICE, Role.SUPERVISOR) else user.unit_id)
    name = db.session.get(Unit, unit_id).name if unit_id else ""
    if scope.year is not None:
        return _("%(unit)s, inspections of %(year)s", unit=name, year=scope.year)
    return name


def _inspection_intro(inspection: Inspection) -> str:
    if inspection.document_number:
        return _("%(body)s fed back the problems of “%(title)s” (%(doc)s); we rectified them "
                 "item by item. ", body=inspection.inspecting_body, title=inspection.title,
                 doc=inspection.document_number)
    return _("%(body)s fed back the problems of “%(title)s”; we rectified them item by "
             "item. ", body=inspection.inspecting_body, title=inspection.title)


def _ledger_table(document, user: User, scope: rollup.Scope, today: date, days: int) -> None:
    headers = [_("No."), _("Problem"), _("Lead unit"), _("Measures"), _("Deadline"),
               _("Status"), _("Progress (%)"), _("Latest progress")]
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers):
        set_run_font(cell.paragraphs[0].add_run(text), HEADING_FONT, TABLE_SIZE)
        cell._tc.get_or_add_tcPr().append(parse_xml(
            f'<w:shd {nsdecls("w")} w:val="clear" w:color="auto" w:fill="D9D9D9"/>'))
    shown = 0
    more = 0
    for row in ledger.rows(user, ticket_filter(scope), today, days):
        if shown >= MAX_TABLE_ROWS:
            more += 1
            continue
        shown += 1
        values = [f"{row.finding_number}", row.finding_title, row.lead_unit, row.measures,
                  row.deadline.isoformat(), row.status, f"{row.progress_percent}",
                  row.latest_progress]
        cells = table.add_row().cells
        for cell, text in zip(cells, values):
            set_run_font(cell.paragraphs[0].add_run(text), BODY_FONT, TABLE_SIZE)
    if more:
        _paragraph(document, _("%(n)s further tickets are listed in the Excel ledger.", n=more),
                   size=TABLE_SIZE)


def build(user: User, scope: rollup.Scope, *, today: date | None = None,
          days: int | None = None) -> bytes:
    """The report as .docx bytes."""
    today = today or clock.today()
    days = rollup.near_days() if days is None else days
    # The counts of every inspection and every finding in one statement; names come from
    # the findings and inspections loaded with the texts below.
    summaries = rollup.summarize_many(user, scope, today, ("inspection", "finding"),
                                      days=days, labels=False)
    overall, per_finding = summaries["inspection"], summaries["finding"]
    by_finding = {g.key: g for g in per_finding.groups}
    texts = _finding_texts(user, scope, [g.key for g in overall.groups])
    document = _new_document()
    _paragraph(document, _("Report on the rectification of the problems fed back: %(subject)s",
                           subject=subject(user, scope)),
               font=TITLE_FONT, size=TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _paragraph(document, _("(as of %(day)s)", day=_day(today)), font=SUBHEADING_FONT,
               align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _paragraph(document, _("1. Rectification of the problems fed back"), font=HEADING_FONT,
               indent=True)
    several = len(overall.groups) > 1
    if several or not overall.groups:
        # The totals of the whole scope first; one inspection says them in its own opening.
        _paragraph(document, rollup.findings_sentence(overall.findings, overall.cut))
    for number, group in enumerate(overall.groups, start=1):
        inspection_texts = texts.get(group.key) or []
        if not inspection_texts:
            continue
        inspection = inspection_texts[0].finding.inspection
        if several:
            _paragraph(document, _("(%(n)s) %(title)s", n=cn_number(number),
                                   title=inspection.title), font=SUBHEADING_FONT)
        # The inspection's own figures: its group of the roll-up by inspection.
        _paragraph(document, _inspection_intro(inspection) + rollup.findings_sentence(
            group.findings, overall.cut))
        body = [finding_paragraph(i, text, by_finding.get(text.finding.id))
                for i, text in enumerate(inspection_texts, start=1)]
        if body:
            _paragraph(document, "".join(body))
    _paragraph(document, _("2. Rectification ledger"), font=HEADING_FONT)
    _ledger_table(document, user, scope, today, days)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def filename(today: date) -> str:
    return _("rectification-report-%(day)s.docx", day=today.isoformat())
