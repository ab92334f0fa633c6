"""Evidence through the API: upload (multipart), list, download, withdraw, new version.

The same service and scoping as the pages: another unit's file answers 404; an upload over
a size limit answers 413 with nothing stored.
"""
from datetime import datetime

from flask import request, url_for
from flask_babel import gettext as _
from pydantic import BaseModel, Field

from tracker.api.schemas import StrictModel
from tracker.api.spec import current_api_user, endpoint
from tracker.extensions import db
from tracker.models import Evidence
from tracker.services import evidence
from tracker.services.errors import ValidationFailed
from tracker.evidence_http import file_response

MULTIPART = {"file": "file", "description": "text", "type": "text", "item": "text"}
UPLOAD_ERRORS = {409: "Duplicate content, or the ticket takes no evidence now",
                 413: "Over the size limit of a file or of the ticket; nothing stored",
                 503: "Storage unavailable; nothing stored"}


class EvidenceOut(BaseModel):
    id: int
    ticket_id: int
    filename: str = Field(description="The name as uploaded, byte for byte.")
    size: int
    sha256: str
    content_type: str
    type: str
    type_label: str
    item: str | None = Field(description="The finding's required evidence item it covers.")
    description: str
    status: str = Field(description="active, withdrawn or superseded")
    version_no: int
    supersedes_id: int | None
    progress_update_id: int | None
    is_frozen: bool = Field(description="Part of a submission: can be superseded, not withdrawn.")
    uploaded_by_id: int
    uploaded_by_name: str
    unit_id: int
    unit_name: str
    uploaded_at: datetime
    withdrawn_at: datetime | None
    download_url: str


class EvidenceList(BaseModel):
    items: list[EvidenceOut]
    required_items: list[str]
    missing_items: list[str]


class WithdrawBody(StrictModel):
    reason: str | None = Field(default=None, max_length=evidence.MAX_REASON)


def to_out(e: Evidence) -> EvidenceOut:
    return EvidenceOut(
        id=e.id, ticket_id=e.ticket_id, filename=e.original_name, size=e.size, sha256=e.sha256,
        content_type=e.content_type, type=e.evidence_type,
        type_label=evidence.type_label(e.evidence_type), item=e.item,
        description=e.description, status=e.status.value, version_no=e.version_no,
        supersedes_id=e.supersedes_id, progress_update_id=e.progress_update_id,
        is_frozen=e.is_frozen, uploaded_by_id=e.uploaded_by_id,
        uploaded_by_name=e.uploaded_by.full_name, unit_id=e.unit_id, unit_name=e.unit.name,
        uploaded_at=e.uploaded_at, withdrawn_at=e.withdrawn_at,
        download_url=url_for("api.download_evidence", evidence_id=e.id))


def _incoming() -> evidence.Upload:
    """The one file of a multipart request, and its fields; anything else is refused.
    (The request's size limit is set before any hook reads it: tracker/views/evidence.py.)"""
    # A part whose name cannot be parsed arrives named None: reported as the empty name.
    unknown = {name or "" for name in (*request.form, *request.files)} - set(MULTIPART)
    errors = {name: [_("Unknown field.")] for name in sorted(unknown)}
    files = request.files.getlist("file")
    if not files or not files[0].filename:
        errors["file"] = [_("This field is required.")]
    elif len(files) > 1:
        errors["file"] = [_("Send one file per request.")]
    for name in ("description", "type", "item"):
        if len(request.form.getlist(name)) > 1:
            errors[name] = [_("Give this field once.")]
    if errors:
        raise ValidationFailed(_("Please correct the fields listed."), errors)
    return evidence.Upload(stream=files[0].stream, filename=files[0].filename,
                           description=request.form.get("description"),
                           evidence_type=request.form.get("type"),
                           item=request.form.get("item"))


@endpoint("/tickets/<int:ticket_id>/evidence", "POST", "Upload one evidence file to a ticket",
          multipart=MULTIPART, response=EvidenceOut, status=201, extra_responses=UPLOAD_ERRORS)
def upload_evidence(ticket_id: int):
    stored = evidence.upload(current_api_user(), ticket_id, _incoming())
    out = to_out(stored)
    db.session.commit()
    return out


@endpoint("/tickets/<int:ticket_id>/evidence", "GET",
          "List a ticket's evidence, with the required items still missing",
          response=EvidenceList)
def list_evidence(ticket_id: int):
    ticket, rows = evidence.for_ticket(current_api_user(), ticket_id)
    return EvidenceList(items=[to_out(e) for e in rows],
                        required_items=ticket.finding.required_evidence_items,
                        missing_items=evidence.missing_items(ticket))


@endpoint("/evidence/<int:evidence_id>/download", "GET",
          "Download an evidence file (always as an attachment)",
          raw_response="application/octet-stream")
def download_evidence(evidence_id: int):
    actor = current_api_user()
    item = evidence.get(actor, evidence_id)
    evidence.record_download(actor, item)
    db.session.commit()
    return file_response(item)


@endpoint("/evidence/<int:evidence_id>/withdraw", "POST",
          "Withdraw an evidence file before submission (it stays listed)",
          body=WithdrawBody, response=EvidenceOut, extra_responses={409: "Frozen or not current"})
def withdraw_evidence(evidence_id: int, body: WithdrawBody):
    withdrawn = evidence.withdraw(current_api_user(), evidence_id, body.reason)
    out = to_out(withdrawn)
    db.session.commit()
    return out


@endpoint("/evidence/<int:evidence_id>/supersede", "POST",
          "Upload a new version of an evidence file (the old one stays listed)",
          multipart=MULTIPART, response=EvidenceOut, status=201, extra_responses=UPLOAD_ERRORS)
def supersede_evidence(evidence_id: int):
    stored = evidence.supersede(current_api_user(), evidence_id, _incoming())
    out = to_out(stored)
    db.session.commit()
    return out
