"""Fixtures of the notification tests: a controlled clock in the office's zone, helpers to
run a pass and read what it wrote, a real SMTP server and a local webhook server."""
import asyncio
import json
import socket
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tracker import create_app, scheduler
from tracker.config import TestConfig
from tracker.extensions import db
from tracker.models import Notification, NotificationKind, User

ZONE = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    """"2026-11-24T08:00" in the office's zone."""
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


@pytest.fixture
def at(frozen_today):
    """Move the frozen clock to a moment in the office's zone: at("2026-11-24T08:00")."""
    def move(text: str) -> datetime:
        moment = local(text)
        frozen_today.move_to(moment)
        return moment
    return move


@pytest.fixture
def run_pass(at):
    """Run one reminder pass at a moment (default: the frozen now); returns its report."""
    def run(text: str | None = None) -> scheduler.PassReport:
        if text:
            at(text)
        return scheduler.run_reminders()
    return run


def notes(kind: NotificationKind | None = None, *, user: User | None = None,
          ticket_id: int | None = None) -> list[Notification]:
    """Notifications written so far, oldest first, optionally narrowed."""
    statement = select(Notification).order_by(Notification.id)
    if kind is not None:
        statement = statement.where(Notification.kind == kind)
    if user is not None:
        statement = statement.where(Notification.recipient_user_id == user.id)
    if ticket_id is not None:
        statement = statement.where(Notification.ticket_id == ticket_id)
    db.session.expire_all()
    return list(db.session.scalars(statement))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- a real SMTP server ---------------------------------------------------------------

class Mailbox:
    """aiosmtpd handler: keeps what it accepts, refuses nobody@… with 550."""

    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def smtp_server(app):
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port,
                            loop=asyncio.new_event_loop())
    controller.start()
    old = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    try:
        yield mailbox
    finally:
        app.config["SMTP_URL"] = old
        controller.stop()
        controller.loop.close()


# --- a local webhook server -----------------------------------------------------------

class Robot(BaseHTTPRequestHandler):
    """/ok…: answers like a robot that accepted; /fail…: 500; /hang…: answers too late."""

    received: list = []
    hang_seconds = 2.0

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        payload = json.loads(self.rfile.read(length).decode("utf-8"))
        if self.path.startswith("/hang"):
            time.sleep(self.hang_seconds)
        if self.path.startswith("/fail"):
            self.send_response(500)
            self.end_headers()
            return
        self.received.append((self.path, payload))
        body = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up waiting
            pass

    def log_message(self, format, *args):  # noqa: A002  (quiet)
        pass


@pytest.fixture
def webhook_server(app):
    Robot.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    old = app.config["WEBHOOK_TIMEOUT"]
    app.config["WEBHOOK_TIMEOUT"] = 0.5
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", Robot
    finally:
        app.config["WEBHOOK_TIMEOUT"] = old
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def outbox_dir(app, tmp_path):
    old = app.config["MAIL_OUTBOX_DIR"]
    app.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "outbox")
    yield tmp_path / "outbox"
    app.config["MAIL_OUTBOX_DIR"] = old


# --- a second application for threads -------------------------------------------------

@pytest.fixture
def threaded_app(app, tmp_path):
    """An application whose database two threads can share for real: the test database,
    or, when that is SQLite in memory (one connection), a SQLite file."""
    if app.config["SQLALCHEMY_DATABASE_URI"] != "sqlite://":
        yield app
        return

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'threads.sqlite3'}"

    other = create_app(Config)
    with other.app_context():
        db.create_all()
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()
