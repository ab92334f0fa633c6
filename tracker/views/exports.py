"""Exports and imports (roll-up area): the ledger in Excel, the Word report, the problem
list (template, export, import with preview), the returned ledger's reconciliation, units
and users in bulk, and the hand-over of a leaving user's work.

An upload is checked and shown as a preview first; the file waits in the upload folder
under a random token until the user confirms, then it is read again and written all at
once (one commit) or not at all.
"""
import hashlib
import io
import json
import os
import secrets
import time
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from tracker.extensions import db
from tracker.forms.exports import (
    ConfirmForm,
    FindingsUploadForm,
    HandoverForm,
    SheetUpload,
    UnitsUploadForm,
)
from tracker.models import Inspection, Role, Unit, User
from tracker.services import (
    clock,
    findings_import,
    inspections,
    ledger,
    reconcile,
    report,
    rollup,
    scoping,
    ticket_queries,
    units_import,
)
from tracker.services.errors import DomainError, Forbidden, ValidationFailed
from tracker.views.forms import apply_errors

bp = Blueprint("exports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
STASH_HOURS = 24


def near_days() -> int:
    return current_app.config["NEAR_DUE_DAYS"]


def require_office(*roles: Role) -> None:
    if current_user.role not in (roles or (Role.OFFICE,)):
        raise Forbidden(_("You are not allowed to do this."))


# --- stashed uploads --------------------------------------------------------------------

def _stash_dir() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _stash_path(kind: str, token: str) -> Path:
    return _stash_dir() / f"{kind}-{current_user.id}-{token}"


def stash(kind: str, data: bytes, filename: str) -> str:
    """Keep an upload until it is confirmed; only its uploader can name it again."""
    folder = _stash_dir()
    limit = time.time() - STASH_HOURS * 3600
    for old in folder.iterdir():
        try:
            if old.stat().st_mtime < limit:
                old.unlink()
        except OSError:
            pass
    token = secrets.token_urlsafe(24)
    path = _stash_path(kind, token)
    path.with_suffix(".bin").write_bytes(data)
    path.with_suffix(".json").write_text(json.dumps({
        "filename": filename, "sha256": hashlib.sha256(data).hexdigest()}))
    return token


def unstash(kind: str, token: str) -> tuple[bytes, str]:
    path = _stash_path(kind, token)
    try:
        meta = json.loads(path.with_suffix(".json").read_text())
        data = path.with_suffix(".bin").read_bytes()
    except (OSError, ValueError):
        raise ValidationFailed(_("The uploaded file has expired. Please upload it again."),
                               {"file": [_("Please upload the file again.")]}) from None
    if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        raise ValidationFailed(_("The uploaded file has expired. Please upload it again."),
                               {"file": [_("Please upload the file again.")]})
    return data, meta.get("filename", "")


def drop_stash(kind: str, token: str) -> None:
    for suffix in (".bin", ".json"):
        try:
            os.unlink(_stash_path(kind, token).with_suffix(suffix))
        except OSError:
            pass


def _upload(form) -> tuple[bytes, str]:
    storage = form.file.data
    return storage.read(), storage.filename or ""


def outcome_label(outcome: str | None) -> str:
    if outcome is None:
        return _("Error")
    return {"created": _("Created"), "updated": _("Updated"), "unchanged": _("Unchanged"),
            "apply": _("To apply"), "conflict": _("Conflict")}[outcome]


@bp.app_context_processor
def export_helpers():
    return {"outcome_label": outcome_label}


# --- the ledger and the report ----------------------------------------------------------

@bp.get("/exports")
@login_required
def index():
    return render_template("exports/index.html")


@bp.get("/exports/ledger.xlsx", endpoint="ledger")
@login_required
def ledger_download():
    """The ledger of the ticket list's filter (the same query arguments as /tickets)."""
    flt = ticket_queries.filter_from_args(request.args)
    today = clock.today()
    out, _count = ledger.export(current_user, flt, today=today, days=near_days())
    return send_file(out, mimetype=XLSX, as_attachment=True,
                     download_name=ledger.filename(today), max_age=0)


def scope_from_args() -> rollup.Scope:
    flt = ticket_queries.filter_from_args(request.args)
    return ledger.scope_of_filter(flt)


@bp.get("/exports/report.docx", endpoint="report")
@login_required
def report_download():
    scope = scope_from_args()
    today = clock.today()
    data = report.build(current_user, scope, today=today, days=near_days())
    return send_file(io.BytesIO(data), mimetype=DOCX, as_attachment=True,
                     download_name=report.filename(today), max_age=0)


# --- the problem list -------------------------------------------------------------------

def _importable_inspections() -> list[Inspection]:
    found = db.session.scalars(scoping.inspections(current_user).order_by(
        Inspection.year.desc(), Inspection.id.desc())).all()
    return [i for i in found if inspections.may_edit(current_user, i)]


@bp.get("/exports/problem-list-template.xlsx")
@login_required
def findings_template():
    return send_file(io.BytesIO(findings_import.template()), mimetype=XLSX,
                     as_attachment=True, download_name=_("problem-list-template.xlsx"),
                     max_age=0)


@bp.get("/exports/inspections/<int:inspection_id>/problem-list.xlsx")
@login_required
def findings_export(inspection_id: int):
    data = findings_import.export(current_user, inspection_id)
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name=_("problem-list-%(id)s.xlsx", id=inspection_id), max_age=0)


@bp.route("/exports/problem-list", methods=["GET", "POST"])
@login_required
def findings_upload():
    require_office()
    form = FindingsUploadForm()
    choices = _importable_inspections()
    form.inspection.choices = [SelectChoice("", _("Choose an inspection"))] + [
        SelectChoice(str(i.id), f"{i.year} {i.title}") for i in choices]
    if request.method == "GET" and request.args.get("inspection", "").isdigit():
        form.inspection.data = int(request.args["inspection"])
    preview = token = None
    status = 200
    if form.validate_on_submit():
        data, filename = _upload(form)
        try:
            preview = findings_import.preview(current_user, form.inspection.data, data, filename)
        except ValidationFailed as error:
            apply_errors(form, error)
            status = 422
        else:
            if preview.ok:
                token = stash("findings", data, filename)
            else:
                status = 422
        db.session.rollback()
    elif request.method == "POST":
        status = 422
    confirm = ConfirmForm(token=token, inspection=form.inspection.data) if token else None
    return render_template("exports/findings_upload.html", form=form, preview=preview,
                           confirm=confirm, columns=findings_import.COLUMNS), status


@bp.post("/exports/problem-list/confirm")
@login_required
def findings_confirm():
    require_office()
    form = ConfirmForm()
    if not form.validate_on_submit() or not str(form.inspection.data or "").isdigit():
        abort(400)
    inspection_id = int(form.inspection.data)
    try:
        data, filename = unstash("findings", form.token.data)
        preview = findings_import.preview(current_user, inspection_id, data, filename)
        counts = findings_import.apply(current_user, preview)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("exports.findings_upload", inspection=inspection_id))
    db.session.commit()
    drop_stash("findings", form.token.data)
    flash(_("Problem list imported: %(created)s rows created, %(updated)s updated, "
            "%(unchanged)s unchanged.", **counts), "success")
    return redirect(url_for("exports.findings_upload", inspection=inspection_id))


# --- reconciliation (对账) --------------------------------------------------------------

@bp.route("/exports/reconcile", methods=["GET", "POST"])
@login_required
def reconcile_upload():
    require_office()
    form = SheetUpload()
    result = token = None
    status = 200
    if form.validate_on_submit():
        data, filename = _upload(form)
        try:
            result = reconcile.review(current_user, data, filename)
        except ValidationFailed as error:
            apply_errors(form, error)
            status = 422
        else:
            if result.ok and result.of("apply"):
                token = stash("ledger", data, filename)
            elif not result.ok:
                status = 422
        db.session.rollback()
    elif request.method == "POST":
        status = 422
    confirm = ConfirmForm(token=token) if token else None
    return render_template("exports/reconcile.html", form=form, result=result,
                           confirm=confirm, columns=reconcile.COLUMNS), status


@bp.post("/exports/reconcile/confirm")
@login_required
def reconcile_confirm():
    require_office()
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        data, filename = unstash("ledger", form.token.data)
        result = reconcile.review(current_user, data, filename)
        applied = reconcile.apply(current_user, result)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("exports.reconcile_upload"))
    db.session.commit()
    drop_stash("ledger", form.token.data)
    conflicts = len(result.of("conflict"))
    flash(_("%(n)s rows applied as progress on the units' behalf; %(c)s conflicting rows "
            "were not applied.", n=applied, c=conflicts),
          "success" if not conflicts else "warning")
    return redirect(url_for("exports.reconcile_upload"))


# --- units and users --------------------------------------------------------------------

@bp.get("/exports/units.xlsx")
@login_required
def units_download():
    require_office(Role.ADMIN)
    return send_file(io.BytesIO(units_import.units_workbook(current_user)), mimetype=XLSX,
                     as_attachment=True, download_name=_("units.xlsx"), max_age=0)


@bp.get("/exports/users.xlsx")
@login_required
def users_download():
    require_office(Role.ADMIN)
    return send_file(io.BytesIO(units_import.users_workbook(current_user)), mimetype=XLSX,
                     as_attachment=True, download_name=_("users.xlsx"), max_age=0)


def _units_preview(kind: str, data: bytes, filename: str):
    if kind == "users":
        return units_import.preview_users(current_user, data, filename)
    return units_import.preview_units(current_user, data, filename)


@bp.route("/exports/units", methods=["GET", "POST"])
@login_required
def units_upload():
    require_office(Role.ADMIN)
    form = UnitsUploadForm()
    preview = token = None
    status = 200
    if form.validate_on_submit():
        data, filename = _upload(form)
        try:
            preview = _units_preview(form.kind.data, data, filename)
        except ValidationFailed as error:
            apply_errors(form, error)
            status = 422
        else:
            if preview.ok:
                token = stash(form.kind.data, data, filename)
            else:
                status = 422
        db.session.rollback()
    elif request.method == "POST":
        status = 422
    confirm = ConfirmForm(token=token, kind=form.kind.data) if token else None
    columns = (units_import.USER_COLUMNS if form.kind.data == "users"
               else units_import.UNIT_COLUMNS)
    return render_template("exports/units_upload.html", form=form, preview=preview,
                           confirm=confirm, columns=columns), status


@bp.post("/exports/units/confirm")
@login_required
def units_confirm():
    require_office(Role.ADMIN)
    form = ConfirmForm()
    if not form.validate_on_submit() or form.kind.data not in ("units", "users"):
        abort(400)
    kind = form.kind.data
    try:
        data, filename = unstash(kind, form.token.data)
        preview = _units_preview(kind, data, filename)
        if kind == "users":
            counts = units_import.apply_users(current_user, preview)
        else:
            counts = units_import.apply_units(current_user, preview)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("exports.units_upload"))
    db.session.commit()
    drop_stash(kind, form.token.data)
    flash(_("Imported: %(created)s rows created, %(updated)s updated, %(unchanged)s "
            "unchanged.", **counts), "success")
    if preview.one_time_passwords:
        # Shown once, never stored in clear: the users must change them at first login.
        return render_template("exports/passwords.html",
                               passwords=sorted(preview.one_time_passwords.items()))
    return redirect(url_for("exports.units_upload"))


@bp.route("/exports/handover", methods=["GET", "POST"])
@login_required
def handover():
    require_office(Role.ADMIN, Role.OFFICE)
    form = HandoverForm()
    people = db.session.scalars(
        select(User).join(Unit, Unit.id == User.unit_id)
        .where(User.is_active_user.is_(True), scoping.unit_clause(current_user))
        .order_by(Unit.code, User.full_name)).all()
    choices = [SelectChoice("", _("Choose a user"))] + [
        SelectChoice(str(u.id), f"{u.full_name}（{u.username}，{u.unit.name}）") for u in people]
    form.leaving.choices = choices
    form.colleague.choices = choices
    status = 200
    if form.validate_on_submit():
        try:
            result = units_import.hand_over(current_user, form.leaving.data,
                                            form.colleague.data,
                                            deactivate=form.deactivate.data)
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
            status = 422
        else:
            db.session.commit()
            flash(_("Handed over %(t)s open tickets and %(n)s unread notifications.",
                    t=result.tickets, n=result.notifications), "success")
            if result.deactivated:
                flash(_("The leaving user's account is deactivated."), "info")
            return redirect(url_for("exports.handover"))
    elif request.method == "POST":
        status = 422
    return render_template("exports/handover.html", form=form), status
