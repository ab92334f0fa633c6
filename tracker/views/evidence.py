"""Evidence pages: the ticket page's evidence panel, uploads (one request per file, sent by
evidence.js with a progress bar, or several in one plain form post), withdrawal, new
versions, downloads and previews through the scoping rule, and bulk ZIP downloads.

Files are only ever sent from here (or the API) after the scoping check: another unit's
file answers 404. Every file response carries nosniff and a sandboxing CSP; only images
and PDFs are ever shown inline.
"""
from dataclasses import dataclass

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from tracker.evidence_http import SANDBOX, content_disposition, file_response
from tracker.extensions import db
from tracker.models import Evidence, EvidenceStatus, Ticket, User
from tracker.services import evidence, scoping, storage
from tracker.services.errors import DomainError, NotFound, ValidationFailed
from tracker.services.evidence_files import MB
from tracker.views.auth import safe_next
from tracker.views.errors import wants_json

bp = Blueprint("evidence", __name__)

#: A plain (script-less) form may carry several files at once.
MAX_FILES_PER_POST = 10


@bp.record_once
def _setup(state) -> None:
    storage.init_app(state.app)
    # First of all request hooks: the CSRF check reads the form, so the size limit of an
    # upload request must be set before it runs (MAX_CONTENT_LENGTH applies otherwise).
    state.app.before_request_funcs.setdefault(None, []).insert(0, _upload_request_limit)


def _upload_request_limit() -> None:
    one_file = evidence.max_file_bytes() + evidence.FORM_OVERHEAD
    several = evidence.max_file_bytes() * MAX_FILES_PER_POST + evidence.FORM_OVERHEAD
    endpoint, args = request.endpoint, request.view_args or {}
    if endpoint == "evidence.upload" or (endpoint == "tickets.act"
                                         and args.get("action") == "progress"):
        request.max_content_length = max(several, current_app.config["MAX_CONTENT_LENGTH"] or 0)
    elif endpoint in ("evidence.supersede", "api.upload_evidence", "api.supersede_evidence"):
        request.max_content_length = one_file


def _actor() -> User:
    return current_user._get_current_object()


# --- the panel on the ticket page -------------------------------------------------------

def size_label(size: int) -> str:
    if size >= MB // 10:
        return f"{size / MB:.1f} MB"
    return f"{max(size / 1024, 0.1):.1f} KB"


@dataclass
class PanelRow:
    evidence: Evidence
    type_label: str
    size_label: str
    superseded_by: Evidence | None
    can_withdraw: bool
    can_supersede: bool


@dataclass
class Panel:
    ticket: Ticket
    rows: list[PanelRow]
    required: list[tuple[str, bool]]
    missing: list[str]
    can_upload: bool
    can_bulk: bool
    types: list[tuple[str, str]]
    accept: str
    extensions: str
    max_file_mb: str
    items: list[str]


def build_panel(ticket: Ticket) -> Panel:
    """Everything the evidence panel shows, in a fixed number of queries."""
    actor = _actor()
    # Every caller found the ticket through the scoping rule (the ticket page, the panel).
    ticket, rows = evidence.for_ticket(actor, ticket)
    newer = {e.supersedes_id: e for e in rows if e.supersedes_id is not None}
    options = upload_options(ticket)
    covered = {e.item for e in rows if e.status == EvidenceStatus.ACTIVE and e.item}
    return Panel(
        ticket=ticket,
        rows=[PanelRow(e, evidence.type_label(e.evidence_type), size_label(e.size),
                       newer.get(e.id), evidence.can_withdraw(actor, e, ticket),
                       evidence.can_supersede(actor, e, ticket)) for e in rows],
        required=[(item, item in covered) for item in options.items],
        missing=[item for item in options.items if item not in covered],
        can_upload=evidence.can_upload(actor, ticket),
        can_bulk=evidence.can_bulk_download(actor) and any(
            e.status == EvidenceStatus.ACTIVE for e in rows),
        types=options.types, accept=options.accept, extensions=options.extensions,
        max_file_mb=options.max_file_mb, items=options.items,
    )


@dataclass
class UploadOptions:
    """What an upload form offers (the progress form's file inputs)."""

    types: list[tuple[str, str]]
    accept: str
    extensions: str
    max_file_mb: str
    items: list[str]


def upload_options(ticket: Ticket) -> UploadOptions:
    extensions = sorted(evidence.allowed_extensions())
    return UploadOptions(types=evidence.evidence_types(),
                         accept=",".join(f".{e}" for e in extensions),
                         extensions=", ".join(e.upper() for e in extensions),
                         max_file_mb=f"{evidence.max_file_bytes() / MB:g}",
                         items=ticket.finding.required_evidence_items)


@bp.app_context_processor
def _panel_helpers() -> dict:
    return {"evidence_panel": build_panel, "evidence_upload_options": upload_options}


@bp.get("/tickets/<int:ticket_id>/evidence/panel")
@login_required
def panel(ticket_id: int):
    """The panel alone, for evidence.js to refresh it after uploads."""
    ticket = scoping.get_ticket(_actor(), ticket_id)
    return render_template("evidence/_panel.html", ticket=ticket)


def history_label(action: str) -> str | None:
    """The evidence audit actions in the reader's language, for the ticket's history."""
    return {
        "evidence.upload": _("Evidence uploaded"),
        "evidence.supersede": _("New version of evidence uploaded"),
        "evidence.withdraw": _("Evidence withdrawn"),
        "evidence.download": _("Evidence downloaded"),
        "evidence.preview": _("Evidence viewed"),
        "evidence.bulk_download": _("Evidence downloaded as ZIP"),
    }.get(action)


# --- uploads ----------------------------------------------------------------------------

def _back(ticket_id: int) -> str:
    fallback = url_for("tickets.show", ticket_id=ticket_id) \
        if "tickets.show" in current_app.view_functions else url_for("main.index")
    target = request.form.get("next")
    return safe_next(target) if target else fallback


def _summary(e: Evidence) -> dict:
    return {"id": e.id, "filename": e.original_name, "size": e.size, "sha256": e.sha256,
            "status": e.status.value, "version_no": e.version_no,
            "download_url": url_for("evidence.download", evidence_id=e.id)}


def _refused(error: DomainError, ticket_id: int, filename: str | None = None):
    db.session.rollback()
    detail = "; ".join(m for messages in error.fields.values() for m in messages) \
        if error.fields else error.message
    if wants_json():
        body = error.to_json()
        if filename is not None:
            body["filename"] = filename
        return jsonify(body), error.status_code
    flash(f"“{filename}”: {detail}" if filename else detail, "danger")
    return redirect(_back(ticket_id))


def _form_upload(stream, filename) -> evidence.Upload:
    return evidence.Upload(stream=stream, filename=filename,
                           description=request.form.get("description"),
                           evidence_type=request.form.get("type"),
                           item=request.form.get("item"))


@bp.post("/tickets/<int:ticket_id>/evidence")
@login_required
def upload(ticket_id: int):
    files = [f for f in request.files.getlist("file") if f.filename]
    if not files:
        return _refused(ValidationFailed(_("Choose a file to upload."),
                                         {"file": [_("Choose a file to upload.")]}), ticket_id)
    if len(files) > MAX_FILES_PER_POST:
        return _refused(ValidationFailed(
            _("At most %(n)s files at once.", n=MAX_FILES_PER_POST),
            {"file": [_("At most %(n)s files at once.", n=MAX_FILES_PER_POST)]}), ticket_id)
    stored = []
    for item in files:
        try:
            stored.append(evidence.upload(_actor(), ticket_id, _form_upload(item.stream,
                                                                            item.filename)))
        except NotFound:
            raise
        except DomainError as error:
            return _refused(error, ticket_id, item.filename)
    summaries = [_summary(e) for e in stored]
    db.session.commit()
    if wants_json():
        return jsonify({"evidence": summaries}), 201
    flash(ngettext("%(num)s file uploaded.", "%(num)s files uploaded.", len(stored)), "success")
    return redirect(_back(ticket_id))


@bp.post("/evidence/<int:evidence_id>/supersede")
@login_required
def supersede(evidence_id: int):
    old = evidence.get(_actor(), evidence_id)
    ticket_id = old.ticket_id
    file = request.files.get("file")
    if file is None or not file.filename:
        return _refused(ValidationFailed(_("Choose a file to upload."),
                                         {"file": [_("Choose a file to upload.")]}), ticket_id)
    try:
        new = evidence.supersede(_actor(), evidence_id, _form_upload(file.stream, file.filename))
    except NotFound:
        raise
    except DomainError as error:
        return _refused(error, ticket_id, file.filename)
    summary = _summary(new)
    db.session.commit()
    if wants_json():
        return jsonify({"evidence": [summary]}), 201
    flash(_("New version of “%(name)s” uploaded.", name=summary["filename"]), "success")
    return redirect(_back(ticket_id))


@bp.post("/evidence/<int:evidence_id>/withdraw")
@login_required
def withdraw(evidence_id: int):
    ticket_id = evidence.get(_actor(), evidence_id).ticket_id
    try:
        withdrawn = evidence.withdraw(_actor(), evidence_id, request.form.get("reason"))
    except NotFound:
        raise
    except DomainError as error:
        return _refused(error, ticket_id)
    name, summary = withdrawn.original_name, _summary(withdrawn)
    db.session.commit()
    if wants_json():
        return jsonify({"evidence": [summary]})
    flash(_("“%(name)s” was withdrawn. It stays listed, marked as withdrawn.", name=name),
          "success")
    return redirect(_back(ticket_id))


def attach_progress_files(update) -> list[Evidence]:
    """Called by the ticket view's progress action: files posted with a progress update
    (evidence/_progress_files.html) are stored attached to it, all or none."""
    files = [f for f in request.files.getlist("evidence_file") if f and f.filename]
    if len(files) > MAX_FILES_PER_POST:
        raise ValidationFailed(_("At most %(n)s files at once.", n=MAX_FILES_PER_POST),
                               {"evidence_file": [_("At most %(n)s files at once.",
                                                    n=MAX_FILES_PER_POST)]})
    stored = []
    for file in files:
        incoming = evidence.Upload(stream=file.stream, filename=file.filename,
                                   description=request.form.get("evidence_description"),
                                   evidence_type=request.form.get("evidence_type"),
                                   item=request.form.get("evidence_item"))
        try:
            stored.append(evidence.upload(_actor(), update.ticket_id, incoming,
                                          progress_update=update))
        except DomainError as error:
            detail = "; ".join(m for ms in error.fields.values() for m in ms) or error.message
            # Shown beside the progress form; the update and every file are undone.
            raise ValidationFailed(f"“{file.filename}”: {detail}",
                                   {"evidence_file": [detail]}) from error
    return stored


# --- downloads --------------------------------------------------------------------------

@bp.get("/evidence/<int:evidence_id>/download")
@login_required
def download(evidence_id: int):
    item = evidence.get(_actor(), evidence_id)
    evidence.record_download(_actor(), item)
    db.session.commit()
    return file_response(item)


@bp.get("/evidence/<int:evidence_id>/preview")
@login_required
def preview(evidence_id: int):
    item = evidence.get(_actor(), evidence_id)
    if not item.is_previewable:
        raise NotFound(_("This file cannot be previewed; download it instead."))
    evidence.record_download(_actor(), item, inline=True)
    db.session.commit()
    return file_response(item, inline=True)


def zip_response(kind: str, object_id: int) -> Response:
    result = evidence.bundle(_actor(), kind, object_id)
    db.session.commit()  # the audit event, before the first byte goes out
    response = Response(stream_with_context(evidence.zip_stream(result)),
                        mimetype="application/zip", direct_passthrough=True)
    response.headers["Content-Disposition"] = content_disposition(
        result.name, f"evidence-{kind}-{object_id}.zip")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = SANDBOX
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/tickets/<int:ticket_id>/evidence.zip")
@login_required
def ticket_zip(ticket_id: int):
    return zip_response("ticket", ticket_id)


@bp.get("/findings/<int:finding_id>/evidence.zip")
@login_required
def finding_zip(finding_id: int):
    return zip_response("finding", finding_id)


@bp.get("/inspections/<int:inspection_id>/evidence.zip")
@login_required
def inspection_zip(inspection_id: int):
    return zip_response("inspection", inspection_id)
