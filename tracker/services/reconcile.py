"""Reconciling a returned ledger (对账).

Offices send the ledger (`ledger.export`) to units, which fill in progress offline and send
it back. Only three columns are taken from it: the latest progress text, the progress
percent and the planned completion date. Each row names its ticket's id and the version
it was exported at:

- nothing of the three differs from the system: the row is unchanged;
- the ticket changed in the system since the export (its version differs): a conflict,
  shown with both sides and never applied;
- otherwise the row is applied as a progress update written by the office on the lead
  unit's behalf (`workflow.add_progress_on_behalf`, audited as such).

A row that cannot be read (unknown ticket, a percent of 150, a bad date, a ticket no
longer taking progress) is an error: then nothing is applied until the file is corrected.
"""
from dataclasses import dataclass
from datetime import date
from typing import Callable

from flask_babel import gettext as _
from sqlalchemy.orm import aliased

from tracker.extensions import db
from tracker.models import ProgressUpdate, Role, Ticket, TicketStatus, Unit, User
from tracker.services import ledger, scoping, sheets, workflow
from tracker.services.errors import Forbidden, ValidationFailed

PROGRESS_STATES = (TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.RETURNED,
                   TicketStatus.LONG_TERM)
COLUMNS = tuple(
    sheets.Column(c.key, c.title, c.width, c.kind,
                  required=c.key in ("ticket_id", "version"))
    for c in ledger.COLUMNS)
TAKEN = ("latest_progress", "progress_percent", "planned_completion_on")


@dataclass
class Side:
    text: str
    percent: int | None
    planned: date | None


@dataclass
class RowResult:
    row: int
    ticket_id: int | None
    title: str = ""
    lead_unit: str = ""
    #: "apply", "conflict", "unchanged" (None while the row has errors)
    outcome: str | None = None
    sheet: Side | None = None
    system: Side | None = None
    exported_version: int | None = None
    system_version: int | None = None
    lead_unit_id: int | None = None
    changed: tuple[str, ...] = ()


@dataclass
class Review:
    rows: list[RowResult]
    problems: sheets.Problems

    @property
    def ok(self) -> bool:
        return not self.problems

    def of(self, outcome: str) -> list[RowResult]:
        return [r for r in self.rows if r.outcome == outcome]


def _require_office(actor: User) -> None:
    if actor.role != Role.OFFICE:
        raise Forbidden(_("Only an office reconciles returned ledgers."))


def _current(actor: User, ticket_ids: list[int]) -> dict[int, tuple]:
    """The tickets the actor may see, with their latest progress text, in one statement."""
    if not ticket_ids:
        return {}
    latest = aliased(ProgressUpdate, name="latest_progress")
    latest_ids = ledger.latest_progress_ids(ticket_ids)
    statement = (scoping.tickets(actor).where(Ticket.id.in_(ticket_ids))
                 .with_only_columns(Ticket.id, Ticket.version, Ticket.status,
                                    Ticket.progress_percent, Ticket.planned_completion_on,
                                    Ticket.lead_unit_id, latest.text, Unit.name)
                 .select_from(Ticket)
                 .join(Unit, Unit.id == Ticket.lead_unit_id)
                 .outerjoin(latest_ids, latest_ids.c.ticket_id == Ticket.id)
                 .outerjoin(latest, latest.id == latest_ids.c.update_id))
    return {row[0]: row for row in db.session.execute(statement)}


def review(actor: User, data: bytes, filename: str,
           progress: Callable[[int], None] | None = None) -> Review:
    _require_office(actor)
    table = sheets.read_table(data, filename, COLUMNS, progress)
    missing = [k for k in TAKEN if k not in table.keys]
    if len(missing) == len(TAKEN):
        raise ValidationFailed(_("The file could not be read."), {
            "file": [_("This is not a returned ledger: it has no progress columns.")]})
    problems = sheets.Problems()
    parsed: list[tuple[RowResult, dict]] = []
    seen: dict[int, int] = {}
    for row, values in table.rows:
        result = RowResult(row=row, ticket_id=None)
        try:
            result.ticket_id = sheets.parse_int(values.get("ticket_id"))
            if result.ticket_id is None:
                problems.add(row, "ticket_id", _("This field is required."))
        except ValueError:
            problems.add(row, "ticket_id", _("Enter a whole number."))
        try:
            result.exported_version = sheets.parse_int(values.get("version"))
            if result.exported_version is None:
                problems.add(row, "version", _("This field is required."))
        except ValueError:
            problems.add(row, "version", _("Enter a whole number."))
        if result.ticket_id is not None:
            if result.ticket_id in seen:
                problems.add(row, "ticket_id", _("Ticket %(id)s is already in row %(row)s.",
                                                 id=result.ticket_id, row=seen[result.ticket_id]))
            seen[result.ticket_id] = row
        parsed.append((result, values))
    current = _current(actor, [r.ticket_id for r, _v in parsed if r.ticket_id is not None])
    rows = []
    for result, values in parsed:
        rows.append(result)
        row = result.row
        found = current.get(result.ticket_id) if result.ticket_id is not None else None
        if result.ticket_id is not None and found is None:
            problems.add(row, "ticket_id", _("No ticket %(id)s in your scope.",
                                             id=result.ticket_id))
            continue
        if found is None:
            continue
        (_id, version, status, percent, planned, lead_unit_id, latest_text, lead_name) = found
        result.system_version, result.lead_unit_id = version, lead_unit_id
        result.lead_unit = lead_name
        result.title = sheets.text(values.get("finding_title"))
        result.system = Side(latest_text or "", percent, planned)
        sheet_percent, sheet_planned = percent, planned
        if "progress_percent" in table.keys:
            try:
                sheet_percent = sheets.parse_int(values.get("progress_percent"))
                if sheet_percent is not None and not 0 <= sheet_percent <= 100:
                    problems.add(row, "progress_percent", _("Between 0 and 100."))
            except ValueError:
                problems.add(row, "progress_percent", _("Enter a whole number."))
        if "planned_completion_on" in table.keys:
            try:
                sheet_planned = sheets.parse_date(values.get("planned_completion_on"))
            except ValueError:
                problems.add(row, "planned_completion_on",
                             _("Enter a date such as 2026-12-31."))
        sheet_text = (sheets.text(values.get("latest_progress"))
                      if "latest_progress" in table.keys else (latest_text or ""))
        if len(sheet_text) > workflow.MAX_TEXT:
            problems.add(row, "latest_progress", _("At most %(n)s characters.",
                                                   n=workflow.MAX_TEXT))
        if problems.for_row(row):
            continue
        result.sheet = Side(sheet_text, sheet_percent, sheet_planned)
        changed = []
        if sheet_text and sheet_text != (latest_text or "").strip():
            changed.append("latest_progress")
        if sheet_percent is not None and sheet_percent != percent:
            changed.append("progress_percent")
        if sheet_planned is not None and sheet_planned != planned:
            changed.append("planned_completion_on")
        result.changed = tuple(changed)
        if not changed:
            result.outcome = "unchanged"
        elif result.exported_version != version:
            result.outcome = "conflict"
        elif status not in PROGRESS_STATES:
            problems.add(row, changed[0], _(
                "Ticket %(id)s is %(status)s: it takes no progress now.",
                id=result.ticket_id, status=workflow.status_label(status)))
        else:
            result.outcome = "apply"
    return Review(rows=rows, problems=problems)


def apply(actor: User, result: Review) -> int:
    """Apply the rows marked "apply" (the caller commits; a DomainError leaves it to roll
    back, so that nothing is half-applied). Returns the number of rows applied."""
    if not result.ok:
        raise ValidationFailed(_("The file has errors; nothing was applied."),
                               {"file": [_("Correct the rows listed and upload again.")]})
    applied = 0
    for row in result.of("apply"):
        text = row.sheet.text if "latest_progress" in row.changed else _(
            "Progress percent or planned completion updated from the returned ledger.")
        workflow.add_progress_on_behalf(
            actor, row.ticket_id, row.exported_version, row.lead_unit_id, text,
            percent=row.sheet.percent if "progress_percent" in row.changed else None,
            planned_completion_on=(row.sheet.planned if "planned_completion_on" in row.changed
                                   else None))
        applied += 1
    return applied
