"""Delivering the outbox: e-mail over SMTP and work-chat robots (企业微信, 钉钉) by webhook.

A delivery is first *claimed* (a conditional UPDATE, so two workers never take the same
row), then sent outside any transaction, side by side with the others of its batch, each
with its own timeout, so one bad address or a webhook that hangs holds up nobody; then its
outcome is recorded: sent, failed (retried later with exponential backoff) or dead (a
permanent refusal, or too many attempts; listed for the administrator, who may retry).

With no SMTP server configured, e-mails are written as .eml files to a local folder and
logged: the embedded default needs no mail server.

The one window in which a message can go out twice: the process dies after the server
accepted the message and before the outcome is recorded. The claim then runs out and the
delivery is tried again. Nothing is ever lost: a row leaves the outbox only as sent, dead
or bundled into a digest.
"""
import base64
import hashlib
import hmac
import json
import logging
import os
import smtplib
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import quote_plus, unquote, urlsplit, urlunsplit

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import joinedload

from tracker.extensions import db
from tracker.models import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    Notification,
    Role,
    User,
)
from tracker.services import audit, clock
from tracker.services.errors import Forbidden, InvalidTransition, NotFound

log = logging.getLogger(__name__)
D = DeliveryStatus
ERROR_MAX = 500
#: WeCom refuses markdown content above 4096 bytes; DingTalk's limit is larger.
WEBHOOK_TEXT_MAX = 3800


@dataclass(frozen=True)
class Settings:
    """What sending needs, copied out of the app config so worker threads need no app."""

    smtp_url: str
    mail_from: str
    outbox_dir: str
    smtp_timeout: float
    webhook_timeout: float
    max_attempts: int
    backoff: int
    backoff_max: int
    claim_seconds: int

    @classmethod
    def of(cls, app: Flask) -> "Settings":
        c = app.config
        return cls(smtp_url=c["SMTP_URL"], mail_from=c["MAIL_FROM"],
                   outbox_dir=c["MAIL_OUTBOX_DIR"], smtp_timeout=c["SMTP_TIMEOUT"],
                   webhook_timeout=c["WEBHOOK_TIMEOUT"], max_attempts=c["DELIVERY_MAX_ATTEMPTS"],
                   backoff=c["DELIVERY_BACKOFF_SECONDS"],
                   backoff_max=c["DELIVERY_BACKOFF_MAX_SECONDS"],
                   claim_seconds=c["DELIVERY_CLAIM_SECONDS"])


@dataclass(frozen=True)
class Job:
    """One claimed delivery, as plain data for a worker thread."""

    delivery_id: int
    channel: DeliveryChannel
    target: str | None
    subject: str
    body: str
    attempts: int


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    is_sent: bool
    error: str | None = None
    #: Retrying cannot help (address refused, URL gone): give up at once.
    is_permanent: bool = False
    #: Where it went, for the log and the CLI ("smtp", "file:/…/x.eml", "wecom", …).
    via: str = ""
    target: str = ""
    subject: str = ""


class DeliveryError(Exception):
    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


def backoff_seconds(attempts: int, base: int, cap: int) -> int:
    """Wait after the n-th failed attempt: base, 2·base, 4·base, … at most cap."""
    return min(cap, base * 2 ** max(0, attempts - 1))


# --- claiming and recording (database; the caller commits) ----------------------------

def _due(now: datetime):
    return or_(
        and_(Delivery.status.in_((D.PENDING, D.FAILED)), Delivery.next_attempt_at <= now),
        # A claim that ran out: its worker died before recording the outcome.
        and_(Delivery.status == D.SENDING, Delivery.next_attempt_at <= now),
    )


def claim(now: datetime, token: str, limit: int, settings: Settings) -> list[Job]:
    """Take up to `limit` due deliveries for this worker batch (`token`)."""
    ids = list(db.session.scalars(select(Delivery.id).where(_due(now))
                                  .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)))
    if not ids:
        return []
    db.session.execute(
        update(Delivery).where(Delivery.id.in_(ids), _due(now))
        .values(status=D.SENDING, claimed_by=token, attempts=Delivery.attempts + 1,
                next_attempt_at=now + timedelta(seconds=settings.claim_seconds))
        .execution_options(synchronize_session=False))
    rows = db.session.scalars(
        select(Delivery).where(Delivery.claimed_by == token, Delivery.status == D.SENDING)
        .options(joinedload(Delivery.notification).joinedload(Notification.recipient_unit))
        .order_by(Delivery.id).execution_options(populate_existing=True))
    jobs = []
    for row in rows:
        target = row.target
        if row.channel == DeliveryChannel.WEBHOOK:
            unit = row.notification.recipient_unit
            target = unit.webhook_url if unit is not None else None
        jobs.append(Job(delivery_id=row.id, channel=row.channel, target=target,
                        subject=row.notification.subject, body=row.notification.body,
                        attempts=row.attempts))
    return jobs


def record(outcomes: list[Outcome], token: str, now: datetime, settings: Settings) -> None:
    """Write each outcome, unless the claim was lost to another worker meanwhile."""
    for outcome in outcomes:
        row = db.session.get(Delivery, outcome.delivery_id, populate_existing=True)
        if row is None or row.claimed_by != token or row.status != D.SENDING:
            continue
        row.claimed_by = None
        if outcome.is_sent:
            row.status, row.sent_at, row.last_error = D.SENT, now, None
            continue
        row.last_error = (outcome.error or "")[:ERROR_MAX]
        if outcome.is_permanent or row.attempts >= settings.max_attempts:
            row.status = D.DEAD
        else:
            row.status = D.FAILED
            row.next_attempt_at = now + timedelta(seconds=backoff_seconds(
                row.attempts, settings.backoff, settings.backoff_max))
    db.session.flush()


# --- sending (no database) ------------------------------------------------------------

def send(job: Job, settings: Settings) -> Outcome:
    """Send one delivery; never raises."""
    base = {"delivery_id": job.delivery_id, "target": _shown_target(job),
            "subject": job.subject}
    try:
        if job.channel == DeliveryChannel.EMAIL:
            via = send_email(job, settings)
        else:
            via = send_webhook(job, settings)
    except DeliveryError as error:
        return Outcome(is_sent=False, error=str(error), is_permanent=error.permanent, **base)
    except Exception as error:  # noqa: BLE001  (one bad delivery must not stop the batch)
        log.exception("delivery %s failed unexpectedly", job.delivery_id)
        return Outcome(is_sent=False, error=f"{type(error).__name__}: {error}", **base)
    return Outcome(is_sent=True, via=via, **base)


def _shown_target(job: Job) -> str:
    """The target as it may be shown and logged: a webhook without its secret key."""
    if job.channel == DeliveryChannel.WEBHOOK and job.target:
        parts = urlsplit(job.target)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"
    return job.target or ""


def build_email(job: Job, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = job.subject
    message["From"] = settings.mail_from
    message["To"] = job.target
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid("notification")
    #: Lets a mail administrator recognise the one possible duplicate (see module doc).
    message["X-Tracker-Delivery"] = str(job.delivery_id)
    message.set_content(job.body, charset="utf-8")
    return message


def send_email(job: Job, settings: Settings) -> str:
    if not job.target or "@" not in job.target:
        raise DeliveryError(f"invalid address {job.target!r}", permanent=True)
    message = build_email(job, settings)
    if not settings.smtp_url:
        return _write_eml(job, message, settings)
    url = urlsplit(settings.smtp_url)
    scheme = url.scheme.lower()
    if scheme not in ("smtp", "smtps", "smtp+starttls"):
        raise DeliveryError(f"SMTP_URL scheme {scheme!r} is not smtp, smtps or smtp+starttls",
                            permanent=True)
    host = url.hostname or "localhost"
    port = url.port or {"smtp": 25, "smtps": 465, "smtp+starttls": 587}[scheme]
    try:
        if scheme == "smtps":
            server = smtplib.SMTP_SSL(host, port, timeout=settings.smtp_timeout,
                                      context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(host, port, timeout=settings.smtp_timeout)
        with server:
            if scheme == "smtp+starttls":
                server.starttls(context=ssl.create_default_context())
            if url.username:
                server.login(unquote(url.username), unquote(url.password or ""))
            server.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _msg in error.recipients.values()]
        raise DeliveryError(f"recipient refused: {error.recipients}",
                            permanent=all(c >= 500 for c in codes)) from None
    except smtplib.SMTPResponseException as error:
        text = error.smtp_error.decode(errors="replace") if isinstance(
            error.smtp_error, bytes) else str(error.smtp_error)
        raise DeliveryError(f"SMTP {error.smtp_code} {text}",
                            permanent=error.smtp_code >= 500) from None
    except (OSError, smtplib.SMTPException) as error:  # refused, timed out, TLS, …
        raise DeliveryError(f"SMTP {host}:{port}: {type(error).__name__}: {error}") from None
    return "smtp"


def _write_eml(job: Job, message: EmailMessage, settings: Settings) -> str:
    folder = Path(settings.outbox_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{clock.now_utc():%Y%m%d-%H%M%S}-{job.delivery_id}.eml"
    temporary = folder / f".{name}.tmp"
    temporary.write_bytes(bytes(message))
    os.replace(temporary, folder / name)
    log.info("no SMTP_URL: mail to %s written to %s: %s", job.target, folder / name, job.subject)
    return f"file:{folder / name}"


def webhook_format(url: str) -> str:
    """"dingtalk" for DingTalk robots (oapi.dingtalk.com/robot/send?access_token=…),
    "wecom" for WeCom robots (qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…) and others."""
    parts = urlsplit(url)
    if "dingtalk" in (parts.hostname or "") or parts.path.rstrip("/").endswith("/robot/send"):
        return "dingtalk"
    return "wecom"


def webhook_payload(kind: str, subject: str, body: str) -> dict:
    text = body if len(body) <= WEBHOOK_TEXT_MAX else body[:WEBHOOK_TEXT_MAX] + "…"
    if kind == "dingtalk":
        lines = "\n\n".join(line for line in text.splitlines() if line)
        return {"msgtype": "markdown", "markdown": {"title": subject,
                                                    "text": f"#### {subject}\n\n{lines}"}}
    quoted = "\n".join(f"> {line}" for line in text.splitlines() if line)
    return {"msgtype": "markdown", "markdown": {"content": f"**{subject}**\n{quoted}"}}


def signed_url(url: str, now_ms: int | None = None) -> str:
    """DingTalk robots secured by signing (加签) take the secret as the address's fragment
    ("…/robot/send?access_token=…#SEC…"): the fragment is never sent; a timestamp and the
    HMAC-SHA256 signature are added to the query instead. Other addresses lose the fragment."""
    parts = urlsplit(url)
    secret = parts.fragment
    url = urlunsplit(parts._replace(fragment=""))
    if not secret or webhook_format(url) != "dingtalk":
        return url
    timestamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = quote_plus(base64.b64encode(digest).decode())
    return f"{url}{'&' if parts.query else '?'}timestamp={timestamp}&sign={sign}"


def send_webhook(job: Job, settings: Settings) -> str:
    url = job.target
    if not url:
        raise DeliveryError("the unit has no webhook configured", permanent=True)
    if urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryError("the webhook is not an http(s) address", permanent=True)
    kind = webhook_format(url)
    url = signed_url(url)
    data = json.dumps(webhook_payload(kind, job.subject, job.body), ensure_ascii=False)
    request = urllib.request.Request(url, data=data.encode("utf-8"), method="POST", headers={
        "Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=settings.webhook_timeout) as response:
            raw = response.read(65536)
    except urllib.error.HTTPError as error:
        transient = error.code >= 500 or error.code in (408, 429)
        raise DeliveryError(f"HTTP {error.code} from {_shown_target(job)}",
                            permanent=not transient) from None
    except (urllib.error.URLError, socket.timeout, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryError(f"{_shown_target(job)}: {type(reason).__name__}: {reason}") from None
    try:
        answer = json.loads(raw.decode("utf-8") or "{}")
    except ValueError:
        answer = {}
    if isinstance(answer, dict) and answer.get("errcode", 0) not in (0, "0"):
        # Robots answer 200 with an error code: wrong key, keyword filter, rate limit, …
        raise DeliveryError(f"{kind} errcode {answer.get('errcode')}: {answer.get('errmsg')}")
    return kind


# --- the administrator's view ---------------------------------------------------------

def _check_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden(_("Only the administrator manages deliveries."))


def failed(actor: User, limit: int = 200) -> list[Delivery]:
    """Deliveries that failed and wait for a retry, or were given up."""
    _check_admin(actor)
    return list(db.session.scalars(
        select(Delivery).where(Delivery.status.in_((D.FAILED, D.DEAD)))
        .options(joinedload(Delivery.notification).joinedload(Notification.recipient_user),
                 joinedload(Delivery.notification).joinedload(Notification.recipient_unit))
        .order_by(Delivery.id.desc()).limit(limit)))


def failed_count() -> int:
    return db.session.scalar(select(func.count(Delivery.id)).where(
        Delivery.status.in_((D.FAILED, D.DEAD)))) or 0


def retry(actor: User, delivery_id: int) -> Delivery:
    """Send a failed or given-up delivery again at the next run."""
    _check_admin(actor)
    row = db.session.get(Delivery, delivery_id)
    if row is None:
        raise NotFound(_("Delivery not found."))
    if row.status not in (D.FAILED, D.DEAD):
        raise InvalidTransition(_("Only failed deliveries can be retried."))
    before = {"status": row.status.value, "attempts": row.attempts}
    row.status = D.PENDING
    row.attempts = 0
    row.next_attempt_at = clock.now_utc()
    db.session.flush()
    audit.record(actor, "delivery.retry", "delivery", row.id, before=before,
                 after={"status": row.status.value, "attempts": 0})
    return row
