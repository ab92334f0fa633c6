"""The rectification ledger (整改台账) as an Excel workbook.

One row per ticket of any ticket-list filter (`ticket_queries.filtered`, hence the caller's
scope), streamed with openpyxl's write-only mode and `yield_per` batches, so that a
100,000-row export keeps memory flat. Each row carries the ticket's id and version: the
office can take the sheet back after units filled in progress (`reconcile`).

Dates are real dates; any text a spreadsheet could take for a formula (= + - @, a leading
tab or carriage return) is neutralised. A second sheet holds the roll-up of the same scope.
"""
import tempfile
from dataclasses import dataclass
from datetime import date
from typing import IO, Callable, Iterator

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from tracker.extensions import db
from tracker.models import (
    Category,
    Evidence,
    EvidenceStatus,
    Finding as FindingModel,
    Inspection as InspectionModel,
    ProgressUpdate,
    Ticket,
    TicketUnit,
    Unit,
    User,
)
from tracker.services import clock, deadlines, rollup, sheets, ticket_queries
from tracker.services.workflow import status_label

BATCH = 1000
Column = sheets.Column
safe_text = sheets.safe_text


def _columns() -> tuple[Column, ...]:
    return (
        Column("ticket_id", "Ticket no.", 9, "int"),
        Column("version", "Version", 6, "int"),
        Column("inspection", "Inspection", 28, "wrap"),
        Column("finding_number", "Problem no.", 8, "int"),
        Column("finding_title", "Problem", 36, "wrap"),
        Column("category", "Category", 12),
        Column("lead_unit", "Lead unit", 18, "wrap"),
        Column("cooperating", "Cooperating units", 22, "wrap"),
        Column("responsible_person", "Responsible person", 10),
        Column("measures", "Measures", 48, "wrap"),
        Column("deadline", "Deadline", 12, "date"),
        Column("planned_completion_on", "Planned completion", 12, "date"),
        Column("status", "Status", 10),
        Column("progress_percent", "Progress (%)", 9, "int"),
        Column("latest_progress", "Latest progress", 48, "wrap"),
        Column("latest_progress_on", "Progress date", 12, "date"),
        Column("evidence_count", "Evidence files", 8, "int"),
        Column("overdue", "Overdue", 7),
    )


COLUMNS = _columns()
COLUMN_KEYS = tuple(c.key for c in COLUMNS)


def header(column: Column) -> str:
    return column.header


@dataclass
class LedgerRow:
    ticket_id: int
    version: int
    inspection: str
    finding_number: int
    finding_title: str
    category: str
    lead_unit: str
    cooperating: str
    responsible_person: str
    measures: str
    deadline: date
    planned_completion_on: date | None
    status: str
    progress_percent: int
    latest_progress: str
    latest_progress_on: date | None
    evidence_count: int
    overdue: str


def latest_progress_ids(ticket_ids=None):
    """(ticket_id, id of its latest progress update) as a subquery, optionally only for
    some tickets. Ids grow with time, so the highest is the latest."""
    statement = select(ProgressUpdate.ticket_id.label("ticket_id"),
                       func.max(ProgressUpdate.id).label("update_id"))
    if ticket_ids is not None:
        statement = statement.where(ProgressUpdate.ticket_id.in_(ticket_ids))
    return statement.group_by(ProgressUpdate.ticket_id).subquery("latest_ids")


def ledger_statement(user: User, flt: ticket_queries.TicketFilter, today: date, days: int):
    # Findings and inspections are aliased: the filter's own EXISTS clauses over them must
    # correlate with the ticket only.
    lead = aliased(Unit, name="lead_unit")
    Finding = aliased(FindingModel, name="ledger_finding")
    Inspection = aliased(InspectionModel, name="ledger_inspection")
    statement = ticket_queries.filtered(user, flt, today, days).with_only_columns(
        Ticket.id, Ticket.version, Inspection.title.label("inspection"),
        Finding.number.label("finding_number"), Finding.title.label("finding_title"),
        Category.name.label("category"), lead.name.label("lead_unit"),
        Ticket.responsible_person, Ticket.measures, Ticket.deadline,
        Ticket.planned_completion_on, Ticket.status, Ticket.progress_percent,
        deadlines.overdue(today).label("is_overdue"),
    )
    return (statement.select_from(Ticket)
            .join(Finding, Finding.id == Ticket.finding_id)
            .join(Inspection, Inspection.id == Finding.inspection_id)
            .join(lead, lead.id == Ticket.lead_unit_id)
            .outerjoin(Category, Category.id == Finding.category_id)
            .order_by(Inspection.year.desc(), Inspection.id, Finding.number, lead.code,
                      Ticket.id))


def _cooperating(ticket_ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    for ticket_id, name in db.session.execute(
            select(TicketUnit.ticket_id, Unit.name).join(Unit, Unit.id == TicketUnit.unit_id)
            .where(TicketUnit.ticket_id.in_(ticket_ids)).order_by(Unit.code)):
        names.setdefault(ticket_id, []).append(name)
    return names


def _latest_progress(ticket_ids: list[int]) -> dict[int, tuple[str, object]]:
    """Each ticket's latest progress update (text, written at), for one batch of rows:
    read through the (ticket, created) index, not aggregated over the whole table."""
    latest_ids = latest_progress_ids(ticket_ids)
    return {ticket_id: (text, at) for ticket_id, text, at in db.session.execute(
        select(ProgressUpdate.ticket_id, ProgressUpdate.text, ProgressUpdate.created_at)
        .join(latest_ids, latest_ids.c.update_id == ProgressUpdate.id))}


def _evidence_counts(ticket_ids: list[int]) -> dict[int, int]:
    return dict(db.session.execute(
        select(Evidence.ticket_id, func.count(Evidence.id))
        .where(Evidence.ticket_id.in_(ticket_ids), Evidence.status == EvidenceStatus.ACTIVE)
        .group_by(Evidence.ticket_id)).all())


def rows(user: User, flt: ticket_queries.TicketFilter, today: date, days: int
         ) -> Iterator[LedgerRow]:
    """The ledger's rows, read from the database in batches (never all at once). Only
    columns are selected: no ticket object is built or kept in the session."""
    result = db.session.execute(
        ledger_statement(user, flt, today, days).execution_options(yield_per=BATCH))
    yes, no = _("Yes"), _("No")
    labels: dict[str, str] = {}
    for batch in result.partitions():
        ids = [r.id for r in batch]
        coop = _cooperating(ids)
        evidence = _evidence_counts(ids)
        latest = _latest_progress(ids)
        for r in batch:
            latest_text, latest_at = latest.get(r.id, (None, None))
            if r.status not in labels:
                labels[r.status] = status_label(r.status)
            yield LedgerRow(
                ticket_id=r.id, version=r.version, inspection=r.inspection,
                finding_number=r.finding_number, finding_title=r.finding_title,
                category=r.category or "", lead_unit=r.lead_unit,
                cooperating="、".join(coop.get(r.id, [])),
                responsible_person=r.responsible_person or "", measures=r.measures or "",
                deadline=r.deadline, planned_completion_on=r.planned_completion_on,
                status=labels[r.status], progress_percent=r.progress_percent,
                latest_progress=latest_text or "",
                latest_progress_on=clock.local_date(latest_at) if latest_at else None,
                evidence_count=evidence.get(r.id, 0), overdue=yes if r.is_overdue else no,
            )


def _sheet_rows(user: User, flt: ticket_queries.TicketFilter, today: date, days: int
                ) -> Iterator[list]:
    """The ledger's rows as the sheet takes them, in COLUMNS order: `rows` without a
    LedgerRow per ticket and with text neutralised only where it needs it (100,000 rows
    make every call per row count)."""
    result = db.session.execute(
        ledger_statement(user, flt, today, days).execution_options(yield_per=BATCH))
    yes, no = _("Yes"), _("No")
    labels: dict[str, str] = {}
    local_date = clock.local_date
    starts = sheets.FORMULA_STARTS

    def safe(value):
        return ("'" + value if value.startswith(starts) else value) if value else ""

    for batch in result.partitions():
        ids = [r[0] for r in batch]
        coop = _cooperating(ids)
        evidence = _evidence_counts(ids)
        latest = _latest_progress(ids)
        nothing = (None, None)
        for (ticket_id, version, inspection, number, title, category, lead, person, measures,
             deadline, planned, status, percent, is_overdue) in batch:
            latest_text, latest_at = latest.get(ticket_id, nothing)
            label = labels.get(status)
            if label is None:
                label = labels[status] = status_label(status)
            names = coop.get(ticket_id)
            yield [ticket_id, version, safe(inspection), number, safe(title), safe(category),
                   safe(lead), safe("、".join(names)) if names else "", safe(person),
                   safe(measures), deadline, planned, label, percent, safe(latest_text),
                   local_date(latest_at) if latest_at else None, evidence.get(ticket_id, 0),
                   yes if is_overdue else no]


def _styled(sheet, value, *, kind="text", bold=False, fill=None, wrap=False):
    return sheets.cell(sheet, value, kind="wrap" if wrap else kind, bold=bold, fill=fill)


def _prepare(sheet, columns, frozen="A2") -> None:
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = frozen


def write_ledger(out: IO[bytes], user: User, flt: ticket_queries.TicketFilter,
                 summary: rollup.Summary, *, today: date, days: int,
                 progress: Callable[[int], None] | None = None) -> int:
    """Write the workbook to `out`; returns the number of ticket rows."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Rectification ledger"))
    _prepare(sheet, COLUMNS)
    sheet.append([_styled(sheet, header(c), bold=True, fill="DDEBF7", wrap=True)
                  for c in COLUMNS])
    count = 0
    append = sheet.append
    for values in _sheet_rows(user, flt, today, days):
        # Plain values: openpyxl gives dates a date format itself, and a styled cell per
        # value would cost several times the time of the whole export.
        append(values)
        count += 1
        if progress and count % BATCH == 0:
            progress(count)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{count + 1}"
    _write_rollup(book, summary)
    book.save(out)
    return count


ROLLUP_COLUMNS = (
    Column("label", "Lead unit", 24, "wrap"),
    Column("total", "Tickets", 8, "int"),
    Column("open", "Open", 8, "int"),
    Column("overdue", "Overdue", 8, "int"),
    Column("near_due", "Near due", 8, "int"),
    Column("waiting", "Awaiting decision", 10, "int"),
    Column("closed", "Closed", 8, "int"),
    Column("closed_late", "Closed late", 8, "int"),
    Column("completion_rate", "Completion rate (%)", 10),
    Column("found", "Problems", 8, "int"),
    Column("rectified", "Rectified", 8, "int"),
)


def _rollup_values(label: str, t: rollup.TicketCounts, f: rollup.FindingCounts) -> list:
    return [label, t.total, t.open, t.overdue, t.near_due, t.waiting, t.closed, t.closed_late,
            t.completion_rate if t.completion_rate is not None else "", f.found, f.rectified]


def _write_rollup(book: Workbook, summary: rollup.Summary) -> None:
    sheet = book.create_sheet(_("Roll-up"))
    _prepare(sheet, ROLLUP_COLUMNS, frozen="A4")
    sheet.append([_styled(sheet, rollup.findings_sentence(summary.findings, summary.cut))])
    sheet.append([_styled(sheet, _("As of %(day)s", day=summary.today.isoformat()))])
    sheet.append([_styled(sheet, header(c), bold=True, fill="DDEBF7", wrap=True)
                  for c in ROLLUP_COLUMNS])
    # One row per group (a unit each: tens of thousands in a province): plain cells.
    for group in summary.groups:
        values = _rollup_values(group.label, group.tickets, group.findings)
        values[0] = safe_text(values[0])
        sheet.append(values)
    sheet.append([_styled(sheet, v, kind=c.kind, bold=True) for c, v in zip(
        ROLLUP_COLUMNS, _rollup_values(_("Total"), summary.tickets, summary.findings))])
    sheet.append([])
    planned = [(rollup.bucket_label(b, summary.cut), summary.tickets.planned[b],
                summary.findings.planned[b]) for b in rollup.BUCKETS]
    sheet.append([_styled(sheet, _("Open items by planned completion"), bold=True),
                  _styled(sheet, _("Tickets"), bold=True),
                  _styled(sheet, _("Problems"), bold=True)])
    for label, tickets, findings in planned:
        sheet.append([_styled(sheet, label), tickets, findings])


def export(user: User, flt: ticket_queries.TicketFilter, scope: rollup.Scope | None = None,
           *, today: date | None = None, days: int | None = None,
           progress: Callable[[int], None] | None = None):
    """The ledger as a spooled temporary file (in memory up to 8 MB, then on disk), rewound,
    with the number of rows. The roll-up sheet groups the same scope by lead unit."""
    today = today or clock.today()
    days = rollup.near_days() if days is None else days
    scope = scope or scope_of_filter(flt)
    summary = rollup.summarize(user, scope, today, group_by="unit", days=days)
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    try:
        count = write_ledger(out, user, flt, summary, today=today, days=days,
                             progress=progress)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out, count


def scope_of_filter(flt: ticket_queries.TicketFilter) -> rollup.Scope:
    """The roll-up scope that matches the scope-like parts of a ticket filter."""
    return rollup.Scope(unit_id=flt.unit_id, lead_unit_id=flt.lead_unit_id,
                        inspection_id=flt.inspection_id, year=flt.year,
                        category_id=flt.category_id,
                        severity=rollup.Severity(flt.severity) if flt.severity else None)


def filename(today: date) -> str:
    return _("rectification-ledger-%(day)s.xlsx", day=today.isoformat())
