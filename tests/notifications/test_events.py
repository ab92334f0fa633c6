"""News of workflow events, written by the receivers of `events.ticket_event` in the
transaction of the change itself."""
from datetime import date

from tests import factories
from tests.notifications.conftest import notes
from tracker.extensions import db
from tracker.models import Delivery, NotificationKind, Notification, Role
from tracker.services import notifications, workflow

K = NotificationKind


def test_assignment_tells_the_lead_unit_and_the_cooperating_unit(world):
    [lead] = notes(K.ASSIGNED, user=world.unit_k1, ticket_id=world.t1.id)
    [coop] = notes(K.ASSIGNED, user=world.unit_d1, ticket_id=world.t1.id)
    assert "城关区" in lead.subject and "2026年12月21日" in lead.body
    assert "兰州市财政局" in coop.body
    assert notes(K.ASSIGNED, user=world.unit_k2, ticket_id=world.t1.id) == []


def test_news_is_rolled_back_with_the_change(world):
    workflow.decline(world.unit_k1, world.t1.id, world.t1.version, "不属于本单位职责")
    db.session.flush()
    assert len(notes(K.DECLINED)) == 1
    db.session.rollback()
    assert notes(K.DECLINED) == []


def test_each_unit_is_overseen_by_every_user_of_its_nearest_covering_level(world):
    second = factories.user("city_office_2", Role.OFFICE, world.c1_office, scope=world.c1)
    factories.user("retired", Role.OFFICE, world.c1_office, scope=world.k1).is_active_user = False
    db.session.flush()
    offices = notifications.overseers([world.k1.id, world.d1.id, world.k2.id], Role.OFFICE)
    supervisors = notifications.overseers([world.k1.id, world.p.id], Role.SUPERVISOR)
    # K1 and D1: both of C1's offices (K1's own office is inactive); K2: the province's.
    assert {unit: [u.id for u in users] for unit, users in offices.items()} == {
        world.k1.id: [world.city_office.id, second.id],
        world.d1.id: [world.city_office.id, second.id], world.k2.id: [world.office.id]}
    assert [u.id for u in supervisors[world.k1.id]] == [world.supervisor.id]
    assert supervisors[world.p.id] == []  # nobody supervises the province itself


def test_decline_tells_the_nearest_office(world):
    workflow.decline(world.unit_k1, world.t1.id, world.t1.version, "不属于本单位职责")
    db.session.commit()
    [news] = notes(K.DECLINED)
    assert news.recipient_user_id == world.city_office.id
    assert "不属于本单位职责" in news.body


def test_submission_tells_whoever_decides_and_return_and_approval_tell_the_unit(world):
    t1 = world.t1
    workflow.acknowledge(world.unit_k1, t1.id, t1.version)
    workflow.add_progress(world.unit_k1, t1.id, t1.version, "已落实")
    workflow.submit(world.unit_k1, t1.id, t1.version)
    db.session.commit()
    assert [n.recipient_user_id for n in notes(K.SUBMITTED)] == [world.city_office.id]
    workflow.return_ticket(world.office, t1.id, t1.version, "佐证材料不全")
    db.session.commit()
    [returned] = notes(K.RETURNED)
    assert returned.recipient_user_id == world.unit_k1.id and "佐证材料不全" in returned.body
    workflow.submit(world.unit_k1, t1.id, t1.version)
    workflow.approve(world.office, t1.id, t1.version)
    db.session.commit()
    assert [n.recipient_user_id for n in notes(K.APPROVED)] == [world.unit_k1.id]
    assert len(notes(K.SUBMITTED)) == 2  # each submission is news of its own


def test_two_level_chain_tells_the_supervisor_then_the_office(world):
    world.inspection.signoff_levels = 2
    t1 = world.t1
    workflow.acknowledge(world.unit_k1, t1.id, t1.version)
    workflow.add_progress(world.unit_k1, t1.id, t1.version, "已落实")
    workflow.submit(world.unit_k1, t1.id, t1.version)
    db.session.commit()
    assert [n.recipient_user_id for n in notes(K.SUBMITTED)] == [world.supervisor.id]
    workflow.approve(world.supervisor, t1.id, t1.version)
    db.session.commit()
    assert [n.recipient_user_id for n in notes(K.VERIFIED)] == [world.city_office.id]


def test_extension_request_and_decision(world):
    request = workflow.request_extension(world.unit_k1, world.t1.id, world.t1.version,
                                         date(2027, 3, 31), "冬季无法施工")
    db.session.commit()
    [asked] = notes(K.EXTENSION_REQUESTED)
    assert asked.recipient_user_id == world.city_office.id
    workflow.decide_extension(world.city_office, request.id, True, "同意",
                              version=world.t1.version)
    db.session.commit()
    [decided] = notes(K.EXTENSION_DECIDED)
    assert decided.recipient_user_id == world.unit_k1.id
    assert "2027年3月31日" in decided.body


def test_the_actor_is_not_told_of_their_own_action(world):
    workflow.decline(world.unit_k1, world.t1.id, world.t1.version, "不属于本单位职责")
    db.session.commit()
    assert notes(K.DECLINED, user=world.unit_k1) == []


def test_unit_with_a_webhook_gets_a_group_message_with_an_outbox_row(world):
    world.k1.webhook_url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"
    db.session.commit()
    workflow.cancel(world.office, world.t1.id, world.t1.version, "问题已合并")
    db.session.commit()
    group = [n for n in notes(K.CANCELLED) if n.recipient_unit_id == world.k1.id]
    assert len(group) == 1
    [row] = db.session.query(Delivery).filter_by(notification_id=group[0].id).all()
    assert row.channel.value == "webhook" and row.target is None  # the key is not copied
    assert "问题已合并" in group[0].body


def test_email_follows_the_users_preference(world):
    world.unit_k1.email = "k1@example.cn"
    db.session.commit()
    notifications.save_preferences(world.unit_k1, {K.RETURNED: (False, False),
                                                   K.CANCELLED: (True, True)})
    db.session.commit()
    workflow.cancel(world.office, world.t1.id, world.t1.version, "问题已合并")
    db.session.commit()
    [cancelled] = notes(K.CANCELLED, user=world.unit_k1)
    [mail] = cancelled.deliveries
    assert mail.status.value == "held"  # waits for the daily digest


def test_natural_key_is_unique(world):
    [first] = notes(K.ASSIGNED, user=world.unit_k1, ticket_id=world.t1.id)
    twin = Notification(recipient_user_id=first.recipient_user_id, kind=first.kind,
                        ticket_id=first.ticket_id, dedup_key=first.dedup_key,
                        subject="x", body="x")
    db.session.add(twin)
    try:
        db.session.flush()
    except Exception as error:  # noqa: BLE001
        db.session.rollback()
        assert "unique" in str(error).lower() or "duplicate" in str(error).lower()
    else:
        raise AssertionError("a second notification with the same natural key was accepted")
