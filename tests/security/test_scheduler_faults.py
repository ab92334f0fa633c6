"""The scheduler killed in the middle of a reminder pass: the next pass writes what is
missing and nothing twice, and every message is sent exactly once (issue 7, point 6).

The pass commits batch by batch; "killed" means the process stops between a batch's
writes and its commit, so that batch is lost with the process, as under SIGKILL."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests import factories
from tracker import scheduler
from tracker.extensions import db
from tracker.models import Delivery, DeliveryStatus, Notification
from tracker.services import reminders

TODAY = date(2026, 11, 21)  # the frozen clock of the suite


class Killed(BaseException):
    """What the process sees of SIGKILL: nothing after this point runs, nothing commits."""


def every_key_of_a_full_pass() -> set[str]:
    """The notifications one uninterrupted pass would write now, computed inside a
    transaction that is then rolled back."""
    ctx = reminders.context()
    keys = set()
    for _name, step in reminders.STEPS:
        after = 0
        while after is not None:
            created, after = step(ctx, after)
            db.session.flush()
            keys.update(n.dedup_key for n in created)
    db.session.rollback()
    return keys


def written_keys() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification.dedup_key)))


@pytest.fixture
def busy_day(app, world, tmp_path):
    """Enough due tickets for many batches of one, and recipients with e-mail."""
    for offset in (1, 3, 7):
        for unit in (world.k1, world.k2, world.d1):
            factories.ticket(world.office, world.finding, unit,
                             deadline=TODAY + timedelta(days=offset))
    for user in (world.unit_k1, world.unit_k2, world.unit_d1):
        user.email = f"{user.username}@example.cn"
    db.session.commit()
    saved = app.config["REMINDER_BATCH"], app.config["MAIL_OUTBOX_DIR"]
    app.config["REMINDER_BATCH"] = 1
    app.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "outbox")
    yield tmp_path / "outbox"
    app.config["REMINDER_BATCH"], app.config["MAIL_OUTBOX_DIR"] = saved


def kill_after(monkeypatch, batches: int) -> None:
    """Make the pass die after `batches` committed batches, before the next commit."""
    seen = {"n": 0}
    real_steps = reminders.STEPS

    def wrap(step):
        def dying(ctx, after):
            result = step(ctx, after)
            seen["n"] += 1
            if seen["n"] > batches:
                raise Killed()
            return result
        dying.__name__ = getattr(step, "__name__", "step")
        return dying

    monkeypatch.setattr(reminders, "STEPS", tuple((name, wrap(step))
                                                  for name, step in real_steps))


def test_a_pass_killed_midway_is_completed_by_the_next_without_duplicates(
        busy_day, monkeypatch):
    before = set(written_keys())  # written with the tickets, not by a pass
    expected = every_key_of_a_full_pass() | before
    assert len(expected - before) >= 6, "the fixture should give the pass several batches"

    with monkeypatch.context() as patch:
        kill_after(patch, batches=3)
        with pytest.raises(Killed):
            scheduler.run_reminders()
        db.session.rollback()  # the dead process's open transaction is gone
    partial = written_keys()
    assert len(before) < len(partial) < len(expected), "the kill did not happen mid-pass"
    sent_before = scheduler.deliver_all()  # the delivery job ran before the kill, too

    report = scheduler.run_reminders()
    keys = written_keys()
    assert len(keys) == len(set(keys))  # nothing written twice
    assert set(keys) == expected  # nothing missing
    assert report.total == len(expected) - len(partial)
    assert scheduler.run_reminders().total == 0

    sent_after = scheduler.deliver_all()
    db.session.expire_all()
    per_channel = db.session.execute(
        select(Delivery.notification_id, Delivery.channel, func.count())
        .group_by(Delivery.notification_id, Delivery.channel)).all()
    assert per_channel and all(count == 1 for *_key, count in per_channel)
    sent = [o.delivery_id for o in sent_before + sent_after if o.is_sent]
    assert len(sent) == len(set(sent))  # no message sent twice
    assert set(sent) == set(db.session.scalars(
        select(Delivery.id).where(Delivery.status == DeliveryStatus.SENT)))
    assert not db.session.scalar(select(func.count(Delivery.id)).where(
        Delivery.status != DeliveryStatus.SENT))  # nothing left unsent
    mails = [p for p in busy_day.rglob("*") if p.is_file()]
    assert len(mails) == len([o for o in sent_before + sent_after if o.via.startswith("file:")])
    assert len(mails) >= len(expected - before)  # an e-mail for each reminder at least
