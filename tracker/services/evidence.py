"""Evidence (佐证材料): upload, withdraw, supersede, list, download, bulk ZIP, integrity.

Rules (issue 3, DOMAIN.md "Evidence"):
- The lead and the cooperating units upload, while the ticket accepts work (assigned, in
  progress, returned, long-term); never to a closed or cancelled ticket, nor while it waits
  for a decision.
- The file and its row are committed together or not at all: the bytes go to a private
  temporary file, are checked, then moved into storage under a key made of ids after the
  row is flushed; a transaction that does not commit removes the file again (session hook
  below), and a failed write raises before anything can commit.
- Before submission the uploader may withdraw a file (kept, marked, audited). Submission
  freezes every current file: from then on it can only be superseded by a new version,
  and the old one stays listed.
- Every upload, withdrawal, supersession and every download by an office, supervisor or
  administrator writes an audit event.

Nothing here commits; the request or command that called it commits once.
"""
import csv
import io
import logging
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from secrets import token_hex
from typing import BinaryIO, Iterable, Iterator

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.extensions import db
from tracker.models import (
    Evidence,
    EvidenceStatus,
    Finding,
    ProgressUpdate,
    Role,
    Ticket,
    TicketStatus,
    Unit,
    User,
)
from tracker.prepared_statements import prepared
from tracker.services import audit, clock, events, scoping, storage, workflow
from tracker.services.errors import (
    DomainError,
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from tracker.services.evidence_files import (
    KNOWN_EXTENSIONS,
    MB,
    Limits,
    Received,
    TooLarge,
    check_content,
    clean_name,
    receive,
)

log = logging.getLogger(__name__)
S = TicketStatus
#: States in which a ticket takes new evidence (the same as progress updates).
UPLOAD_STATES = (S.ASSIGNED, S.IN_PROGRESS, S.RETURNED, S.LONG_TERM)
MAX_DESCRIPTION = 500
#: Room for the form fields around the file(s) of one upload request.
FORM_OVERHEAD = 1 * MB
MAX_REASON = 500
#: Roles whose downloads are audited: those who judge the evidence, not those who made it.
AUDITED_READERS = (Role.OFFICE, Role.SUPERVISOR, Role.ADMIN)
#: Labels of the default evidence types, translated; configured others are shown as written.
DEFAULT_TYPE_LABELS = {
    "notice": "Notice or document",
    "photo": "On-site photo",
    "ledger": "Ledger or table",
    "minutes": "Meeting minutes",
    "other": "Other",
}


class DuplicateEvidence(DomainError):
    """The same content (SHA-256) is already attached to the ticket."""

    status_code = 409
    code = "duplicate"

    def __init__(self, message: str, existing: Evidence | None = None):
        super().__init__(message, {"file": [message]})
        self.existing_id = existing.id if existing is not None else None

    def to_json(self) -> dict:
        body = super().to_json()
        if self.existing_id is not None:
            body["existing_id"] = self.existing_id
        return body


class StorageFailed(DomainError):
    """The storage backend failed; nothing was stored."""

    status_code = 503
    code = "storage_unavailable"


@dataclass(frozen=True)
class Upload:
    """One file as it arrives, with what the uploader said about it."""

    stream: BinaryIO
    filename: str | None
    description: str | None = None
    evidence_type: str | None = None
    item: str | None = None


# --- configuration ----------------------------------------------------------------------

def allowed_extensions() -> frozenset[str]:
    configured = {e.strip().lower().lstrip(".") for e in current_app.config["EVIDENCE_EXTENSIONS"]}
    return frozenset(configured & KNOWN_EXTENSIONS)


def _configured_types() -> list[tuple[str, str | None]]:
    result = []
    for entry in current_app.config["EVIDENCE_TYPES"]:
        code, _sep, label = (entry if isinstance(entry, str) else ":".join(entry)).partition(":")
        if code.strip():
            result.append((code.strip(), label.strip() or None))
    return result


def evidence_types() -> list[tuple[str, str]]:
    """(code, label) of each configured type, labels in the user's language."""
    return [(code, type_label(code)) for code, _label in _configured_types()]


def type_label(code: str) -> str:
    configured = dict(_configured_types()).get(code)
    if code in DEFAULT_TYPE_LABELS and configured in (None, DEFAULT_TYPE_LABELS[code]):
        return {
            "notice": _("Notice or document"),
            "photo": _("On-site photo"),
            "ledger": _("Ledger or table"),
            "minutes": _("Meeting minutes"),
            "other": _("Other"),
        }[code]
    return configured or code


def max_file_bytes() -> int:
    return int(float(current_app.config["EVIDENCE_MAX_FILE_MB"]) * MB)


def max_ticket_bytes() -> int:
    return int(float(current_app.config["EVIDENCE_MAX_TICKET_MB"]) * MB)


# --- files and transactions -------------------------------------------------------------
#
# A file moved into storage during a transaction is remembered on the session. When the
# transaction commits, it is kept; when the transaction ends any other way (rollback, a
# failed commit, the session closed), it is removed: a row never lacks its file, and a
# file never outlives a row that was not committed.

_PENDING = "evidence_files_pending"


def _remember(key: str) -> None:
    db.session().info.setdefault(_PENDING, []).append((storage.get_storage(), key))


@event.listens_for(Session, "after_commit")
def _files_committed(session: Session) -> None:
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _files_abandoned(session: Session, transaction) -> None:
    if transaction.parent is not None or transaction.nested:
        return
    for backend, key in session.info.pop(_PENDING, []):
        try:
            backend.delete(key)
        except storage.StorageError as error:
            # check-evidence will report it as an orphan; the transaction is already over.
            log.error("evidence: could not remove uncommitted file %s: %s", key, error)


# --- queries ----------------------------------------------------------------------------

def visible(actor: User):
    """Every evidence row of a ticket the actor may see (the tickets' scoping rule)."""
    return (select(Evidence).join(Ticket, Ticket.id == Evidence.ticket_id)
            .where(scoping.ticket_clause(actor)))


def get(actor: User, evidence_id: int) -> Evidence:
    found = db.session.scalars(visible(actor).where(Evidence.id == evidence_id)).first()
    if found is None:
        raise NotFound(_("Evidence not found."))
    return found


def for_ticket(actor: User, ticket_id: int | Ticket) -> tuple[Ticket, list[Evidence]]:
    """The ticket (through the scoping rule) and its files. Given a ticket the caller has
    already found through the scoping rule, it is not read again."""
    ticket = ticket_id if isinstance(ticket_id, Ticket) else scoping.get_ticket(actor, ticket_id)
    rows = db.session.scalars(prepared(
        select(Evidence).where(Evidence.ticket_id == ticket.id)
        .order_by(Evidence.uploaded_at, Evidence.id))).all()
    return ticket, list(rows)


def covered_items(ticket_id: int) -> set[str]:
    return set(db.session.scalars(
        select(Evidence.item).distinct().where(
            Evidence.ticket_id == ticket_id, Evidence.status == EvidenceStatus.ACTIVE,
            Evidence.item.is_not(None))))


def missing_items(ticket: Ticket) -> list[str]:
    """The finding's required evidence items that no current file of the ticket covers."""
    required = ticket.finding.required_evidence_items
    if not required:
        return []
    covered = covered_items(ticket.id)
    return [item for item in required if item not in covered]


def ticket_bytes(ticket_id: int, *, locking: bool = False) -> int:
    """Bytes stored for the ticket, withdrawn files included: they are kept too.

    `locking` reads the latest committed rows (a locking read), not the transaction's
    snapshot, which under MariaDB's repeatable read may predate a concurrent upload."""
    if locking:
        return sum(db.session.scalars(select(Evidence.size).where(
            Evidence.ticket_id == ticket_id).with_for_update()))
    return db.session.scalar(
        select(func.coalesce(func.sum(Evidence.size), 0)).where(Evidence.ticket_id == ticket_id))


# --- permissions ------------------------------------------------------------------------

def can_upload(actor: User, ticket: Ticket) -> bool:
    return workflow.is_member(actor, ticket) and ticket.status in UPLOAD_STATES


def can_withdraw(actor: User, evidence: Evidence, ticket: Ticket) -> bool:
    return (evidence.uploaded_by_id == actor.id and evidence.status == EvidenceStatus.ACTIVE
            and not evidence.is_frozen and can_upload(actor, ticket))


def can_supersede(actor: User, evidence: Evidence, ticket: Ticket) -> bool:
    return evidence.status == EvidenceStatus.ACTIVE and can_upload(actor, ticket)


def can_bulk_download(actor: User) -> bool:
    return actor.role in AUDITED_READERS


def _check_can_upload(actor: User, ticket: Ticket) -> None:
    if not workflow.is_member(actor, ticket):
        raise Forbidden(_("Only the lead and the cooperating units upload evidence."))
    if ticket.status in (S.CLOSED, S.CANCELLED):
        raise InvalidTransition(_("The ticket is %(status)s; it takes no more evidence.",
                                  status=workflow.status_label(ticket.status)))
    if ticket.status not in UPLOAD_STATES:
        raise InvalidTransition(_("The ticket is waiting for sign-off; its evidence cannot "
                                  "change until it is decided or returned."))


# --- writing ----------------------------------------------------------------------------

def _clean_fields(ticket: Ticket, incoming: Upload, defaults: Evidence | None) -> dict:
    errors: dict[str, list[str]] = {}
    description = (incoming.description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = [_("At most %(n)s characters.", n=MAX_DESCRIPTION)]
    types = dict(evidence_types())
    evidence_type = (incoming.evidence_type or "").strip()
    if not evidence_type:
        evidence_type = defaults.evidence_type if defaults else ("other" if "other" in types
                                                                  else next(iter(types), ""))
    if evidence_type not in types and not (defaults and evidence_type == defaults.evidence_type):
        errors["type"] = [_("Not one of the allowed values.")]
    item = (incoming.item or "").strip() or None
    if item is None and defaults is not None:
        item = defaults.item
    if item is not None and item not in ticket.finding.required_evidence_items:
        errors["item"] = [_("Not one of the evidence items this finding requires.")]
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), errors)
    return {"description": description, "evidence_type": evidence_type, "item": item}


def upload(actor: User, ticket_id: int, incoming: Upload, *,
           progress_update: ProgressUpdate | None = None,
           supersedes: Evidence | None = None) -> Evidence:
    """Attach one file to a ticket. Raises before anything is stored if any check fails."""
    ticket = scoping.get_ticket(actor, ticket_id)
    _check_can_upload(actor, ticket)
    name, extension = clean_name(incoming.filename, allowed_extensions())
    fields = _clean_fields(ticket, incoming, supersedes)
    backend = storage.get_storage()
    limits = Limits.from_config(current_app.config)
    try:
        received = receive(incoming.stream, backend.temp_dir(), limits.max_file_bytes)
    except OSError as error:
        current_app.logger.error("evidence: cannot receive upload: %s", error)
        raise StorageFailed(_("The file could not be stored. Nothing was saved; please try "
                              "again later.")) from error
    try:
        content_type = check_content(received.path, extension, received.size, limits)
        # From here on, one upload per ticket at a time: the state, the ticket's total
        # and the duplicate check hold until the commit.
        db.session.refresh(ticket, with_for_update=True)
        _check_can_upload(actor, ticket)
        if supersedes is not None and supersedes.status != EvidenceStatus.ACTIVE:
            raise InvalidTransition(_("Only the current version of a file can be replaced."))
        _check_ticket_total(ticket, received)
        _check_duplicate(ticket, received)
        evidence = Evidence(
            ticket_id=ticket.id, uploaded_by_id=actor.id, unit_id=actor.unit_id,
            original_name=name, extension=extension, content_type=content_type,
            size=received.size, sha256=received.sha256, live_sha256=received.sha256,
            storage_key=f"pending-{token_hex(16)}", uploaded_at=clock.now_utc(),
            progress_update=progress_update, status=EvidenceStatus.ACTIVE, **fields)
        if supersedes is not None:
            supersedes.status = EvidenceStatus.SUPERSEDED
            evidence.supersedes_id = supersedes.id
            evidence.version_no = supersedes.version_no + 1
        db.session.add(evidence)
        try:
            db.session.flush()
        except IntegrityError:
            raise DuplicateEvidence(_("The same file was just uploaded to this ticket by "
                                      "someone else.")) from None
        evidence.storage_key = f"{ticket.id}/{evidence.id}-{token_hex(8)}"
        db.session.flush()
        _store(backend, received.path, evidence.storage_key)
        after = _audit_view(evidence)
        if supersedes is not None:
            after["supersedes_id"] = supersedes.id
            audit.record(actor, "evidence.supersede", "evidence", evidence.id,
                         ticket_id=ticket.id, after=after,
                         note=f"{supersedes.original_name} → {name}")
        else:
            audit.record(actor, "evidence.upload", "evidence", evidence.id,
                         ticket_id=ticket.id, after=after, note=name)
        db.session.flush()
        return evidence
    finally:
        received.path.unlink(missing_ok=True)


def _store(backend, source: Path, key: str) -> None:
    _remember(key)
    try:
        backend.put(source, key)
    except storage.StorageError as error:
        current_app.logger.error("evidence: storage failed: %s", error)
        raise StorageFailed(_("The file could not be stored. Nothing was saved; please try "
                              "again later.")) from error


def _check_ticket_total(ticket: Ticket, received: Received) -> None:
    limit = max_ticket_bytes()
    stored = ticket_bytes(ticket.id, locking=True)
    if stored + received.size > limit:
        message = _("The ticket's evidence would exceed %(max)s MB in total (%(used)s MB "
                    "stored). The file was not stored.", max=round(limit / MB),
                    used=round(stored / MB, 1))
        raise TooLarge(message, {"file": [message]})


def _check_duplicate(ticket: Ticket, received: Received) -> None:
    existing = db.session.scalars(select(Evidence).where(
        Evidence.ticket_id == ticket.id, Evidence.live_sha256 == received.sha256)
        .with_for_update(of=Evidence)).first()
    if existing is not None:
        raise DuplicateEvidence(
            _("This file is already attached to the ticket as “%(name)s” (uploaded %(when)s).",
              name=existing.original_name,
              when=clock.local_date(existing.uploaded_at).isoformat()), existing)


def _audit_view(evidence: Evidence) -> dict:
    # Keys differ from the ticket's own fields ("status" …): the ticket history shows
    # ticket fields by name, and these are the file's.
    return {"filename": evidence.original_name, "size": evidence.size,
            "sha256": evidence.sha256, "type": evidence.evidence_type, "item": evidence.item,
            "evidence_status": EvidenceStatus.ACTIVE.value, "version_no": evidence.version_no,
            "progress_update_id": evidence.progress_update_id}


def attach_to_progress(actor: User, update: ProgressUpdate, uploads: Iterable[Upload]) -> list[Evidence]:
    """Files posted with a progress update, stored attached to it (all or none)."""
    return [upload(actor, update.ticket_id, item, progress_update=update) for item in uploads]


def supersede(actor: User, evidence_id: int, new: Upload) -> Evidence:
    """A new version of a file; the old one stays listed, marked superseded."""
    old = get(actor, evidence_id)
    if old.status != EvidenceStatus.ACTIVE:
        raise InvalidTransition(_("Only the current version of a file can be replaced."))
    return upload(actor, old.ticket_id, new, supersedes=old)


def withdraw(actor: User, evidence_id: int, reason: str | None = None) -> Evidence:
    """Take a file back before submission: kept and listed, marked withdrawn."""
    evidence = get(actor, evidence_id)
    ticket = scoping.get_ticket(actor, evidence.ticket_id, for_update=True)
    db.session.refresh(evidence)
    if evidence.uploaded_by_id != actor.id:
        raise Forbidden(_("Only the person who uploaded a file may withdraw it."))
    if evidence.status != EvidenceStatus.ACTIVE:
        raise InvalidTransition(_("This file has already been withdrawn or replaced."))
    if evidence.is_frozen:
        raise InvalidTransition(_("This file was submitted for sign-off and is part of the "
                                  "record; upload a new version instead."))
    _check_can_upload(actor, ticket)
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ValidationFailed(_("Please correct the highlighted fields."),
                               {"reason": [_("At most %(n)s characters.", n=MAX_REASON)]})
    evidence.status = EvidenceStatus.WITHDRAWN
    evidence.live_sha256 = None
    evidence.withdrawn_at = clock.now_utc()
    evidence.withdrawn_by_id = actor.id
    evidence.withdraw_reason = reason or None
    audit.record(actor, "evidence.withdraw", "evidence", evidence.id, ticket_id=ticket.id,
                 before={"evidence_status": EvidenceStatus.ACTIVE.value},
                 after={"evidence_status": EvidenceStatus.WITHDRAWN.value},
                 note=f"{evidence.original_name}{': ' + reason if reason else ''}")
    db.session.flush()
    return evidence


@events.ticket_event.connect_via("submit")
def _freeze_on_submit(sender, ticket: Ticket, actor: User, **data) -> None:
    """Submission makes every current file part of the record."""
    db.session.execute(
        update(Evidence)
        .where(Evidence.ticket_id == ticket.id, Evidence.status == EvidenceStatus.ACTIVE,
               Evidence.frozen_at.is_(None))
        .values(frozen_at=clock.now_utc())
        .execution_options(synchronize_session="fetch"))


# The workflow refuses submission while items are missing (DOMAIN.md: "needs … the
# finding's required evidence").
workflow.missing_evidence_check = missing_items


# --- reading ----------------------------------------------------------------------------

def record_download(actor: User, evidence: Evidence, *, inline: bool = False) -> None:
    """Downloads by those who judge the evidence are part of the audit trail."""
    if actor.role in AUDITED_READERS:
        audit.record(actor, "evidence.preview" if inline else "evidence.download", "evidence",
                     evidence.id, ticket_id=evidence.ticket_id, note=evidence.original_name)


def ascii_fallback(name: str, evidence_id: int, extension: str) -> str:
    if name.isascii() and name.isprintable() and not any(c in name for c in '"\\'):
        return name
    return f"evidence-{evidence_id}.{extension}"


# --- bulk download ----------------------------------------------------------------------

@dataclass(frozen=True)
class BundleEntry:
    """One file of a bulk download, as plain values: streaming needs no database."""

    path: str
    storage_key: str
    size: int
    uploaded_at: datetime


@dataclass
class Bundle:
    """What a bulk download holds: a name, the files, and one manifest row per file."""

    name: str
    entries: list[BundleEntry] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)


_FORBIDDEN_IN_PATH = str.maketrans({c: "_" for c in '\\/:*?"<>|'})


def safe_component(text: str, limit: int = 80) -> str:
    """A folder or file name any unzip tool accepts: no separators, no controls."""
    cleaned = "".join(c for c in text if c.isprintable()).translate(_FORBIDDEN_IN_PATH)
    cleaned = cleaned.strip(" .")[:limit].strip(" .")
    return cleaned or "_"


def _unique(path: str, used: set[str]) -> str:
    if path not in used:
        used.add(path)
        return path
    stem, dot, ext = path.rpartition(".")
    if not dot or "/" in ext:
        stem, dot, ext = path, "", ""
    n = 2
    while f"{stem} ({n}){dot}{ext}" in used:
        n += 1
    result = f"{stem} ({n}){dot}{ext}"
    used.add(result)
    return result


def bundle(actor: User, kind: str, object_id: int) -> Bundle:
    """The current evidence of a ticket, a finding or an inspection, for a ZIP download.
    Only offices, supervisors and administrators, and only tickets within their scope."""
    if not can_bulk_download(actor):
        raise Forbidden(_("Only offices and supervisors download evidence in bulk."))
    statement = (
        select(Evidence, Ticket, Finding, Unit)
        .join(Ticket, Ticket.id == Evidence.ticket_id)
        .join(Finding, Finding.id == Ticket.finding_id)
        .join(Unit, Unit.id == Ticket.lead_unit_id)
        .where(scoping.ticket_clause(actor), Evidence.status == EvidenceStatus.ACTIVE)
        .order_by(Finding.number, Unit.code, Ticket.id, Evidence.uploaded_at, Evidence.id)
    )
    label = _("Evidence")
    if kind == "ticket":
        ticket = scoping.get_ticket(actor, object_id)
        statement = statement.where(Ticket.id == ticket.id)
        name = f"{label}-{ticket.finding.number:02d} {ticket.finding.title}-{ticket.lead_unit.name}"
        audit_type, audit_ticket = "ticket", ticket.id
    elif kind == "finding":
        finding = scoping.get_finding(actor, object_id)
        statement = statement.where(Finding.id == finding.id)
        name = f"{label}-{finding.number:02d} {finding.title}"
        audit_type, audit_ticket = "finding", None
    elif kind == "inspection":
        inspection = scoping.get_inspection(actor, object_id)
        statement = statement.where(Finding.inspection_id == inspection.id)
        name = f"{label}-{inspection.title}"
        audit_type, audit_ticket = "inspection", None
    else:
        raise NotFound(_("Not found."))
    result = Bundle(name=safe_component(name, 120) + ".zip")
    zone = clock.office_zone()
    used: set[str] = set()
    folders: dict[int, str] = {}
    for evidence, ticket, finding, unit in db.session.execute(statement).all():
        if ticket.id not in folders:
            folder = (f"{safe_component(f'{finding.number:02d} {finding.title}')}/"
                      f"{safe_component(unit.name)}")
            if folder in folders.values():
                folder = f"{folder} #{ticket.id}"
            folders[ticket.id] = folder
        stem, _dot, ext = evidence.original_name.rpartition(".")
        filename = f"{safe_component(stem, 120)}.{evidence.extension}"
        path = _unique(f"{folders[ticket.id]}/{filename}", used)
        result.entries.append(BundleEntry(path, evidence.storage_key, evidence.size,
                                          evidence.uploaded_at))
        result.rows.append([
            path, f"{finding.number:02d} {finding.title}", unit.name, evidence.original_name,
            type_label(evidence.evidence_type), evidence.item or "", evidence.description,
            evidence.unit.name, evidence.uploaded_by.full_name,
            evidence.uploaded_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"), evidence.size,
            evidence.sha256])
    if not result.entries:
        raise NotFound(_("There is no evidence to download here."))
    audit.record(actor, "evidence.bulk_download", audit_type, object_id,
                 ticket_id=audit_ticket, note=f"{len(result.entries)}: {result.name}")
    return result


class _Sink:
    """A write-only file for zipfile whose bytes are handed on as soon as written."""

    def __init__(self):
        self._parts: list[bytes] = []

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _neutral(value) -> str:
    """Spreadsheet-safe cell text: a leading = + - @ would be read as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def manifest(rows: list[list]) -> bytes:
    """A CSV list of the files (UTF-8 with BOM, so that Excel reads the Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("File in archive"), _("Finding"), _("Lead unit"), _("File name"),
                     _("Evidence type"), _("Evidence item"), _("File description"), _("Uploading unit"),
                     _("Uploaded by"), _("Uploaded at"), _("Size (bytes)"), "SHA-256"])
    for row in rows:
        writer.writerow([_neutral(v) for v in row])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def zip_stream(result: Bundle, backend=None) -> Iterator[bytes]:
    """The ZIP, produced piece by piece: memory stays flat however large the files are."""
    backend = backend or storage.get_storage()
    zone = clock.office_zone()
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for entry in result.entries:
            moment = entry.uploaded_at.astimezone(zone)
            info = zipfile.ZipInfo(entry.path, date_time=(max(moment.year, 1980), moment.month,
                                                           moment.day, moment.hour,
                                                           moment.minute, moment.second))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.file_size = entry.size
            with archive.open(info, "w") as member:
                for chunk in backend.chunks(entry.storage_key):
                    member.write(chunk)
                    data = sink.take()
                    if data:
                        yield data
            data = sink.take()
            if data:
                yield data
        now = clock.now_utc().astimezone(zone)
        info = zipfile.ZipInfo(_("Evidence list") + ".csv",
                               date_time=(now.year, now.month, now.day, now.hour, now.minute,
                                          now.second))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, manifest(result.rows))
    yield sink.take()


# --- integrity --------------------------------------------------------------------------

@dataclass
class IntegrityReport:
    checked: int = 0
    checked_bytes: int = 0
    missing: list[Evidence] = field(default_factory=list)
    corrupt: list[tuple[Evidence, str]] = field(default_factory=list)
    orphans: list[storage.StoredObject] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.corrupt or self.orphans)


def check_integrity(grace: timedelta = timedelta(hours=1), backend=None) -> IntegrityReport:
    """Every row's file exists and matches its size and SHA-256; every stored file has a row.

    Files younger than `grace` without a row are uploads still being committed, not orphans."""
    import hashlib

    backend = backend or storage.get_storage()
    report = IntegrityReport()
    known: set[str] = set()
    rows = db.session.scalars(select(Evidence).order_by(Evidence.id)
                              .execution_options(yield_per=200))
    for evidence in rows:
        known.add(evidence.storage_key)
        report.checked += 1
        if not backend.exists(evidence.storage_key):
            report.missing.append(evidence)
            continue
        digest = hashlib.sha256()
        size = 0
        try:
            for chunk in backend.chunks(evidence.storage_key):
                digest.update(chunk)
                size += len(chunk)
        except storage.StorageError:
            report.missing.append(evidence)
            continue
        report.checked_bytes += size
        if size != evidence.size:
            report.corrupt.append((evidence, f"size {size}, expected {evidence.size}"))
        elif digest.hexdigest() != evidence.sha256:
            report.corrupt.append((evidence, f"sha256 {digest.hexdigest()}, "
                                             f"expected {evidence.sha256}"))
    cutoff = clock.now_utc() - grace
    for stored in backend.list():
        if stored.key not in known and stored.modified_at <= cutoff:
            report.orphans.append(stored)
    return report
