"""How to call every route of the application, for tests/test_route_table.py.

`ENDPOINTS` maps an endpoint name to a `Call`: the method, a function building the URL and
the request's keyword arguments from the objects a role sees ("in") or must not see ("out"),
and whether the route names an object at all (routes without one are called once)."""
import io
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Callable

from flask import url_for
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tracker.extensions import db
from tracker.models import Notification, Ticket
from tracker.services import evidence as evidence_service
from tracker.services import urgings, workflow

from tests import factories
from tests.evidence import samples

ROLES = ("admin", "office", "city_office", "supervisor", "sup_c2", "unit_k1", "unit_d1",
         "unit_k2")
MISSING = 987654  # an id no row has


def multipart(fields: dict) -> dict:
    values = MultiDict()
    for name, value in fields.items():
        if isinstance(value, tuple):
            data, filename = value
            value = FileStorage(io.BytesIO(data), filename=filename, name=name,
                                content_type="application/octet-stream")
        values.add(name, value)
    boundary, body = encode_multipart(values)
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def build_world() -> SimpleNamespace:
    """Ids of the suite's world plus what the routes name: an inspection per city whose only
    ticket lies in that city, an evidence file, an urging and an extension request on t1
    and on t2, and each role's own objects ("in") and another scope's ("out")."""
    w = factories.build_world()
    w.insp_k1 = factories.inspection(w.p_office, title="城关区专项督导")
    w.finding_k1 = factories.finding(w.insp_k1, title="校舍安全隐患")
    w.t3 = factories.ticket(w.office, w.finding_k1, w.k1, cooperating=[w.d1])
    w.insp_k2 = factories.inspection(w.p_office, title="临夏市专项督导")
    w.finding_k2 = factories.finding(w.insp_k2, title="教师编制不足")
    w.t4 = factories.ticket(w.office, w.finding_k2, w.k2)
    w.ev1 = evidence_service.upload(w.unit_k1, w.t1.id, evidence_service.Upload(
        io.BytesIO(samples.pdf("城关区")), "整改报告.pdf"))
    w.ev2 = evidence_service.upload(w.unit_k2, w.t2.id, evidence_service.Upload(
        io.BytesIO(samples.pdf("临夏市")), "整改报告.pdf"))
    w.urging1 = urgings.issue(w.office, w.t1.id, urgings.UrgingDraft("general", "请加快整改"))
    w.urging2 = urgings.issue(w.office, w.t2.id, urgings.UrgingDraft("general", "请加快整改"))
    later = factories.TODAY + timedelta(days=60)
    w.ext1 = workflow.request_extension(w.unit_k1, w.t1.id, w.t1.version, later, "资金未到位")
    w.ext2 = workflow.request_extension(w.unit_k2, w.t2.id, w.t2.version, later, "资金未到位")
    db.session.flush()

    def notification_of(user):
        return db.session.scalar(select(Notification.id).where(
            Notification.recipient_user_id == user.id).order_by(Notification.id)) or MISSING

    c1 = dict(ticket=w.t1.id, inspection=w.insp_k1.id, finding=w.finding_k1.id,
              evidence=w.ev1.id, unit=w.k1.id, urging=w.urging1.id, extension=w.ext1.id)
    c2 = dict(ticket=w.t2.id, inspection=w.insp_k2.id, finding=w.finding_k2.id,
              evidence=w.ev2.id, unit=w.k2.id, urging=w.urging2.id, extension=w.ext2.id)
    ids = SimpleNamespace(category=w.category.id, c1=w.c1.id, c1_k1=w.k1.id,
                          unit_k2=w.unit_k2.id, sides={})
    for role in ROLES:
        user = getattr(w, role)
        own, other = (c2, c1) if role in ("sup_c2", "unit_k2") else (c1, c2)
        stranger = w.unit_k2 if role != "unit_k2" else w.unit_k1
        ids.sides[role] = {
            "in": SimpleNamespace(**{**own, "unit": user.unit_id if role.startswith("unit_")
                                     else own["unit"]}, user=role,
                                  notification=notification_of(user)),
            "out": SimpleNamespace(**other, user=role, notification=notification_of(stranger)),
        }
    return ids


@dataclass(frozen=True)
class Call:
    method: str
    build: Callable  # (w, o) -> (url, kwargs); o: the role's "in" or "out" objects
    scoped: bool = True  # whether the route names an object that may lie outside the scope

    @property
    def writes(self) -> bool:
        return self.method in ("POST", "PATCH", "DELETE", "PUT")


def _ver(o) -> int:
    ticket = db.session.get(Ticket, o.ticket)
    return ticket.version if ticket else 1


def page(method, endpoint, args=lambda w, o: {}, data=lambda w, o: {}, scoped=True):
    def build(w, o):
        return url_for(endpoint, **args(w, o)), ({"data": data(w, o)} if method == "POST" else {})
    return Call(method, build, scoped)


def api(method, endpoint, args=lambda w, o: {}, body=None, scoped=True, raw=None):
    def build(w, o):
        if raw is not None:
            kwargs = raw(w, o)
        elif method in ("POST", "PATCH", "DELETE"):
            kwargs = {"json": body(w, o) if body else {}}
        else:
            kwargs = {}
        return url_for(endpoint, **args(w, o)), kwargs
    return Call(method, build, scoped)


T = lambda w, o: {"ticket_id": o.ticket}  # noqa: E731
I = lambda w, o: {"inspection_id": o.inspection}  # noqa: E731,E741
F = lambda w, o: {"finding_id": o.finding}  # noqa: E731
E = lambda w, o: {"evidence_id": o.evidence}  # noqa: E731
U = lambda w, o: {"unit_id": o.unit}  # noqa: E731
V = lambda w, o: {"version": _ver(o)}  # noqa: E731
PDF = lambda w, o: multipart({"file": (samples.pdf("补充材料"), "补充材料.pdf")})  # noqa: E731
DAY = lambda days: (factories.TODAY + timedelta(days=days)).isoformat()  # noqa: E731
REASON = "材料不全，请补充"

ENDPOINTS: dict[str, Call] = {
    # --- admin pages: the administrator's alone ---------------------------------------
    "admin.index": page("GET", "admin.index", scoped=False),
    "admin.categories": page("GET", "admin.categories", scoped=False),
    "admin.category_page": page("GET", "admin.category_page",
                                lambda w, o: {"category_id": w.category}, scoped=False),
    "admin.category_active": page("POST", "admin.category_active",
                                  lambda w, o: {"category_id": w.category}, scoped=False),
    "admin.move_category": page("POST", "admin.move_category",
                                lambda w, o: {"category_id": w.category}, scoped=False),
    "admin.units": page("GET", "admin.units", scoped=False),
    "admin.unit_page": page("GET", "admin.unit_page", U),
    "admin.unit_active": page("POST", "admin.unit_active", U),
    "admin.move_unit": page("POST", "admin.move_unit", U),
    "admin.users": page("GET", "admin.users", scoped=False),
    "admin.new_user": page("GET", "admin.new_user", scoped=False),
    "admin.user_page": page("GET", "admin.user_page",
                            lambda w, o: {"user_id": w.unit_k2}, scoped=False),
    "admin.user_active": page("POST", "admin.user_active",
                              lambda w, o: {"user_id": w.unit_k2}, scoped=False),
    "admin.reset_password": page("POST", "admin.reset_password",
                                 lambda w, o: {"user_id": w.unit_k2}, scoped=False),
    # --- API: auth, units, inspections, findings ------------------------------------------
    "api.create_token": api("POST", "api.create_token", scoped=False,
                            body=lambda w, o: {"username": o.user,
                                               "password": "wrong password"}),
    "api.revoke_token": api("DELETE", "api.revoke_token", scoped=False, raw=lambda w, o: {}),
    "api.list_units": api("GET", "api.list_units", scoped=False),
    "api.get_unit": api("GET", "api.get_unit", U),
    "api.create_unit": api("POST", "api.create_unit", scoped=False, body=lambda w, o: {
        "code": "620103", "name": "七里河区", "kind": "county", "parent_id": w.c1}),
    "api.patch_unit": api("PATCH", "api.patch_unit", U, body=lambda w, o: {"name": "改名区"}),
    "api.list_inspections": api("GET", "api.list_inspections", scoped=False),
    "api.get_inspection": api("GET", "api.get_inspection", I),
    "api.create_inspection": api("POST", "api.create_inspection", scoped=False,
                                 body=lambda w, o: {}),
    "api.patch_inspection": api("PATCH", "api.patch_inspection", I,
                                body=lambda w, o: {"title": "改名督导"}),
    "api.list_findings": api("GET", "api.list_findings", I),
    "api.create_finding": api("POST", "api.create_finding", I,
                              body=lambda w, o: {"title": "新增问题"}),
    "api.get_finding": api("GET", "api.get_finding", F),
    "api.patch_finding": api("PATCH", "api.patch_finding", F,
                             body=lambda w, o: {"title": "改名问题"}),
    "api.split_finding": api("POST", "api.split_finding", F, body=lambda w, o: {
        "tickets": [{"lead_unit_id": w.c1_k1, "deadline": DAY(30)}]}),
    # --- API: tickets ----------------------------------------------------------------------
    "api.ticket_list": api("GET", "api.ticket_list", scoped=False),
    "api.ticket_detail": api("GET", "api.ticket_detail", T),
    "api.ticket_patch": api("PATCH", "api.ticket_patch", T,
                            body=lambda w, o: {**V(w, o), "measures": "调整措施"}),
    "api.ticket_acknowledge": api("POST", "api.ticket_acknowledge", T, body=V),
    "api.ticket_decline": api("POST", "api.ticket_decline", T,
                              body=lambda w, o: {**V(w, o), "reason": REASON}),
    "api.ticket_progress": api("POST", "api.ticket_progress", T,
                               body=lambda w, o: {**V(w, o), "text": "已完成一半"}),
    "api.ticket_submit": api("POST", "api.ticket_submit", T, body=V),
    "api.ticket_approve": api("POST", "api.ticket_approve", T, body=V),
    "api.ticket_return": api("POST", "api.ticket_return", T,
                             body=lambda w, o: {**V(w, o), "reason": REASON}),
    "api.ticket_long_term": api("POST", "api.ticket_long_term", T, body=lambda w, o: {
        **V(w, o), "stage_goal": "三年内完成", "next_review_on": DAY(90),
        "review_cycle_days": 90}),
    "api.ticket_cancel": api("POST", "api.ticket_cancel", T,
                             body=lambda w, o: {**V(w, o), "reason": REASON}),
    "api.ticket_reopen": api("POST", "api.ticket_reopen", T, body=lambda w, o: {
        **V(w, o), "reason": REASON, "deadline": DAY(60)}),
    "api.ticket_request_extension": api("POST", "api.ticket_request_extension", T,
                                        body=lambda w, o: {**V(w, o), "deadline": DAY(90),
                                                           "reason": REASON}),
    "api.extension_request_list": api("GET", "api.extension_request_list", scoped=False),
    "api.extension_request_approve": api("POST", "api.extension_request_approve",
                                         lambda w, o: {"request_id": o.extension}, body=V),
    "api.extension_request_refuse": api("POST", "api.extension_request_refuse",
                                        lambda w, o: {"request_id": o.extension}, body=V),
    # --- API: evidence, urgings, notifications, summary --------------------------------
    "api.list_evidence": api("GET", "api.list_evidence", T),
    "api.upload_evidence": api("POST", "api.upload_evidence", T, raw=PDF),
    "api.download_evidence": api("GET", "api.download_evidence", E),
    "api.supersede_evidence": api("POST", "api.supersede_evidence", E, raw=PDF),
    "api.withdraw_evidence": api("POST", "api.withdraw_evidence", E,
                                 body=lambda w, o: {"reason": REASON}),
    "api.issue_urging": api("POST", "api.issue_urging", T,
                            body=lambda w, o: {"level": "general", "text": "请加快整改"}),
    "api.list_ticket_urgings": api("GET", "api.list_ticket_urgings", T),
    "api.acknowledge_urging": api("POST", "api.acknowledge_urging",
                                  lambda w, o: {"urging_id": o.urging},
                                  body=lambda w, o: {"response": "已收到"}),
    "api.list_notifications": api("GET", "api.list_notifications", scoped=False),
    "api.read_notification": api("POST", "api.read_notification",
                                 lambda w, o: {"notification_id": o.notification}),
    "api.summary": api("GET", "api.summary", scoped=False),
    # --- pages: sign-in, home, dashboard, queue ----------------------------------------
    "auth.login": page("GET", "auth.login", scoped=False),
    "auth.logout": page("POST", "auth.logout", scoped=False),
    "main.index": page("GET", "main.index", scoped=False),
    "main.account": page("GET", "main.account", scoped=False),
    "dashboard.index": page("GET", "dashboard.index", scoped=False),
    "dashboard.data": page("GET", "dashboard.data", scoped=False),
    "dashboard.printable": page("GET", "dashboard.printable", scoped=False),
    "queue.index": page("GET", "queue.index", scoped=False),
    # --- pages: evidence -----------------------------------------------------------------
    "evidence.download": page("GET", "evidence.download", E),
    "evidence.preview": page("GET", "evidence.preview", E),
    "evidence.panel": page("GET", "evidence.panel", T),
    "evidence.ticket_zip": page("GET", "evidence.ticket_zip", T),
    "evidence.finding_zip": page("GET", "evidence.finding_zip", F),
    "evidence.inspection_zip": page("GET", "evidence.inspection_zip", I),
    "evidence.upload": Call("POST", lambda w, o: (
        url_for("evidence.upload", ticket_id=o.ticket), PDF(w, o))),
    "evidence.supersede": Call("POST", lambda w, o: (
        url_for("evidence.supersede", evidence_id=o.evidence), PDF(w, o))),
    "evidence.withdraw": page("POST", "evidence.withdraw", E,
                              lambda w, o: {"reason": REASON}),
    # --- pages: exports and imports -------------------------------------------------------
    "exports.index": page("GET", "exports.index", scoped=False),
    "exports.ledger": page("GET", "exports.ledger", scoped=False),
    "exports.report": page("GET", "exports.report", scoped=False),
    "exports.handover": page("GET", "exports.handover", scoped=False),
    "exports.findings_template": page("GET", "exports.findings_template", scoped=False),
    "exports.findings_export": page("GET", "exports.findings_export", I),
    "exports.findings_upload": page("GET", "exports.findings_upload", scoped=False),
    "exports.findings_confirm": page("POST", "exports.findings_confirm", scoped=False),
    "exports.reconcile_upload": page("GET", "exports.reconcile_upload", scoped=False),
    "exports.reconcile_confirm": page("POST", "exports.reconcile_confirm", scoped=False),
    "exports.units_download": page("GET", "exports.units_download", scoped=False),
    "exports.units_upload": page("GET", "exports.units_upload", scoped=False),
    "exports.units_confirm": page("POST", "exports.units_confirm", scoped=False),
    "exports.users_download": page("GET", "exports.users_download", scoped=False),
    # --- pages: inspections and findings -------------------------------------------------
    "inspections.index": page("GET", "inspections.index", scoped=False),
    "inspections.create": page("GET", "inspections.create", scoped=False),
    "inspections.detail": page("GET", "inspections.detail", I),
    "inspections.edit": page("GET", "inspections.edit", I),
    "inspections.new_finding": page("GET", "inspections.new_finding", I),
    "inspections.finding": page("GET", "inspections.finding", F),
    "inspections.edit_finding": page("GET", "inspections.edit_finding", F),
    "inspections.split": page("GET", "inspections.split", F),
    # --- pages: notifications and urgings ------------------------------------------------
    "notifications.index": page("GET", "notifications.index", scoped=False),
    "notifications.open_": page("POST", "notifications.open_",
                                lambda w, o: {"notification_id": o.notification}),
    "notifications.read": page("POST", "notifications.read",
                               lambda w, o: {"notification_id": o.notification}),
    "notifications.read_all": page("POST", "notifications.read_all", scoped=False),
    "notifications.preferences": page("GET", "notifications.preferences", scoped=False),
    "notifications.settings": page("GET", "notifications.settings", scoped=False),
    "notifications.holidays": page("GET", "notifications.holidays", scoped=False),
    "notifications.delete_holiday": page("POST", "notifications.delete_holiday",
                                         lambda w, o: {"day": "2026-10-01"}, scoped=False),
    "notifications.deliveries": page("GET", "notifications.deliveries", scoped=False),
    "notifications.retry": page("POST", "notifications.retry",
                                lambda w, o: {"delivery_id": MISSING}, scoped=False),
    "notifications.issue_urging": page("POST", "notifications.issue_urging", T,
                                       lambda w, o: {"level": "general", "text": "请加快整改"}),
    "notifications.acknowledge_urging": page("POST", "notifications.acknowledge_urging",
                                             lambda w, o: {"urging_id": o.urging},
                                             lambda w, o: {"response": "已收到"}),
    # --- pages: tickets --------------------------------------------------------------------
    "tickets.index": page("GET", "tickets.index", scoped=False),
    "tickets.unit_options": page("GET", "tickets.unit_options", scoped=False),
    "tickets.inspection_options": page("GET", "tickets.inspection_options", scoped=False),
    "tickets.mine": page("GET", "tickets.mine", scoped=False),
    "tickets.show": page("GET", "tickets.show", T),
    "tickets.edit": page("GET", "tickets.edit", T),
    "tickets.act": page("POST", "tickets.act",
                        lambda w, o: {"ticket_id": o.ticket, "action": "acknowledge"},
                        lambda w, o: {"acknowledge-version": _ver(o)}),
}


#: endpoint → the status per role, in the order of ROLES: "in/out" for routes naming an
#: object (the role's own object / another scope's), one status for routes naming none.
#: Read from the views and checked against them: 302 is a redirect (to the sign-in page, the
#: next page after a form, or back to the ticket with a flashed refusal); 400/422 an
#: incomplete body; 409 a state the action does not apply to.
EXPECTED = {
    "admin.categories": "200 403 403 403 403 403 403 403",
    "admin.category_active": "302 403 403 403 403 403 403 403",
    "admin.category_page": "200 403 403 403 403 403 403 403",
    "admin.index": "302 302 302 403 403 403 403 403",
    "admin.move_category": "302 403 403 403 403 403 403 403",
    "admin.move_unit": "200/200 403/403 403/403 403/403 403/403 403/403 403/403 403/403",
    "admin.new_user": "200 403 403 403 403 403 403 403",
    "admin.reset_password": "200 403 403 403 403 403 403 403",
    "admin.unit_active": "302/302 403/403 403/403 403/403 403/403 403/403 403/403 403/403",
    "admin.unit_page": "200/200 200/200 200/404 403/403 403/403 403/403 403/403 403/403",
    "admin.units": "200 200 200 403 403 403 403 403",
    "admin.user_active": "302 403 403 403 403 403 403 403",
    "admin.user_page": "200 403 403 403 403 403 403 403",
    "admin.users": "200 403 403 403 403 403 403 403",
    "api.acknowledge_urging": "403/403 403/403 403/404 403/404 403/404 200/404 403/404 200/404",
    "api.create_finding": "403/403 201/201 403/404 403/404 403/404 403/404 403/404 403/404",
    "api.create_inspection": "422 422 422 422 422 422 422 422",
    "api.create_token": "401 401 401 401 401 401 401 401",
    "api.create_unit": "201 201 201 403 403 403 403 403",
    "api.download_evidence": "200/200 200/200 200/404 200/404 200/404 200/404 200/404 200/404",
    "api.extension_request_approve": "403/403 200/200 200/404 403/404 403/404 403/404 403/404 403/404",
    "api.extension_request_list": "200 200 200 200 200 200 200 200",
    "api.extension_request_refuse": "403/403 200/200 200/404 403/404 403/404 403/404 403/404 403/404",
    "api.get_finding": "200/200 200/200 200/404 200/404 200/404 200/404 200/404 200/404",
    "api.get_inspection": "200/200 200/200 200/404 200/404 200/404 200/404 200/404 200/404",
    "api.get_unit": "200/200 200/200 200/404 200/404 200/404 200/404 200/404 200/404",
    "api.issue_urging": "403/403 201/201 201/404 201/404 201/404 403/404 403/404 403/404",
    "api.list_evidence": "200/200 200/200 200/404 200/404 200/404 200/404 200/404 200/404",
    "api.list_findings": "200/200 200/200 200/404 200/404 200/404 200/404 200/404 200/404",
    "api.list_inspections": "200 200 200 200 200 200 200 200",
    "api.list_notifications": "200 200 200 200 200 200 200 200",
    "api.list_ticket_urgings": "200/200 200/200 200/404 200/404 200/404 200/404 200/404 200/404",
    "api.list_units": "200 200 200 200 200 200 200 200",
    "api.patch_finding": "403/403 200/200 403/404 403/404 403/404 403/404 403/404 403/404",
    "api.patch_inspection": "403/403 200/200 403/404 403/404 403/404 403/404 403/404 403/404",
    "api.patch_unit": "200/200 200/200 200/404 403/404 403/404 403/404 403/404 403/404",
    "api.read_notification": "404/404 200/404 200/404 404/404 404/404 200/404 200/404 200/404",
    "api.revoke_token": "204 204 204 204 204 204 204 204",
    "api.split_finding": "403/403 201/201 403/404 403/404 403/404 403/404 403/404 403/404",
    "api.summary": "200 200 200 200 200 200 200 200",
    "api.supersede_evidence": "403/403 403/403 403/404 403/404 403/404 201/404 201/404 201/404",
    "api.ticket_acknowledge": "403/403 403/403 403/404 403/404 403/404 200/404 403/404 200/404",
    "api.ticket_approve": "403/403 409/409 409/404 403/404 403/404 403/404 403/404 403/404",
    "api.ticket_cancel": "403/403 200/200 200/404 403/404 403/404 403/404 403/404 403/404",
    "api.ticket_decline": "403/403 403/403 403/404 403/404 403/404 200/404 403/404 200/404",
    "api.ticket_detail": "200/200 200/200 200/404 200/404 200/404 200/404 200/404 200/404",
    "api.ticket_list": "200 200 200 200 200 200 200 200",
    "api.ticket_long_term": "403/403 409/409 409/404 403/404 403/404 403/404 403/404 403/404",
    "api.ticket_patch": "403/403 200/200 200/404 403/404 403/404 403/404 403/404 403/404",
    "api.ticket_progress": "403/403 403/403 403/404 403/404 403/404 201/404 201/404 201/404",
    "api.ticket_reopen": "403/403 409/409 409/404 403/404 403/404 403/404 403/404 403/404",
    "api.ticket_request_extension": "403/403 403/403 403/404 403/404 403/404 409/404 403/404 409/404",
    "api.ticket_return": "403/403 409/409 409/404 403/404 403/404 403/404 403/404 403/404",
    "api.ticket_submit": "403/403 403/403 403/404 403/404 403/404 409/404 403/404 409/404",
    "api.upload_evidence": "403/403 403/403 403/404 403/404 403/404 201/404 201/404 201/404",
    "api.withdraw_evidence": "403/403 403/403 403/404 403/404 403/404 200/404 403/404 200/404",
    "auth.login": "302 302 302 302 302 302 302 302",
    "auth.logout": "302 302 302 302 302 302 302 302",
    "dashboard.data": "200 200 200 200 200 200 200 200",
    "dashboard.index": "200 200 200 200 200 200 200 200",
    "dashboard.printable": "200 200 200 200 200 200 200 200",
    "evidence.download": "200/200 200/200 200/404 200/404 200/404 200/404 200/404 200/404",
    "evidence.finding_zip": "404/404 404/404 404/404 404/404 404/404 403/403 403/403 403/403",
    "evidence.inspection_zip": "404/404 404/404 404/404 404/404 404/404 403/403 403/403 403/403",
    "evidence.panel": "200/200 200/200 200/404 200/404 200/404 200/404 200/404 200/404",
    "evidence.preview": "200/200 200/200 200/404 200/404 200/404 200/404 200/404 200/404",
    "evidence.supersede": "302/302 302/302 302/404 302/404 302/404 302/404 302/404 302/404",
    "evidence.ticket_zip": "200/200 200/200 200/404 200/404 200/404 403/403 403/403 403/403",
    "evidence.upload": "302/302 302/302 302/404 302/404 302/404 302/404 302/404 302/404",
    "evidence.withdraw": "302/302 302/302 302/404 302/404 302/404 302/404 302/404 302/404",
    "exports.findings_confirm": "403 400 400 403 403 403 403 403",
    "exports.findings_export": "200/200 200/200 200/404 200/404 200/404 200/404 200/404 200/404",
    "exports.findings_template": "200 200 200 200 200 200 200 200",
    "exports.findings_upload": "403 200 200 403 403 403 403 403",
    "exports.handover": "200 200 200 403 403 403 403 403",
    "exports.index": "200 200 200 200 200 200 200 200",
    "exports.ledger": "200 200 200 200 200 200 200 200",
    "exports.reconcile_confirm": "403 400 400 403 403 403 403 403",
    "exports.reconcile_upload": "403 200 200 403 403 403 403 403",
    "exports.report": "200 200 200 200 200 200 200 200",
    "exports.units_confirm": "400 403 403 403 403 403 403 403",
    "exports.units_download": "200 403 403 403 403 403 403 403",
    "exports.units_upload": "200 403 403 403 403 403 403 403",
    "exports.users_download": "200 403 403 403 403 403 403 403",
    "inspections.create": "403 200 200 403 403 403 403 403",
    "inspections.detail": "200/200 200/200 200/404 200/404 200/404 200/404 200/404 200/404",
    "inspections.edit": "403/403 200/200 403/404 403/404 403/404 403/404 403/404 403/404",
    "inspections.edit_finding": "403/403 200/200 403/404 403/404 403/404 403/404 403/404 403/404",
    "inspections.finding": "200/200 200/200 200/404 200/404 200/404 200/404 200/404 200/404",
    "inspections.index": "200 200 200 200 200 200 200 200",
    "inspections.new_finding": "403/403 200/200 403/404 403/404 403/404 403/404 403/404 403/404",
    "inspections.split": "403/403 200/200 403/404 403/404 403/404 403/404 403/404 403/404",
    "main.account": "200 200 200 200 200 200 200 200",
    "main.index": "302 302 302 302 302 302 302 302",
    "notifications.acknowledge_urging": "403/403 403/403 403/404 403/404 403/404 302/404 403/404 302/404",
    "notifications.delete_holiday": "404 404 403 403 403 403 403 403",
    "notifications.deliveries": "200 403 403 403 403 403 403 403",
    "notifications.holidays": "200 200 403 403 403 403 403 403",
    "notifications.index": "200 200 200 200 200 200 200 200",
    "notifications.issue_urging": "403/403 302/302 302/404 302/404 302/404 403/404 403/404 403/404",
    "notifications.open_": "404/404 302/404 302/404 404/404 404/404 302/404 302/404 302/404",
    "notifications.preferences": "200 200 200 200 200 200 200 200",
    "notifications.read": "404/404 302/404 302/404 404/404 404/404 302/404 302/404 302/404",
    "notifications.read_all": "302 302 302 302 302 302 302 302",
    "notifications.retry": "404 403 403 403 403 403 403 403",
    "notifications.settings": "200 200 403 403 403 403 403 403",
    "queue.index": "200 200 200 200 200 302 302 302",
    "tickets.act": "403/403 403/403 403/404 403/404 403/404 302/404 403/404 302/404",
    "tickets.edit": "403/403 200/200 200/404 403/404 403/404 403/404 403/404 403/404",
    "tickets.index": "200 200 200 200 200 200 200 200",
    "tickets.unit_options": "200 200 200 200 200 200 200 200",
    "tickets.inspection_options": "200 200 200 200 200 200 200 200",
    "tickets.mine": "302 302 302 302 302 200 200 200",
    "tickets.show": "200/200 200/200 200/404 200/404 200/404 200/404 200/404 200/404",
}
