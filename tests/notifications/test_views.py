"""The notification pages: the centre and the bell, preferences, the office's settings and
holidays, the administrator's failed deliveries, urging notices on the ticket page."""
from datetime import date

import pytest
from sqlalchemy import event, select

from tests.notifications.conftest import notes
from tracker.extensions import db
from tracker.models import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    Holiday,
    NotificationKind,
    NotificationPreference,
    UrgingNotice,
)
from tracker.services import notifications, urgings

K = NotificationKind


def test_centre_lists_only_the_users_own_notifications(world, login):
    client = login("unit_k1")
    page = client.get("/notifications").get_data(as_text=True)
    assert "城关区" in page
    assert "临夏市" not in page  # unit_k2's news


def test_mark_read_and_the_bell_count(world, login):
    client = login("unit_k1")
    [news] = notes(K.ASSIGNED, user=world.unit_k1)
    assert notifications.unread_count(world.unit_k1) == 1
    assert 'aria-label="' in client.get("/notifications").get_data(as_text=True)
    response = client.post(f"/notifications/{news.id}/read", data={"next": "/notifications"})
    assert response.status_code == 302
    assert notifications.unread_count(world.unit_k1) == 0


def test_bell_costs_one_query(world, app):
    user = db.session.get(type(world.unit_k1), world.unit_k1.id)
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert notifications.unread_count(user) == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1 and "count" in statements[0].lower()


def test_someone_elses_notification_does_not_exist(world, login):
    [news] = notes(K.ASSIGNED, user=world.unit_k2)
    client = login("unit_k1")
    assert client.post(f"/notifications/{news.id}/read").status_code == 404
    assert client.post(f"/notifications/{news.id}/open").status_code == 404


def test_opening_a_notification_marks_it_read_and_leads_to_the_ticket(world, login):
    [news] = notes(K.ASSIGNED, user=world.unit_k1)
    response = login("unit_k1").post(f"/notifications/{news.id}/open")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/tickets/{world.t1.id}")
    assert notes(K.ASSIGNED, user=world.unit_k1)[0].read_at is not None


def test_a_get_never_opens_or_marks_a_notification_read(world, login):
    [news] = notes(K.ASSIGNED, user=world.unit_k1)
    assert login("unit_k1").get(f"/notifications/{news.id}/open").status_code == 405
    assert notes(K.ASSIGNED, user=world.unit_k1)[0].read_at is None


def test_the_centre_opens_a_notification_with_a_form_carrying_the_csrf_token(
        world, login, app):
    import re

    [news] = notes(K.ASSIGNED, user=world.unit_k1)
    client = login("unit_k1")
    app.config["WTF_CSRF_ENABLED"] = True  # as in production (the suite turns it off)
    try:
        page = client.get("/notifications").get_data(as_text=True)
        action = f'action="/notifications/{news.id}/open"'
        form = re.search(rf'<form method="post" {action}.*?</form>', page, re.S)
        assert form, "the subject is not a POST form"
        assert f'href="/notifications/{news.id}/open"' not in page
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form.group(0))
        assert client.post(f"/notifications/{news.id}/open").status_code == 400  # no token
        assert notes(K.ASSIGNED, user=world.unit_k1)[0].read_at is None
        response = client.post(f"/notifications/{news.id}/open",
                               data={"csrf_token": token.group(1)})
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/tickets/{world.t1.id}")
        assert notes(K.ASSIGNED, user=world.unit_k1)[0].read_at is not None
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_mark_all_read(world, login):
    client = login("unit_d1")
    assert client.post("/notifications/read-all").status_code == 302
    assert notifications.unread_count(world.unit_d1) == 0


def test_preferences_are_saved_per_kind(world, login):
    client = login("unit_k1")
    assert client.get("/notifications/preferences").status_code == 200
    form = {f"email_{k.value}": "1" for k in notifications.UNIT_KINDS if k != K.OVERDUE}
    form["mode_due_soon"] = "digest"
    assert client.post("/notifications/preferences", data=form).status_code == 302
    rows = {r.kind: r for r in db.session.scalars(select(NotificationPreference).where(
        NotificationPreference.user_id == world.unit_k1.id))}
    assert rows[K.OVERDUE].is_email is False
    assert rows[K.DUE_SOON].is_digest is True and rows[K.ASSIGNED].is_digest is False


@pytest.mark.parametrize("username, status", [
    ("unit_k1", 403), ("supervisor", 403), ("city_office", 403), ("office", 200),
    ("admin", 200)])
def test_only_the_top_office_and_the_administrator_set_the_rules(world, login, username,
                                                                 status):
    client = login(username)
    assert client.get("/notifications/settings").status_code == status
    assert client.get("/notifications/holidays").status_code == status


def settings_form(**changes):
    form = {"offsets": "7,3,1,0", "overdue_repeat_days": "7", "escalate_supervisor_days": "7",
            "escalate_office_days": "30", "unacknowledged_days": "2",
            "decision_wait_days": "5", "urging_ack_days": "2", "report_day": "5",
            "weekly_digest_weekday": "0", "daily_digest_hour": "8"}
    form.update({f"email_{k.value}": "1" for k in K})
    form.update(changes)
    return form


def test_office_saves_offsets_and_defaults(world, login):
    client = login("office")
    response = client.post("/notifications/settings", data=settings_form(
        offsets="10，5、1", webhook_overdue="1"))
    assert response.status_code == 302
    settings = notifications.reminder_settings()
    assert settings.offsets == (10, 5, 1)
    defaults = notifications.defaults()
    assert defaults[K.OVERDUE].is_webhook and not defaults[K.DUE_SOON].is_webhook


def test_bad_offsets_are_refused_at_the_field(world, login):
    client = login("office")
    response = client.post("/notifications/settings", data=settings_form(offsets="7,x"))
    assert response.status_code == 422
    assert "invalid-feedback" in response.get_data(as_text=True)
    assert notifications.reminder_settings().offsets == (7, 3, 1, 0)


def test_office_escalation_before_supervisors_is_refused(world, login):
    response = login("office").post("/notifications/settings", data=settings_form(
        escalate_supervisor_days="10", escalate_office_days="5"))
    assert response.status_code == 422


def test_office_enters_and_deletes_a_holiday(world, login):
    client = login("office")
    response = client.post("/notifications/holidays", data={
        "day": "2027-02-06", "is_workday": "0", "name": "春节"})
    assert response.status_code == 302
    assert db.session.get(Holiday, date(2027, 2, 6)).name == "春节"
    page = client.get("/notifications/holidays?year=2027").get_data(as_text=True)
    assert "春节" in page
    assert client.post("/notifications/holidays/2027-02-06/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(Holiday, date(2027, 2, 6)) is None


def test_holiday_without_a_date_is_refused_at_the_field(world, login):
    response = login("office").post("/notifications/holidays", data={"is_workday": "0"})
    assert response.status_code == 422


def test_failed_deliveries_are_for_the_administrator(world, login):
    [news] = notes(K.ASSIGNED, user=world.unit_k1)
    row = Delivery(notification_id=news.id, channel=DeliveryChannel.EMAIL, target="x@y.cn",
                   status=DeliveryStatus.DEAD, attempts=8, last_error="SMTP 550 no such user")
    db.session.add(row)
    db.session.commit()
    assert login("office").get("/notifications/deliveries").status_code == 403
    client = login("admin")
    page = client.get("/notifications/deliveries").get_data(as_text=True)
    assert "SMTP 550 no such user" in page
    assert client.post(f"/notifications/deliveries/{row.id}/retry").status_code == 302
    db.session.expire_all()
    assert db.session.get(Delivery, row.id).status == DeliveryStatus.PENDING
    assert login("office").post(f"/notifications/deliveries/{row.id}/retry").status_code == 403


def test_supervisor_issues_an_urging_notice_and_the_unit_acknowledges_it(world, login):
    client = login("supervisor")
    page = client.get(f"/tickets/{world.t1.id}").get_data(as_text=True)
    assert 'id="urgings"' in page
    response = client.post(f"/tickets/{world.t1.id}/urgings", data={
        "level": "listed", "text": "请于本月底前完成整改并报送佐证材料", "respond_by": "2026-11-30"})
    assert response.status_code == 302
    urging = db.session.scalars(select(UrgingNotice)).one()
    [told] = notes(K.URGING, user=world.unit_k1)
    assert "本月底" in told.body and told.urging_id == urging.id
    client = login("unit_k1")
    page = client.get(f"/tickets/{world.t1.id}").get_data(as_text=True)
    assert f"/urgings/{urging.id}/acknowledge" in page
    response = client.post(f"/urgings/{urging.id}/acknowledge",
                           data={f"urging{urging.id}-response": "已部署"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(UrgingNotice, urging.id).acknowledged_at is not None
    [answer] = notes(K.URGING_ACKNOWLEDGED, user=world.supervisor)
    assert "已部署" in answer.body


def test_urging_without_text_is_refused_at_the_field(world, login):
    response = login("city_office").post(f"/tickets/{world.t1.id}/urgings",
                                         data={"level": "general", "text": ""})
    assert response.status_code == 422
    assert "invalid-feedback" in response.get_data(as_text=True)
    assert db.session.scalars(select(UrgingNotice)).all() == []


@pytest.mark.parametrize("username, status", [("sup_c2", 404), ("unit_k1", 403),
                                              ("unit_k2", 404)])
def test_urging_outside_the_scope_or_by_a_unit_is_refused(world, login, username, status):
    response = login(username).post(f"/tickets/{world.t1.id}/urgings",
                                    data={"level": "general", "text": "请加快进度"})
    assert response.status_code == status
    assert db.session.scalars(select(UrgingNotice)).all() == []


def test_overlong_reply_is_refused_at_the_field(world, login):
    urging = urgings.issue(world.supervisor, world.t1.id, urgings.UrgingDraft(
        level="general", text="请加快进度"))
    db.session.commit()
    response = login("unit_k1").post(f"/urgings/{urging.id}/acknowledge",
                                     data={f"urging{urging.id}-response": "长" * 2001})
    assert response.status_code == 422
    assert "invalid-feedback" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(UrgingNotice, urging.id).acknowledged_at is None
