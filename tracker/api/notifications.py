"""Notification and urging-notice endpoints: the caller's own notifications, marking one
read, and urging notices (督办单) on a ticket — issued by the office or a supervisor in
scope, acknowledged by the lead unit. Same services and scoping as the pages."""
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictStr

from tracker.api.schemas import StrictModel
from tracker.api.spec import MAX_ID, current_api_user, endpoint
from tracker.extensions import db
from tracker.models import Notification, NotificationKind, UrgingLevel, UrgingNotice
from tracker.services import notifications, scoping, urgings

MAX_PER_PAGE = 100


class NotificationListQuery(StrictModel):
    unread: bool | None = Field(None, description="Only unread (true) notifications.")
    before: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(
        None, description="Cursor: only notifications with a smaller id (the previous "
                          "page's next_before).")
    per_page: Annotated[int, Field(ge=1, le=MAX_PER_PAGE)] = 30


class NotificationOut(BaseModel):
    id: int
    kind: NotificationKind
    subject: str
    body: str
    ticket_id: int | None
    urging_id: int | None
    about_on: date | None
    created_at: datetime
    read_at: datetime | None


class NotificationListResponse(BaseModel):
    items: list[NotificationOut]
    total: int
    unread: int
    next_before: int | None


class UrgingBody(StrictModel):
    level: UrgingLevel = Field(description="general (一般), important (重点) or listed (挂牌).")
    text: Annotated[StrictStr, Field(min_length=1, max_length=urgings.MAX_TEXT)]
    respond_by: date | None = Field(None, description="Report back by this date (optional).")


class AcknowledgeBody(StrictModel):
    response: Annotated[StrictStr, Field(max_length=urgings.MAX_TEXT)] | None = None


class UrgingOut(BaseModel):
    id: int
    ticket_id: int
    level: UrgingLevel
    text: str
    respond_by: date | None
    issued_by_id: int
    issued_by_name: str
    issued_at: datetime
    acknowledged_by_id: int | None
    acknowledged_at: datetime | None
    response: str | None


class UrgingListResponse(BaseModel):
    items: list[UrgingOut]


def notification_out(row: Notification) -> NotificationOut:
    return NotificationOut(id=row.id, kind=row.kind, subject=row.subject, body=row.body,
                           ticket_id=row.ticket_id, urging_id=row.urging_id,
                           about_on=row.about_on, created_at=row.created_at,
                           read_at=row.read_at)


def urging_out(row: UrgingNotice) -> UrgingOut:
    return UrgingOut(id=row.id, ticket_id=row.ticket_id, level=row.level, text=row.text,
                     respond_by=row.respond_by, issued_by_id=row.issued_by_id,
                     issued_by_name=row.issued_by.full_name, issued_at=row.issued_at,
                     acknowledged_by_id=row.acknowledged_by_id,
                     acknowledged_at=row.acknowledged_at, response=row.response)


@endpoint("/notifications", "GET", "The caller's notifications, newest first",
          query=NotificationListQuery, response=NotificationListResponse)
def list_notifications(query: NotificationListQuery):
    page = notifications.centre(current_api_user(), unread_only=bool(query.unread),
                                before_id=query.before, per_page=query.per_page)
    return NotificationListResponse(items=[notification_out(n) for n in page.items],
                                    total=page.total, unread=page.unread,
                                    next_before=page.next_before)


@endpoint("/notifications/<int:notification_id>/read", "POST",
          "Mark one of the caller's notifications as read", response=NotificationOut)
def read_notification(notification_id: int):
    row = notifications.mark_read(current_api_user(), notification_id)
    db.session.commit()
    return notification_out(row)


@endpoint("/tickets/<int:ticket_id>/urgings", "GET", "The urging notices of a ticket",
          response=UrgingListResponse)
def list_ticket_urgings(ticket_id: int):
    ticket = scoping.get_ticket(current_api_user(), ticket_id)
    return UrgingListResponse(items=[urging_out(u) for u in urgings.for_ticket(ticket)])


@endpoint("/tickets/<int:ticket_id>/urgings", "POST",
          "Issue an urging notice on a ticket (office or supervisor in scope)",
          body=UrgingBody, response=UrgingOut, status=201,
          extra_responses={409: "invalid_transition: the ticket is not open"})
def issue_urging(ticket_id: int, body: UrgingBody):
    row = urgings.issue(current_api_user(), ticket_id, urgings.UrgingDraft(
        level=body.level, text=body.text, respond_by=body.respond_by))
    db.session.commit()
    return urging_out(row)


@endpoint("/urgings/<int:urging_id>/acknowledge", "POST",
          "Acknowledge an urging notice (lead unit)", body=AcknowledgeBody,
          response=UrgingOut,
          extra_responses={409: "invalid_transition: already acknowledged"})
def acknowledge_urging(urging_id: int, body: AcknowledgeBody):
    row = urgings.acknowledge(current_api_user(), urging_id, body.response)
    db.session.commit()
    return urging_out(row)
