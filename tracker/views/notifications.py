"""The notification centre, preferences, the office's reminder settings and holidays, the
administrator's failed deliveries, and urging notices on a ticket."""
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker.extensions import db
from tracker.forms.notifications import (
    AcknowledgeUrgingForm,
    CsrfForm,
    HolidayForm,
    SettingsForm,
    UrgingForm,
)
from tracker.models import NotificationKind, Ticket, UrgingNotice
from tracker.services import clock, delivery, notifications, scoping, urgings, workdays
from tracker.services import notification_messages as msg
from tracker.services.errors import DomainError
from tracker.views.auth import safe_next
from tracker.views.forms import apply_errors

bp = Blueprint("notifications", __name__)

SETTING_FIELDS = ("overdue_repeat_days", "escalate_supervisor_days", "escalate_office_days",
                  "unacknowledged_days", "decision_wait_days", "urging_ack_days", "report_day",
                  "weekly_digest_weekday", "daily_digest_hour")


def ticket_page(ticket_id: int) -> str:
    return url_for("tickets.show", ticket_id=ticket_id)


# --- the centre -----------------------------------------------------------------------

@bp.get("/notifications")
@login_required
def index():
    unread_only = request.args.get("unread") == "1"
    before = request.args.get("before", type=int)
    page = notifications.centre(current_user, unread_only=unread_only, before_id=before)
    return render_template("notifications/index.html", page=page, unread_only=unread_only,
                           form=CsrfForm(), kind_label=notifications.kind_label)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    if not CsrfForm().validate_on_submit():
        abort(400)
    notifications.mark_read(current_user, notification_id)
    db.session.commit()
    return redirect(safe_next(request.form.get("next") or url_for("notifications.index")))


@bp.post("/notifications/read-all")
@login_required
def read_all():
    if not CsrfForm().validate_on_submit():
        abort(400)
    count = notifications.mark_all_read(current_user)
    db.session.commit()
    flash(_("%(n)s notifications marked as read.", n=count), "success")
    return redirect(url_for("notifications.index"))


@bp.post("/notifications/<int:notification_id>/open")
@login_required
def open_(notification_id: int):
    """Follow a notification to its ticket, marking it read on the way. A form (POST with
    the CSRF token), since it changes something: never a link a GET could follow."""
    if not CsrfForm().validate_on_submit():
        abort(400)
    row = notifications.mark_read(current_user, notification_id)
    db.session.commit()
    if notifications.ticket_visible(current_user, row.ticket_id):
        return redirect(ticket_page(row.ticket_id))
    return redirect(url_for("notifications.index"))


# --- preferences ----------------------------------------------------------------------

@bp.route("/notifications/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    form = CsrfForm()
    kinds = notifications.kinds_for(current_user)
    if form.validate_on_submit():
        wanted = {kind: (request.form.get(f"email_{kind.value}") == "1",
                         request.form.get(f"mode_{kind.value}") == "digest")
                  for kind in kinds}
        notifications.save_preferences(current_user, wanted)
        db.session.commit()
        flash(_("Your notification preferences were saved."), "success")
        return redirect(url_for("notifications.preferences"))
    return render_template("notifications/preferences.html", form=form, kinds=kinds,
                           choices=notifications.user_choices(current_user),
                           kind_label=notifications.kind_label,
                           never_held=notifications.NEVER_HELD)


# --- the office's settings ------------------------------------------------------------

def _require_manager() -> None:
    if not notifications.can_manage_defaults(current_user):
        abort(403)


@bp.route("/notifications/settings", methods=["GET", "POST"])
@login_required
def settings():
    _require_manager()
    current = notifications.reminder_settings()
    form = SettingsForm(data={**{name: getattr(current, name) for name in SETTING_FIELDS},
                              "offsets": ",".join(str(o) for o in current.offsets),
                              "use_workdays": current.use_workdays})
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            changes = {name: getattr(form, name).data for name in SETTING_FIELDS}
            changes["use_workdays"] = form.use_workdays.data
            try:
                changes["offsets"] = notifications.parse_offsets(form.offsets.data)
                notifications.save_settings(current_user, changes)
                notifications.save_defaults(current_user, {
                    kind: notifications.Choice(
                        is_email=request.form.get(f"email_{kind.value}") == "1",
                        is_digest=request.form.get(f"mode_{kind.value}") == "digest",
                        is_webhook=request.form.get(f"webhook_{kind.value}") == "1")
                    for kind in NotificationKind if kind != NotificationKind.DAILY_DIGEST})
            except DomainError as error:
                db.session.rollback()
                apply_errors(form, error)
                status = 422
            else:
                db.session.commit()
                flash(_("The reminder settings were saved."), "success")
                return redirect(url_for("notifications.settings"))
        else:
            status = 422
    return render_template("notifications/settings.html", form=form,
                           defaults=notifications.defaults(),
                           kinds=[k for k in NotificationKind
                                  if k != NotificationKind.DAILY_DIGEST],
                           kind_label=notifications.kind_label,
                           never_held=notifications.NEVER_HELD,
                           never_webhook=notifications.NEVER_WEBHOOK), status


@bp.route("/notifications/holidays", methods=["GET", "POST"])
@login_required
def holidays():
    _require_manager()
    year = request.args.get("year", type=int)
    if year is None or not 2000 <= year <= 2099:
        year = clock.today().year + 1
    form = HolidayForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                row = workdays.save_holiday(current_user, workdays.HolidayDraft(
                    day=form.day.data, is_workday=form.is_workday.data == "1",
                    name=form.name.data or ""))
            except DomainError as error:
                db.session.rollback()
                apply_errors(form, error)
                status = 422
            else:
                db.session.commit()
                flash(_("Saved."), "success")
                return redirect(url_for("notifications.holidays", year=row.day.year))
        else:
            status = 422
    known = workdays.package_years()
    return render_template("notifications/holidays.html", form=form, year=year,
                           rows=workdays.holidays_of(year), delete_form=CsrfForm(),
                           package_first=known.start, package_last=known.stop - 1,
                           is_known=year in known), status


@bp.post("/notifications/holidays/<day>/delete")
@login_required
def delete_holiday(day: str):
    _require_manager()
    if not CsrfForm().validate_on_submit():
        abort(400)
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        abort(404)
    workdays.delete_holiday(current_user, parsed)
    db.session.commit()
    flash(_("Deleted."), "success")
    return redirect(url_for("notifications.holidays", year=parsed.year))


# --- the administrator's deliveries ---------------------------------------------------

@bp.get("/notifications/deliveries")
@login_required
def deliveries():
    rows = delivery.failed(current_user)
    return render_template("notifications/deliveries.html", rows=rows, form=CsrfForm(),
                           kind_label=notifications.kind_label)


@bp.post("/notifications/deliveries/<int:delivery_id>/retry")
@login_required
def retry(delivery_id: int):
    if not CsrfForm().validate_on_submit():
        abort(400)
    delivery.retry(current_user, delivery_id)
    db.session.commit()
    flash(_("The delivery will be tried again within a minute."), "success")
    return redirect(url_for("notifications.deliveries"))


# --- urging notices -------------------------------------------------------------------

def _render_urging(ticket: Ticket, form, ack_form, urging: UrgingNotice | None, status: int):
    return render_template("notifications/urging.html", ticket=ticket, form=form,
                           ack_form=ack_form, urging=urging,
                           level_label=msg.level_label), status


@bp.post("/tickets/<int:ticket_id>/urgings")
@login_required
def issue_urging(ticket_id: int):
    ticket = scoping.get_ticket(current_user, ticket_id)
    form = UrgingForm()
    if form.validate_on_submit():
        try:
            urgings.issue(current_user, ticket.id, urgings.UrgingDraft(
                level=form.level.data, text=form.text.data, respond_by=form.respond_by.data))
        except DomainError as error:
            db.session.rollback()
            if error.status_code in (403, 404):
                raise
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(_("The urging notice was issued."), "success")
            return redirect(ticket_page(ticket.id) + "#urgings")
    elif not urgings.may_issue(current_user, ticket):
        abort(403)
    return _render_urging(ticket, form, None, None, 422)


@bp.post("/urgings/<int:urging_id>/acknowledge")
@login_required
def acknowledge_urging(urging_id: int):
    urging = db.session.get(UrgingNotice, urging_id)
    if urging is None:
        abort(404)
    ticket = scoping.get_ticket(current_user, urging.ticket_id)
    form = AcknowledgeUrgingForm(prefix=ack_prefix(urging.id))
    if form.validate_on_submit():
        try:
            urgings.acknowledge(current_user, urging.id, form.response.data)
        except DomainError as error:
            db.session.rollback()
            if error.status_code in (403, 404, 409):
                raise
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(_("The urging notice was acknowledged."), "success")
            return redirect(ticket_page(ticket.id) + "#urgings")
    return _render_urging(ticket, None, form, urging, 422)


# --- for every page -------------------------------------------------------------------

def ack_prefix(urging_id: int) -> str:
    """Each acknowledgement form on the ticket page has its own field names and ids."""
    return f"urging{urging_id}"


@dataclass
class UrgingPanel:
    urgings: list[UrgingNotice]
    may_issue: bool
    form: UrgingForm
    #: urging id -> its acknowledgement form, for those the user may acknowledge.
    ack_forms: dict[int, AcknowledgeUrgingForm]


@bp.app_template_global("unread_notifications")
def unread_notifications() -> int:
    """The bell's count: one COUNT query, only where the bell is shown."""
    if not current_user.is_authenticated:
        return 0
    return notifications.unread_count(current_user)


@bp.app_template_global("urging_panel")
def urging_panel(ticket: Ticket) -> UrgingPanel:
    """What the ticket page's urging panel shows to the current user."""
    rows = urgings.for_ticket(ticket)
    return UrgingPanel(
        urgings=rows, may_issue=urgings.may_issue(current_user, ticket),
        form=UrgingForm(formdata=None),
        ack_forms={u.id: AcknowledgeUrgingForm(formdata=None, prefix=ack_prefix(u.id))
                   for u in rows if urgings.may_acknowledge(current_user, ticket, u)})


@bp.app_template_global("urging_level_label")
def urging_level_label(level) -> str:
    return msg.level_label(level)


@bp.app_template_global("failed_deliveries_count")
def failed_deliveries_count() -> int:
    return delivery.failed_count()


@bp.app_template_global("can_manage_notification_defaults")
def can_manage_notification_defaults() -> bool:
    return current_user.is_authenticated and notifications.can_manage_defaults(current_user)
