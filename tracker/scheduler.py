"""The jobs that run by themselves: the reminder pass, the delivery of the outbox and the
recount of kept dashboard figures, on APScheduler 3, in exactly one process at a time.

However many processes start a scheduler (the development server, `flask scheduler` on
two machines), only the holder of the lease row runs jobs. The lease is taken and renewed
with conditional UPDATEs (works on SQLite, PostgreSQL and MariaDB alike), renewed every
third of its lifetime, and taken over by another process only after it expired. Should
two processes ever overlap, nothing is written twice: notifications have a natural key,
deliveries are claimed row by row.

Ways to run it:
- `flask --app wsgi scheduler`: the scheduler alone, in the foreground (production: a
  systemd service; see docs/notifications.md);
- SCHEDULER=embedded (what `make run` sets): inside the `flask run` development server;
  never under gunicorn, never in other CLI commands, never in the reloader's watcher;
- `flask --app wsgi run-reminders [--now …]`: one pass and one delivery round, now (cron).

These jobs are the commit points: the services they call never commit, but for the
recount of dashboard figures, which commits each scope's figures as it counts them.
"""
import atexit
import gc
import logging
import os
import random
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable
from uuid import uuid4
from zoneinfo import ZoneInfo

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.serving import is_running_from_reloader

from tracker.extensions import db
from tracker.models import Notification, SchedulerLease, Unit, User
from tracker.services import clock, dashboard_figures, delivery, reminders

log = logging.getLogger(__name__)
LEASE_NAME = "reminders"
#: A batch that collides with a concurrent pass (same natural key, or SQLite's lock) is
#: rolled back and run again this many times.
STEP_ATTEMPTS = 6


# --- the lease ------------------------------------------------------------------------

def acquire_lease(name: str, owner: str, seconds: int, now: datetime | None = None) -> bool:
    """Take or renew the lease for `seconds`; False while another owner holds it. Commits."""
    now = now or clock.now_utc()
    until = now + timedelta(seconds=seconds)
    try:
        renewed = db.session.execute(
            update(SchedulerLease).where(SchedulerLease.name == name,
                                         SchedulerLease.owner == owner)
            .values(expires_at=until).execution_options(synchronize_session=False))
        if renewed.rowcount != 1:
            taken = db.session.execute(
                update(SchedulerLease).where(SchedulerLease.name == name,
                                             SchedulerLease.expires_at <= now)
                .values(owner=owner, expires_at=until, acquired_at=now)
                .execution_options(synchronize_session=False))
            if taken.rowcount != 1:
                exists = db.session.scalar(select(SchedulerLease.name).where(
                    SchedulerLease.name == name))
                if exists is not None:
                    db.session.rollback()
                    return False
                db.session.add(SchedulerLease(name=name, owner=owner, expires_at=until,
                                              acquired_at=now))
                db.session.flush()
        db.session.commit()
        return True
    except (IntegrityError, OperationalError):  # another process inserted it first, or locked
        db.session.rollback()
        return False


def release_lease(name: str, owner: str) -> None:
    """Let the lease go at once (on a clean shutdown), so a successor need not wait."""
    db.session.execute(update(SchedulerLease).where(
        SchedulerLease.name == name, SchedulerLease.owner == owner)
        .values(expires_at=clock.now_utc()).execution_options(synchronize_session=False))
    db.session.commit()


def lease_holder(name: str = LEASE_NAME) -> SchedulerLease | None:
    return db.session.get(SchedulerLease, name)


# --- one pass, one delivery round -----------------------------------------------------

@dataclass
class PassReport:
    today: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def describe(notification: Notification) -> str:
    if notification.recipient_user_id is not None:
        user = db.session.get(User, notification.recipient_user_id)
        who = f"{user.full_name} ({user.username})"
    else:
        who = f"{db.session.get(Unit, notification.recipient_unit_id).name} [webhook]"
    return f"[{notification.kind.value}] {who}: {notification.subject}"


def _described(created: list) -> list[str]:
    """One line per notification; their recipients read in two queries, not one per line."""
    known = (db.session.scalars(select(User).where(User.id.in_(
        {n.recipient_user_id for n in created} - {None}))).all(),
        db.session.scalars(select(Unit).where(Unit.id.in_(
            {n.recipient_unit_id for n in created} - {None}))).all())
    lines = [describe(n) for n in created]
    del known
    return lines


@contextmanager
def _young_collections_only():
    """A batch runs with the cyclic garbage collector's automatic runs off, and only the
    young generations are collected after it. A pass keeps the units, recipients and
    choices it has read for its whole length (hundreds of thousands of objects), and the
    automatic runs kept walking them: 22 s of a 115 s first pass over 1,000,000 tickets.
    Whatever a batch leaves in cycles is young when it ends, and collected then. The switch
    is the process's: under `make run` the web threads go without automatic runs for the
    length of a batch too (a fraction of a second)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect(1)
        if enabled:
            gc.enable()


def _run_step(step, ctx: reminders.PassContext, after: int,
              tell: Callable[[str], None] | None) -> tuple[int, int | None]:
    for attempt in range(STEP_ATTEMPTS):
        try:
            with _young_collections_only():
                created, cursor = step(ctx, after)
            lines = _described(created) if tell is not None else []
            db.session.commit()
            for line in lines:
                tell(line)
            return len(created), cursor
        except (IntegrityError, OperationalError):
            # A concurrent pass wrote one of our keys first (or SQLite was locked): the
            # batch is rolled back and read again, and then finds those keys written.
            db.session.rollback()
            if attempt == STEP_ATTEMPTS - 1:
                raise
            log.info("reminder batch %s collided with a concurrent pass; running it again",
                     getattr(step, "__name__", step))
            time.sleep(0.05 * (attempt + 1) + random.random() * 0.05)
    raise AssertionError("unreachable")


def run_reminders(now: datetime | None = None, *,
                  tell: Callable[[str], None] | None = None) -> PassReport:
    """One reminder pass for the moment `now` (default: now), committing per batch.
    `tell` receives a line for each notification written, once its batch is committed
    (the command prints them; the scheduler's job counts only)."""
    ctx = reminders.context(now)
    report = PassReport(today=ctx.today.isoformat())
    for name, step in reminders.STEPS:
        after: int | None = 0
        count = 0
        while after is not None:
            written, after = _run_step(step, ctx, after, tell)
            count += written
        report.counts[name] = count
    return report


def deliver_outbox(limit: int | None = None) -> list[delivery.Outcome]:
    """Claim one batch of due deliveries, send them side by side, record the outcomes."""
    app = current_app._get_current_object()
    settings = delivery.Settings.of(app)
    token = uuid4().hex
    limit = limit or app.config["DELIVERY_BATCH"]
    for attempt in range(STEP_ATTEMPTS):
        try:
            jobs = delivery.claim(clock.now_utc(), token, limit, settings)
            db.session.commit()
            break
        except OperationalError:
            db.session.rollback()
            if attempt == STEP_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    if not jobs:
        return []
    workers = max(1, min(app.config["DELIVERY_WORKERS"], len(jobs)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="delivery") as pool:
        outcomes = list(pool.map(lambda job: delivery.send(job, settings), jobs))
    delivery.record(outcomes, token, clock.now_utc(), settings)
    db.session.commit()
    for outcome in outcomes:
        if not outcome.is_sent:
            log.warning("delivery %s to %s failed: %s", outcome.delivery_id, outcome.target,
                        outcome.error)
    return outcomes


def deliver_all() -> list[delivery.Outcome]:
    """Delivery rounds until nothing is due now (failures wait for their backoff)."""
    outcomes: list[delivery.Outcome] = []
    while True:
        batch = deliver_outbox()
        if not batch:
            return outcomes
        outcomes += batch


# --- the scheduler --------------------------------------------------------------------

class ReminderScheduler:
    """APScheduler with five jobs: renew the lease; while holding it, run the reminder
    pass (at the configured hours), deliver the outbox (every few seconds), prune old
    login attempts (every 15 minutes) and count again the kept dashboard figures that
    something has moved (every minute)."""

    def __init__(self, app: Flask, *, blocking: bool = False):
        self.app = app
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"[:100]
        self.lease_seconds = int(app.config["SCHEDULER_LEASE_SECONDS"])
        self._held_until = 0.0  # monotonic clock: the lease as this process knows it
        self._lock = threading.Lock()
        zone = ZoneInfo(app.config["TIMEZONE"])
        kind = BlockingScheduler if blocking else BackgroundScheduler
        self.scheduler = kind(timezone=zone, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": 600})
        self.scheduler.add_job(self.heartbeat, "interval", id="lease",
                               seconds=max(1, self.lease_seconds // 3),
                               next_run_time=datetime.now(zone))
        self.scheduler.add_job(self.reminders, CronTrigger(
            hour=app.config["REMINDER_CRON_HOUR"], minute=app.config["REMINDER_CRON_MINUTE"],
            timezone=zone), id="reminders")
        self.scheduler.add_job(self.deliveries, "interval", id="deliveries",
                               seconds=app.config["DELIVERY_INTERVAL_SECONDS"])
        self.scheduler.add_job(self.housekeeping, "interval", id="housekeeping", minutes=15)
        self.scheduler.add_job(self.dashboards, "interval", id="dashboards",
                               seconds=app.config["DASHBOARD_REFRESH_SECONDS"])

    @property
    def is_leader(self) -> bool:
        return time.monotonic() < self._held_until

    def heartbeat(self) -> bool:
        was_leader = self.is_leader
        started = time.monotonic()
        with self.app.app_context():
            try:
                held = acquire_lease(LEASE_NAME, self.owner, self.lease_seconds)
            except Exception:  # noqa: BLE001  (database away: step down, try again later)
                log.exception("scheduler %s could not reach the lease", self.owner)
                held = False
        with self._lock:
            # Keep a margin: this process stops a little before the lease really ends.
            self._held_until = started + self.lease_seconds * 0.9 if held else 0.0
        if held and not was_leader:
            log.info("scheduler %s holds the lease: running reminders and deliveries",
                     self.owner)
            if self.scheduler.running:  # catch up at once after downtime
                self.scheduler.modify_job("reminders", next_run_time=datetime.now(
                    ZoneInfo(self.app.config["TIMEZONE"])))
        elif was_leader and not held:
            log.warning("scheduler %s lost the lease: standing by", self.owner)
        return held

    def reminders(self) -> PassReport | None:
        if not self.is_leader:
            return None
        with self.app.app_context():
            report = run_reminders()
        log.info("reminder pass for %s: %s notifications", report.today, report.total)
        return report

    def deliveries(self) -> list[delivery.Outcome]:
        if not self.is_leader:
            return []
        with self.app.app_context():
            return deliver_all()

    def housekeeping(self) -> int:
        """Login attempts older than the throttling window leave the table (tracker.auth)."""
        if not self.is_leader:
            return 0
        from tracker.auth import prune_login_attempts

        with self.app.app_context():
            removed = prune_login_attempts()
            db.session.commit()
        return removed

    def dashboards(self) -> int:
        """Kept dashboard figures that something has moved are counted again."""
        if not self.is_leader:
            return 0
        with self.app.app_context():
            budget = max(5.0, self.app.config["DASHBOARD_REFRESH_SECONDS"] * 0.8)
            counted = dashboard_figures.refresh(budget_seconds=budget)
        if counted:
            log.info("dashboard figures counted again: %s", counted)
        return counted

    def start(self) -> None:
        log.info("scheduler %s starting (lease %s s)", self.owner, self.lease_seconds)
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._held_until:
            with self.app.app_context():
                try:
                    release_lease(LEASE_NAME, self.owner)
                except Exception:  # noqa: BLE001  (the lease then simply expires)
                    log.exception("could not release the lease")
            self._held_until = 0.0


def should_embed(app: Flask) -> bool:
    """Whether this process is the development server that SCHEDULER=embedded asks for."""
    if app.config.get("SCHEDULER") != "embedded" or app.testing:
        return False
    if os.environ.get("SERVER_SOFTWARE", "").lower().startswith("gunicorn"):
        return False  # web workers never run it: `flask scheduler` does
    command = click.get_current_context(silent=True)
    if command is None:
        return True
    if command.info_name != "run":
        return False  # `flask db upgrade`, `flask scheduler`, `flask run-reminders`, …
    reload = command.params.get("reload")
    if reload is None:
        reload = app.debug
    return not reload or is_running_from_reloader()  # not in the reloader's watcher


def init_app(app: Flask) -> None:
    if should_embed(app):
        runner = ReminderScheduler(app)
        runner.start()
        atexit.register(runner.shutdown)
        app.extensions["reminder_scheduler"] = runner


# --- commands -------------------------------------------------------------------------

@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the reminder scheduler in the foreground (the production way: one service).

    Several may run (on several machines): one holds the lease and works, the others
    stand by and take over when it stops."""
    if not logging.getLogger().handlers and not logging.getLogger("tracker").handlers:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("tracker").setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not every heartbeat
    runner = ReminderScheduler(current_app._get_current_object(), blocking=True)

    def stop(signum, frame):  # noqa: ARG001
        log.info("signal %s: stopping", signum)
        runner.shutdown()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"scheduler {runner.owner} started; waiting for the lease")
    runner.start()
    runner.shutdown()
    click.echo("scheduler stopped")


def parse_now(value: str | None) -> datetime | None:
    """"2026-11-21T08:00" in the office's zone (or with an explicit offset) → aware UTC."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use ISO format, e.g. 2026-11-21T08:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.office_zone())
    return moment.astimezone(ZoneInfo("UTC"))


@click.command("run-reminders")
@click.option("--now", "now_text", metavar="ISO-DATETIME",
              help="Run as if it were this moment (office time zone), e.g. 2026-11-21T08:00.")
@click.option("--deliver/--no-deliver", default=True, show_default=True,
              help="Also deliver the outbox (e-mail, webhooks) after the pass.")
@with_appcontext
def run_reminders_command(now_text, deliver):
    """Run one reminder pass now and print what it sent (for cron and for checking)."""
    now = parse_now(now_text)
    report = run_reminders(now, tell=lambda line: click.echo(f"  {line}"))
    click.echo(f"reminder pass for {report.today}: {report.total} notifications")
    if not deliver:
        return
    outcomes = deliver_all()
    sent = sum(o.is_sent for o in outcomes)
    click.echo(f"deliveries: {sent} sent, {len(outcomes) - sent} failed")
    for outcome in outcomes:
        state = f"sent via {outcome.via}" if outcome.is_sent else f"FAILED: {outcome.error}"
        click.echo(f"  #{outcome.delivery_id} {outcome.target}: {state}")


COMMANDS = (scheduler_command, run_reminders_command)
