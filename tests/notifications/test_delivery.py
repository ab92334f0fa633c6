"""Delivering the outbox: e-mail to a real SMTP server, work-chat robots on a local HTTP
server (one failing, one hanging), retries with backoff, and the file outbox."""
import time
from datetime import timedelta
from email import message_from_bytes, policy

from sqlalchemy import select

from tests import factories
from tests.factories import TODAY
from tracker import scheduler
from tracker.extensions import db
from tracker.models import Delivery, DeliveryChannel, DeliveryStatus
from tracker.services import clock, delivery, workflow

D = DeliveryStatus


def deliveries(channel=None) -> list[Delivery]:
    db.session.expire_all()
    statement = select(Delivery).order_by(Delivery.id)
    if channel is not None:
        statement = statement.where(Delivery.channel == channel)
    return list(db.session.scalars(statement))


def assign(world, lead, cooperating=()):
    ticket = factories.ticket(world.office, world.finding, lead,
                              deadline=TODAY + timedelta(days=20), cooperating=cooperating)
    db.session.commit()
    return ticket


def test_email_is_delivered_to_a_real_smtp_server_and_a_refused_address_does_not_block_it(
        world, smtp_server):
    world.unit_k1.email = "k1@example.cn"
    world.unit_d1.email = "nobody@example.cn"
    db.session.commit()
    assign(world, world.k1, cooperating=[world.d1])
    outcomes = scheduler.deliver_outbox()
    assert sorted(o.is_sent for o in outcomes) == [False, True]
    [envelope] = smtp_server.messages
    assert envelope.rcpt_tos == ["k1@example.cn"]
    message = message_from_bytes(envelope.content, policy=policy.default)
    assert "城关区" in message["Subject"]
    assert "2026年12月11日" in message.get_content()
    by_target = {d.target: d for d in deliveries(DeliveryChannel.EMAIL)}
    assert by_target["k1@example.cn"].status == D.SENT
    refused = by_target["nobody@example.cn"]
    assert refused.status == D.DEAD and "550" in refused.last_error  # permanent: no retry


def test_without_smtp_mail_goes_to_the_outbox_folder(world, outbox_dir):
    world.unit_k1.email = "k1@example.cn"
    db.session.commit()
    assign(world, world.k1)
    [outcome] = scheduler.deliver_outbox()
    assert outcome.is_sent and outcome.via.startswith("file:")
    [eml] = list(outbox_dir.glob("*.eml"))
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "k1@example.cn" and "城关区" in message["Subject"]


def test_webhooks_are_delivered_while_one_fails_and_one_hangs(world, webhook_server):
    base, robot = webhook_server
    world.k1.webhook_url = f"{base}/ok/cgi-bin/webhook/send?key=secret"  # 企业微信
    world.d1.webhook_url = f"{base}/ok/robot/send?access_token=secret"  # 钉钉
    world.k2.webhook_url = f"{base}/fail/cgi-bin/webhook/send?key=x"  # answers 500
    world.c2.webhook_url = f"{base}/hang/cgi-bin/webhook/send?key=x"  # never in time
    db.session.commit()
    assign(world, world.k1, cooperating=[world.d1])
    assign(world, world.k2)
    assign(world, world.c2)
    started = time.monotonic()
    outcomes = scheduler.deliver_outbox()
    elapsed = time.monotonic() - started
    assert len(outcomes) == 4
    assert elapsed < 1.8  # side by side: the hanging robot costs one timeout, not more
    paths = {path.split("?")[0]: payload for path, payload in robot.received}
    wecom = paths["/ok/cgi-bin/webhook/send"]
    assert wecom["msgtype"] == "markdown" and "城关区" in wecom["markdown"]["content"]
    dingtalk = paths["/ok/robot/send"]
    assert dingtalk["msgtype"] == "markdown" and dingtalk["markdown"]["title"]
    assert "兰州市财政局" in dingtalk["markdown"]["text"]
    rows = {d.notification.recipient_unit_id: d for d in deliveries(DeliveryChannel.WEBHOOK)}
    assert rows[world.k1.id].status == rows[world.d1.id].status == D.SENT
    failed, hung = rows[world.k2.id], rows[world.c2.id]
    assert failed.status == hung.status == D.FAILED
    assert "HTTP 500" in failed.last_error and "secret" not in failed.last_error
    assert "timed out" in hung.last_error.lower() or "timeout" in hung.last_error.lower()
    assert failed.next_attempt_at > clock.now_utc()


def test_failed_delivery_is_retried_with_growing_pauses_then_given_up(
        world, webhook_server, frozen_today, app):
    base, _robot = webhook_server
    world.k2.webhook_url = f"{base}/fail/cgi-bin/webhook/send?key=x"
    db.session.commit()
    assign(world, world.k2)
    app.config["DELIVERY_MAX_ATTEMPTS"] = 3
    try:
        scheduler.deliver_outbox()
        [row] = deliveries()
        first_wait = row.next_attempt_at - clock.now_utc()
        assert (row.status, row.attempts) == (D.FAILED, 1)
        assert timedelta(seconds=59) <= first_wait <= timedelta(seconds=61)
        assert scheduler.deliver_outbox() == []  # not before its time
        frozen_today.shift(timedelta(seconds=61))
        scheduler.deliver_outbox()
        [row] = deliveries()
        assert row.attempts == 2
        assert timedelta(seconds=119) <= row.next_attempt_at - clock.now_utc() <= timedelta(
            seconds=121)
        frozen_today.shift(timedelta(seconds=121))
        scheduler.deliver_outbox()
        [row] = deliveries()
        assert (row.status, row.attempts) == (D.DEAD, 3)
    finally:
        app.config["DELIVERY_MAX_ATTEMPTS"] = 8


def test_a_claim_left_by_a_dead_worker_is_taken_again(world, outbox_dir, frozen_today):
    world.unit_k1.email = "k1@example.cn"
    db.session.commit()
    assign(world, world.k1)
    [row] = deliveries()
    row.status, row.claimed_by = D.SENDING, "dead-worker"
    row.next_attempt_at = clock.now_utc() + timedelta(minutes=5)
    db.session.commit()
    assert scheduler.deliver_outbox() == []  # the claim still runs
    frozen_today.shift(timedelta(minutes=6))
    [outcome] = scheduler.deliver_outbox()
    assert outcome.is_sent
    [row] = deliveries()
    assert row.status == D.SENT and row.attempts == 1


def test_two_workers_never_send_the_same_delivery(world, outbox_dir, app):
    world.unit_k1.email = "k1@example.cn"
    db.session.commit()
    assign(world, world.k1)
    settings = delivery.Settings.of(app)
    first = delivery.claim(clock.now_utc(), "worker-a", 10, settings)
    second = delivery.claim(clock.now_utc(), "worker-b", 10, settings)
    db.session.commit()
    assert len(first) == 1 and second == []


def test_administrator_retries_a_given_up_delivery(world, webhook_server):
    base, _robot = webhook_server
    world.k2.webhook_url = f"{base}/gone/cgi-bin/webhook/send?key=x"
    db.session.commit()
    assign(world, world.k2)
    [row] = deliveries()
    row.status, row.attempts, row.last_error = D.DEAD, 8, "HTTP 404"
    db.session.commit()
    delivery.retry(world.admin, row.id)
    db.session.commit()
    [outcome] = scheduler.deliver_outbox()
    assert outcome.is_sent
    assert deliveries()[0].status == D.SENT


def test_webhook_format_is_chosen_by_the_robot_address():
    assert delivery.webhook_format(
        "https://oapi.dingtalk.com/robot/send?access_token=x") == "dingtalk"
    assert delivery.webhook_format(
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x") == "wecom"


def test_decline_is_delivered_by_mail_to_the_office(world, outbox_dir):
    world.city_office.email = "c1@example.cn"
    db.session.commit()
    workflow.decline(world.unit_k1, world.t1.id, world.t1.version, "不属于本单位职责")
    db.session.commit()
    [outcome] = scheduler.deliver_outbox()
    assert outcome.is_sent and outcome.target == "c1@example.cn"


def test_dingtalk_signing_secret_becomes_timestamp_and_signature():
    url = delivery.signed_url(
        "https://oapi.dingtalk.com/robot/send?access_token=abc#SECsecret", now_ms=1700000000000)
    assert url.startswith("https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp="
                          "1700000000000&sign=")
    assert "#" not in url and "SECsecret" not in url
    # The signature DingTalk documents: base64(HMAC-SHA256(secret, "timestamp\nsecret")).
    assert url.endswith("sign=0QWYb8Ux63Sm4BhHaJNL3lv5mqW1sLFoks7vu%2BHFFi4%3D")


def test_wecom_address_loses_only_its_fragment():
    assert delivery.signed_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k#x") == \
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"
