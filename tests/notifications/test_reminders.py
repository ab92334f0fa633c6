"""The reminder pass, with a controlled clock (Asia/Shanghai): what is due is sent once,
late passes catch up without stale reminders, closed tickets hear nothing."""
import re
import threading
from datetime import date, timedelta

from sqlalchemy import event

from tests import factories
from tests.factories import TODAY
from tests.notifications.conftest import notes
from tracker import scheduler
from tracker.extensions import db
from tracker.models import (
    NotificationKind,
    Ticket,
    TicketStatus,
    TimelineKind,
)
from tracker.services import deadlines, notifications, workflow
from tracker.services.workflow import TicketChanges

K = NotificationKind


def new_ticket(world, deadline: date, lead=None, **kwargs) -> Ticket:
    ticket = factories.ticket(world.office, world.finding, lead or world.k1, deadline=deadline,
                              **kwargs)
    db.session.commit()
    return ticket


def kinds_of(ticket: Ticket, kind: NotificationKind):
    return notes(kind, ticket_id=ticket.id)


def test_ticket_due_in_three_days_gets_exactly_one_three_day_reminder(world, run_pass):
    ticket = new_ticket(world, TODAY + timedelta(days=3))
    run_pass()
    [reminder] = kinds_of(ticket, K.DUE_SOON)
    assert reminder.recipient_user_id == world.unit_k1.id
    assert (reminder.offset_days, reminder.about_on) == (3, date(2026, 11, 24))
    assert "2026年11月24日" in reminder.body and "3" in reminder.body
    assert notes(K.DUE_SOON, ticket_id=world.t1.id) == []  # due in 30 days: nothing yet


def test_second_pass_sends_nothing(world, run_pass):
    new_ticket(world, TODAY + timedelta(days=3))
    first = run_pass()
    second = run_pass()
    assert first.counts["before_deadline"] == 1
    assert second.total == 0


def test_two_passes_started_together_send_one(threaded_app, frozen_today):
    with threaded_app.app_context():
        world = factories.build_world()
        ticket = factories.ticket(world.office, world.finding, world.k1,
                                  deadline=TODAY + timedelta(days=3))
        db.session.commit()
        ticket_id = ticket.id
    start, totals, errors = threading.Barrier(2), [], []

    def one_pass():
        try:
            with threaded_app.app_context():
                start.wait()
                totals.append(scheduler.run_reminders().counts["before_deadline"])
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    threads = [threading.Thread(target=one_pass) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with threaded_app.app_context():
        assert len(notes(K.DUE_SOON, ticket_id=ticket_id)) == 1
        if threaded_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
            db.drop_all()
    assert sorted(totals) == [0, 1]


def test_pass_after_two_days_of_downtime_sends_what_is_due_and_nothing_stale(world, run_pass):
    soon = new_ticket(world, date(2026, 11, 28))  # 7 days: the 7-day reminder today
    passing = new_ticket(world, date(2026, 11, 23))  # 2 days: the 3-day reminder today
    run_pass()
    assert [n.offset_days for n in kinds_of(soon, K.DUE_SOON)] == [7]
    assert [n.offset_days for n in kinds_of(passing, K.DUE_SOON)] == [3]
    # Down for two days: 11-22 and 11-23 never ran. Now 11-24 08:00.
    run_pass("2026-11-24T08:00")
    # 4 days left: the 3-day reminder's moment (11-25) has not come; nothing new.
    assert [n.offset_days for n in kinds_of(soon, K.DUE_SOON)] == [7]
    # The deadline passed while down: its 1-day and same-day reminders are stale.
    assert [n.offset_days for n in kinds_of(passing, K.DUE_SOON)] == [3]
    [notice] = kinds_of(passing, K.OVERDUE)
    assert notice.offset_days == 1 and "1" in notice.body
    # Another two days down: 11-26, 2 days left. The 3-day reminder missed on 11-25 is
    # sent late; the 7-day one is not repeated.
    run_pass("2026-11-26T09:00")
    assert [n.offset_days for n in kinds_of(soon, K.DUE_SOON)] == [7, 3]
    assert "还有2天" in kinds_of(soon, K.DUE_SOON)[1].body or \
        "(2 days left)" in kinds_of(soon, K.DUE_SOON)[1].body


def test_moving_the_deadline_rearms_reminders(world, run_pass):
    ticket = new_ticket(world, date(2026, 11, 24))
    run_pass()
    assert [n.about_on for n in kinds_of(ticket, K.DUE_SOON)] == [date(2026, 11, 24)]
    workflow.edit_ticket(world.office, ticket.id, ticket.version,
                         TicketChanges(deadline=date(2026, 12, 4)))
    db.session.commit()
    [changed] = kinds_of(ticket, K.DEADLINE_CHANGED)
    assert "2026年12月4日" in changed.body
    run_pass("2026-11-27T08:00")  # 7 days before the new deadline
    assert [(n.about_on, n.offset_days) for n in kinds_of(ticket, K.DUE_SOON)] == [
        (date(2026, 11, 24), 3), (date(2026, 12, 4), 7)]
    run_pass("2026-12-01T08:00")
    assert [n.offset_days for n in kinds_of(ticket, K.DUE_SOON)] == [3, 7, 3]


def test_escalation_reaches_the_supervisor_then_the_office_at_the_configured_days(
        world, run_pass):
    ticket = new_ticket(world, date(2026, 11, 20))
    run_pass()  # 1 day overdue: the unit only
    assert [n.recipient_user_id for n in kinds_of(ticket, K.OVERDUE)] == [world.unit_k1.id]
    assert kinds_of(ticket, K.ESCALATION_SUPERVISOR) == []
    run_pass("2026-11-26T08:00")  # 6 days
    assert kinds_of(ticket, K.ESCALATION_SUPERVISOR) == []
    run_pass("2026-11-27T08:00")  # 7 days: the supervisor of the unit's scope
    [escalated] = kinds_of(ticket, K.ESCALATION_SUPERVISOR)
    assert escalated.recipient_user_id == world.supervisor.id
    assert kinds_of(ticket, K.ESCALATION_OFFICE) == []
    run_pass("2026-12-19T08:00")  # 29 days
    assert kinds_of(ticket, K.ESCALATION_OFFICE) == []
    run_pass("2026-12-20T08:00")  # 30 days: the nearest office (the city's)
    assert [n.recipient_user_id for n in kinds_of(ticket, K.ESCALATION_OFFICE)] == [
        world.city_office.id]
    assert len(kinds_of(ticket, K.ESCALATION_SUPERVISOR)) == 1


def test_escalation_days_follow_the_office_settings(world, run_pass):
    notifications.save_settings(world.office, {"escalate_supervisor_days": 3,
                                               "escalate_office_days": 5})
    db.session.commit()
    ticket = new_ticket(world, date(2026, 11, 18))  # 3 days overdue today
    run_pass()
    assert len(kinds_of(ticket, K.ESCALATION_SUPERVISOR)) == 1
    assert kinds_of(ticket, K.ESCALATION_OFFICE) == []
    run_pass("2026-11-23T08:00")
    assert len(kinds_of(ticket, K.ESCALATION_OFFICE)) == 1


def test_overdue_notice_the_day_after_then_weekly(world, run_pass):
    ticket = new_ticket(world, date(2026, 11, 20))
    for day in range(21, 31):
        run_pass(f"2026-11-{day}T08:00")
    for day in range(1, 6):
        run_pass(f"2026-12-0{day}T08:00")
    assert [n.offset_days for n in kinds_of(ticket, K.OVERDUE)] == [1, 8, 15]


def test_closed_ticket_gets_nothing(world, run_pass):
    ticket = new_ticket(world, TODAY + timedelta(days=3))
    workflow.acknowledge(world.unit_k1, ticket.id, ticket.version)
    workflow.add_progress(world.unit_k1, ticket.id, ticket.version, "已完成整改")
    workflow.submit(world.unit_k1, ticket.id, ticket.version)
    workflow.approve(world.office, ticket.id, ticket.version)
    db.session.commit()
    assert ticket.status == TicketStatus.CLOSED
    before = len(notes(ticket_id=ticket.id))
    for moment in ("2026-11-21T12:00", "2026-11-24T08:00", "2026-11-25T08:00",
                   "2026-12-24T08:00"):
        run_pass(moment)
    assert len(notes(ticket_id=ticket.id)) == before


def test_cancelled_ticket_gets_nothing(world, run_pass):
    ticket = new_ticket(world, TODAY - timedelta(days=10))
    workflow.cancel(world.office, ticket.id, ticket.version, "重复交办")
    db.session.commit()
    before = len(notes(ticket_id=ticket.id))
    run_pass()
    run_pass("2026-12-30T08:00")
    assert len(notes(ticket_id=ticket.id)) == before


def test_unsigned_ticket_is_reminded_two_days_after_assignment(world, run_pass):
    run_pass("2026-11-22T20:00")
    assert kinds_of(world.t1, K.UNACKNOWLEDGED) == []
    run_pass("2026-11-23T08:00")
    [reminder] = kinds_of(world.t1, K.UNACKNOWLEDGED)
    assert reminder.recipient_user_id == world.unit_k1.id
    assert "2026年11月21日" in reminder.body


def test_missing_monthly_progress_report_is_reminded_after_the_due_day(world, run_pass):
    t1 = world.t1
    workflow.acknowledge(world.unit_k1, t1.id, t1.version)
    workflow.add_progress(world.unit_k1, t1.id, t1.version, "召开专题会议研究整改")
    workflow.acknowledge(world.unit_k2, world.t2.id, world.t2.version)
    db.session.commit()
    run_pass("2026-12-05T20:00")  # due today: nothing yet
    assert notes(K.REPORT_OWED) == []
    run_pass("2026-12-06T08:00")
    # t1 reported on 11-21, after 11-05: its December report is in; t2 wrote nothing.
    assert [n.ticket_id for n in notes(K.REPORT_OWED)] == [world.t2.id]
    assert notes(K.REPORT_OWED)[0].about_on == date(2026, 12, 5)


def test_submission_waiting_too_long_reminds_whoever_decides(world, run_pass):
    t1 = world.t1
    workflow.acknowledge(world.unit_k1, t1.id, t1.version)
    workflow.add_progress(world.unit_k1, t1.id, t1.version, "整改完成")
    workflow.submit(world.unit_k1, t1.id, t1.version)
    db.session.commit()
    run_pass("2026-11-25T08:00")
    assert kinds_of(t1, K.DECISION_WAITING) == []
    run_pass("2026-11-26T08:00")  # 5 days
    assert [n.recipient_user_id for n in kinds_of(t1, K.DECISION_WAITING)] == [
        world.city_office.id]


def test_pending_extension_waiting_too_long_reminds_the_office(world, run_pass):
    workflow.request_extension(world.unit_k1, world.t1.id, world.t1.version,
                               date(2027, 3, 31), "冬季无法施工")
    db.session.commit()
    run_pass("2026-11-26T08:00")
    [reminder] = kinds_of(world.t1, K.EXTENSION_WAITING)
    assert reminder.recipient_user_id == world.city_office.id
    assert "2027年3月31日" in reminder.body


def test_long_term_ticket_is_reminded_before_its_review_date(world, run_pass):
    ticket = new_ticket(world, date(2026, 11, 25), timeline=TimelineKind.LONG_TERM)
    workflow.acknowledge(world.unit_k1, ticket.id, ticket.version)
    db.session.commit()
    assert ticket.status == TicketStatus.LONG_TERM
    run_pass()
    [reminder] = kinds_of(ticket, K.REVIEW_DUE)
    assert (reminder.about_on, reminder.offset_days) == (date(2026, 11, 25), 7)
    assert kinds_of(ticket, K.DUE_SOON) == []


def test_weekly_digest_is_one_message_per_overseer_not_one_per_ticket(world, run_pass):
    for day in (18, 19):
        new_ticket(world, date(2026, 11, day))
    run_pass("2026-11-23T09:00")  # Monday
    digests = notes(K.WEEKLY_DIGEST, user=world.supervisor)
    assert len(digests) == 1
    assert "城关区" in digests[0].body and "2" in digests[0].body
    assert notes(K.WEEKLY_DIGEST, user=world.sup_c2) == []  # nothing in C2's scope
    run_pass("2026-11-24T09:00")
    assert len(notes(K.WEEKLY_DIGEST, user=world.supervisor)) == 1


def test_reminder_dates_agree_with_the_pages_at_midnight(world, run_pass):
    ticket = new_ticket(world, date(2026, 11, 22))
    run_pass("2026-11-22T23:59:59")
    flags = deadlines.ticket_flags(ticket.id, date(2026, 11, 22), 7)
    assert flags["is_near_due"] and not flags["is_overdue"]
    assert [n.offset_days for n in kinds_of(ticket, K.DUE_SOON)] == [0]
    assert kinds_of(ticket, K.OVERDUE) == []
    run_pass("2026-11-23T00:00:00")
    assert deadlines.ticket_flags(ticket.id, date(2026, 11, 23), 7)["is_overdue"]
    assert [n.offset_days for n in kinds_of(ticket, K.OVERDUE)] == [1]


def test_reminder_due_on_a_holiday_moves_to_the_working_day_before(world, run_pass):
    notifications.save_settings(world.office, {"use_workdays": True, "offsets": (1,)})
    db.session.commit()
    # Deadline Thursday 2026-10-08: the calendar day before (10-07) is National Day; the
    # working day before is Wednesday 09-30.
    ticket = new_ticket(world, date(2026, 10, 8))
    run_pass("2026-09-29T09:00")
    assert kinds_of(ticket, K.DUE_SOON) == []
    run_pass("2026-09-30T09:00")
    [reminder] = kinds_of(ticket, K.DUE_SOON)
    assert reminder.offset_days == 1


# --- at scale: a pass after a complete one looks only at what can have become due ---------

def test_pass_that_finds_nothing_new_renders_nothing(world, run_pass, monkeypatch):
    new_ticket(world, TODAY - timedelta(days=8))  # overdue and escalated to the supervisor
    new_ticket(world, TODAY + timedelta(days=3))
    first = run_pass()
    assert first.counts["overdue"] and first.counts["before_deadline"]
    from tracker.services import notification_messages

    def refuse(*_args, **_kwargs):
        raise AssertionError("a message was rendered although nothing is new")
    for name in ("overdue", "escalation_supervisor", "due_soon", "unacknowledged",
                 "report_owed", "decision_waiting"):
        monkeypatch.setattr(notification_messages, name, refuse)
    assert run_pass("2026-11-21T15:00").total == 0


def test_ticket_changed_after_a_pass_is_looked_at_again_the_same_day(world, run_pass):
    ticket = new_ticket(world, TODAY + timedelta(days=20))
    run_pass()
    assert kinds_of(ticket, K.DUE_SOON) == []
    workflow.edit_ticket(world.office, ticket.id, ticket.version,
                         TicketChanges(deadline=TODAY + timedelta(days=3)))
    db.session.commit()
    run_pass("2026-11-21T15:00")
    assert [n.offset_days for n in kinds_of(ticket, K.DUE_SOON)] == [3]


def test_changed_reminder_rules_make_the_next_pass_look_at_everything(world, run_pass):
    ticket = new_ticket(world, TODAY + timedelta(days=5))
    run_pass()
    assert [n.offset_days for n in kinds_of(ticket, K.DUE_SOON)] == [7]
    # The office reminds 5 days before instead: that moment is today, for a ticket that
    # has not changed since the pass.
    notifications.save_settings(world.office, {"offsets": (5,)})
    db.session.commit()
    run_pass("2026-11-21T15:00")
    assert [n.offset_days for n in kinds_of(ticket, K.DUE_SOON)] == [7, 5]


def test_a_pass_reads_each_units_recipients_once_however_many_batches_name_it(
        app, world, run_pass, monkeypatch):
    for days in range(8, 13):  # five tickets of one unit, overdue and escalated
        new_ticket(world, TODAY - timedelta(days=days))
    monkeypatch.setitem(app.config, "REMINDER_BATCH", 1)
    reads = []

    def record(_conn, _cursor, statement, *_args):
        if re.match(r"\s*SELECT\b.*\bFROM users\b", statement, re.S):
            reads.append(statement)
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        report = run_pass()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert report.counts["overdue"] >= 10  # the unit's user and the supervisor, each ticket
    # The unit's users, its supervisors, its offices: one read each, not one per batch.
    assert len(reads) == 3, reads


def test_every_reminder_names_its_tickets_unit_finding_person_and_source(world, run_pass):
    other = factories.inspection(world.p_office, title="2026年学校安全专项督导")
    other.document_number = "甘教督函〔2026〕7号"
    fnd = factories.finding(other, number=5, title="校舍安全隐患整改不到位")
    soon = factories.ticket(world.office, fnd, world.k1, deadline=date(2026, 12, 24))
    late = factories.ticket(world.office, fnd, world.k1, deadline=TODAY)
    owing = factories.ticket(world.office, fnd, world.k1, deadline=date(2026, 12, 31))
    for ticket in (soon, late, owing):
        ticket.responsible_person = "杨永福"
    db.session.flush()
    workflow.acknowledge(world.unit_k1, owing.id, owing.version)
    db.session.commit()
    run_pass("2026-12-21T08:00")  # 3 days before, 30 days after, report owed since the 5th
    reminders = {K.DUE_SOON, K.OVERDUE, K.ESCALATION_SUPERVISOR, K.ESCALATION_OFFICE,
                 K.UNACKNOWLEDGED, K.REPORT_OWED}
    written = [n for ticket in (soon, late, owing) for n in notes(ticket_id=ticket.id)
               if n.kind in reminders]
    assert {n.kind for n in written} == reminders
    for n in written:
        text = n.subject + n.body
        assert "城关区" in text and "校舍安全隐患整改不到位" in text, n.kind
        assert "杨永福" in n.body and "2026年学校安全专项督导" in n.body, n.kind
        assert "甘教督函〔2026〕7号" in n.body, n.kind
