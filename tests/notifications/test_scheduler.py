"""One scheduler at a time (the lease), where it runs, and the run-reminders command."""
import gc
from datetime import timedelta

import click
import pytest

from tests.factories import TODAY
from tests import factories
from tracker import scheduler
from tracker.extensions import db
from tracker.services import clock


def test_second_scheduler_cannot_take_the_lease_until_it_expires(app, frozen_today):
    now = clock.now_utc()
    assert scheduler.acquire_lease("reminders", "host-a:1", 60, now)
    assert not scheduler.acquire_lease("reminders", "host-b:2", 60, now + timedelta(seconds=30))
    assert not scheduler.acquire_lease("reminders", "host-b:2", 60, now + timedelta(seconds=59))
    assert scheduler.acquire_lease("reminders", "host-b:2", 60, now + timedelta(seconds=61))
    assert scheduler.lease_holder().owner == "host-b:2"
    # The old holder, come back, finds it taken.
    assert not scheduler.acquire_lease("reminders", "host-a:1", 60, now + timedelta(seconds=62))


def test_the_holder_renews_its_lease(app, frozen_today):
    now = clock.now_utc()
    assert scheduler.acquire_lease("reminders", "host-a:1", 60, now)
    assert scheduler.acquire_lease("reminders", "host-a:1", 60, now + timedelta(seconds=50))
    assert not scheduler.acquire_lease("reminders", "host-b:2", 60, now + timedelta(seconds=90))


def test_released_lease_is_free_at_once(app, frozen_today):
    assert scheduler.acquire_lease("reminders", "host-a:1", 60)
    scheduler.release_lease("reminders", "host-a:1")
    frozen_today.shift(timedelta(seconds=1))
    assert scheduler.acquire_lease("reminders", "host-b:2", 60)


def test_two_scheduler_processes_one_runs_the_jobs(app, frozen_today):
    first, second = scheduler.ReminderScheduler(app), scheduler.ReminderScheduler(app)
    assert first.heartbeat() and first.is_leader
    assert not second.heartbeat() and not second.is_leader
    assert second.reminders() is None and second.deliveries() == []
    assert first.reminders() is not None
    frozen_today.shift(timedelta(seconds=app.config["SCHEDULER_LEASE_SECONDS"] + 1))
    assert second.heartbeat() and second.is_leader
    assert not first.heartbeat() and not first.is_leader
    second.shutdown()
    assert first.heartbeat()  # released on shutdown: taken over at once
    first.shutdown()


def test_web_workers_under_gunicorn_never_start_the_scheduler(app, monkeypatch):
    monkeypatch.setitem(app.config, "SCHEDULER", "embedded")
    monkeypatch.setattr(app, "testing", False)
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/23.0.0")
    assert not scheduler.should_embed(app)
    monkeypatch.delenv("SERVER_SOFTWARE")
    assert scheduler.should_embed(app)


def test_embedded_scheduler_starts_only_for_flask_run(app, monkeypatch):
    monkeypatch.setitem(app.config, "SCHEDULER", "embedded")
    monkeypatch.setattr(app, "testing", False)
    monkeypatch.delenv("SERVER_SOFTWARE", raising=False)
    for name, expected in (("run", True), ("db", False), ("scheduler", False)):
        with click.Context(click.Command(name), info_name=name) as ctx:
            ctx.params["reload"] = False
            assert scheduler.should_embed(app) is expected, name
    monkeypatch.setitem(app.config, "SCHEDULER", "off")
    assert not scheduler.should_embed(app)


def test_run_reminders_prints_what_it_sent(app, world, outbox_dir):
    factories.ticket(world.office, world.finding, world.k1, deadline=TODAY + timedelta(days=6))
    world.unit_k1.email = "k1@example.cn"
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["run-reminders", "--now", "2026-11-21T08:00"])
    assert result.exit_code == 0, result.output
    assert "reminder pass for 2026-11-21" in result.output
    assert "[due_soon] unit_k1 (unit_k1)" in result.output
    assert "deliveries: " in result.output and "k1@example.cn: sent via file:" in result.output
    again = runner.invoke(args=["run-reminders", "--now", "2026-11-21T08:00"])
    assert "0 notifications" in again.output


def test_run_reminders_refuses_a_malformed_moment(app):
    result = app.test_cli_runner().invoke(args=["run-reminders", "--now", "next tuesday"])
    assert result.exit_code != 0 and "ISO" in result.output


@pytest.mark.parametrize("text, hour_utc", [("2026-11-21T08:00", 0),
                                            ("2026-11-21T08:00+00:00", 8)])
def test_now_is_read_in_the_office_zone_unless_given(app, text, hour_utc):
    assert scheduler.parse_now(text).hour == hour_utc


def test_a_batch_runs_without_automatic_collections_and_leaves_them_on(app):
    seen = []

    def step(ctx, after):
        seen.append(gc.isenabled())
        return [], None

    assert scheduler._run_step(step, None, 0, None) == (0, None)
    assert seen == [False]
    assert gc.isenabled()


def test_a_failing_batch_leaves_automatic_collections_on(app):
    def step(ctx, after):
        raise ValueError("broken rule")

    with pytest.raises(ValueError):
        scheduler._run_step(step, None, 0, None)
    assert gc.isenabled()
