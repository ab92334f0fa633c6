"""Notifications (提醒/督办): what was told to whom, the outbox it is delivered from, who
wants it how, urging notices (督办单), the scheduler's lease and the office's holiday table.

A notification is written once: its natural key (recipient, kind, ticket or urging, the
date it is about, the offset) is unique, so a pass run twice, two schedulers at once or a
restart cannot create a second one. Each delivery over e-mail or a work-chat webhook is a
row of the outbox, written in the same transaction as its notification.
"""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, UTCDateTime, utcnow
from tracker.models.enums import enum_column
from tracker.models.ticket import Ticket
from tracker.models.unit import Unit
from tracker.models.user import User


class NotificationKind(StrEnum):
    # Reminders computed by the pass.
    DUE_SOON = "due_soon"  # 临期提醒: 7/3/1/0 days before the deadline
    REVIEW_DUE = "review_due"  # 长期坚持: next review date near
    OVERDUE = "overdue"  # 逾期提醒: the day after, then weekly
    ESCALATION_SUPERVISOR = "escalation_supervisor"  # 逾期 N days: to the supervisors
    ESCALATION_OFFICE = "escalation_office"  # 逾期 M days: to the office
    UNACKNOWLEDGED = "unacknowledged"  # 未签收
    REPORT_OWED = "report_owed"  # 月报未报
    DECISION_WAITING = "decision_waiting"  # submission waiting for sign-off
    EXTENSION_WAITING = "extension_waiting"  # extension request waiting for a decision
    URGING_UNACKNOWLEDGED = "urging_unacknowledged"  # 督办单 not acknowledged
    WEEKLY_DIGEST = "weekly_digest"  # 每周汇总 for supervisors and offices
    DAILY_DIGEST = "daily_digest"  # the day's held e-mails in one
    # Urging notices.
    URGING = "urging"  # 督办单 issued
    URGING_ACKNOWLEDGED = "urging_acknowledged"  # the unit acknowledged it
    # News of workflow events, as they happen.
    ASSIGNED = "assigned"
    DECLINED = "declined"
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    RETURNED = "returned"
    APPROVED = "approved"
    LONG_TERM = "long_term"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_DECIDED = "extension_decided"
    DEADLINE_CHANGED = "deadline_changed"
    CANCELLED = "cancelled"
    REOPENED = "reopened"


class DeliveryChannel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"  # the unit's 企业微信 / 钉钉 group robot


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its first attempt
    SENDING = "sending"  # claimed by a worker until next_attempt_at
    SENT = "sent"
    FAILED = "failed"  # will be retried at next_attempt_at
    DEAD = "dead"  # gave up (permanent error or attempts exhausted); an admin may retry
    HELD = "held"  # waits for the recipient's daily digest
    BUNDLED = "bundled"  # went out inside a daily digest


class UrgingLevel(StrEnum):
    GENERAL = "general"  # 一般督办
    IMPORTANT = "important"  # 重点督办
    LISTED = "listed"  # 挂牌督办


class Notification(Base):
    """One message to one recipient: a user (shown in their notification centre), or a
    unit's work-chat group (delivered by webhook only)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recipient_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind,
                                                               "notification_kind"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    urging_id: Mapped[int | None] = mapped_column(ForeignKey("urging_notices.id"), index=True)
    #: The date the message is about: the deadline, review date, period or digest day.
    about_on: Mapped[date | None] = mapped_column(Date)
    #: Days before (reminders) or after (overdue, waiting) that date the message is for.
    offset_days: Mapped[int | None] = mapped_column(Integer)
    #: The natural key, spelled out: "u12|due_soon|t42|2026-11-24|3". Unique: written once.
    dedup_key: Mapped[str] = mapped_column(String(190), unique=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipient_user: Mapped[User | None] = relationship(foreign_keys=[recipient_user_id])
    recipient_unit: Mapped[Unit | None] = relationship(foreign_keys=[recipient_unit_id])
    ticket: Mapped[Ticket | None] = relationship()
    deliveries: Mapped[list["Delivery"]] = relationship(
        back_populates="notification", foreign_keys="Delivery.notification_id",
        order_by="Delivery.id")

    __table_args__ = (
        CheckConstraint("(recipient_user_id IS NULL) <> (recipient_unit_id IS NULL)",
                        name="one_recipient"),
        # The bell's COUNT and the centre's newest-first page.
        Index("ix_notifications_recipient_read", "recipient_user_id", "read_at", "id"),
    )


class Delivery(Base):
    """The outbox: one delivery of a notification over one channel."""

    __tablename__ = "notification_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"))
    channel: Mapped[DeliveryChannel] = mapped_column(enum_column(DeliveryChannel,
                                                                 "delivery_channel"))
    #: The e-mail address at the time of writing; webhooks read the unit's URL when sent,
    #: so the robot's key is never copied here.
    target: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When to try next; while SENDING, when the claim runs out.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    #: The worker batch that holds the claim while SENDING.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: BUNDLED: the daily digest notification it went out in.
    bundle_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    notification: Mapped[Notification] = relationship(back_populates="deliveries",
                                                      foreign_keys=[notification_id])

    __table_args__ = (
        Index("ix_notification_deliveries_notification_channel", "notification_id", "channel",
              unique=True),
        Index("ix_notification_deliveries_status_next", "status", "next_attempt_at"),
        CheckConstraint("attempts >= 0", name="attempts"),
    )


class NotificationPreference(Base):
    """A user's choice for one kind: e-mail or not, at once or in the daily digest.
    In-app notifications are always kept: they are the record."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[NotificationKind] = mapped_column(
        enum_column(NotificationKind, "notification_preference_kind"), primary_key=True)
    is_email: Mapped[bool] = mapped_column(Boolean, default=True)
    is_digest: Mapped[bool] = mapped_column(Boolean, default=False)


class NotificationDefault(Base):
    """The organisation's default for one kind, set by the office; also whether the kind
    goes to the units' work-chat groups."""

    __tablename__ = "notification_defaults"

    kind: Mapped[NotificationKind] = mapped_column(
        enum_column(NotificationKind, "notification_default_kind"), primary_key=True)
    is_email: Mapped[bool] = mapped_column(Boolean, default=True)
    is_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    is_webhook: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class NotificationSetting(Base):
    """Reminder rules the office sets (offsets, escalation days, …), one row per key;
    a key without a row takes the configured default."""

    __tablename__ = "notification_settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class UrgingNotice(Base):
    """督办单: issued on a ticket by the office or a supervisor in scope, acknowledged by
    the lead unit. Never deleted: it is part of the ticket's history."""

    __tablename__ = "urging_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    level: Mapped[UrgingLevel] = mapped_column(enum_column(UrgingLevel, "urging_level"))
    #: What the issuer demands.
    text: Mapped[str] = mapped_column(Text)
    #: 要求反馈时间: by when the unit must report back, if set.
    respond_by: Mapped[date | None] = mapped_column(Date)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The unit's answer given with the acknowledgement.
    response: Mapped[str | None] = mapped_column(Text)

    ticket: Mapped[Ticket] = relationship()
    issued_by: Mapped[User] = relationship(foreign_keys=[issued_by_id], lazy="joined")
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id],
                                                        lazy="joined")

    __table_args__ = (
        Index("ix_urging_notices_ticket", "ticket_id", "id"),
        Index("ix_urging_notices_open", "acknowledged_at", "issued_at"),
        CheckConstraint("(acknowledged_at IS NULL) = (acknowledged_by_id IS NULL)",
                        name="acknowledged_together"),
    )


class SchedulerLease(Base):
    """Who runs the scheduler: a row per lease name, held by one owner until it expires.
    Taken and renewed with conditional UPDATEs, so it works on every database."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: host:pid:random of the holding process.
    owner: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Holiday(Base):
    """A day the office entered: a public holiday, or a make-up working day (调休) on a
    weekend. Wins over the holiday package; needed for years the package does not know."""

    __tablename__ = "holidays"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    #: True: a make-up working day (调休上班); False: a day off.
    is_workday: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str] = mapped_column(String(60), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
