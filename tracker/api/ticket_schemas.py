"""Schemas of the ticket endpoints: what a client may send (strict, unknown fields refused)
and what it gets back. The OpenAPI document is generated from these very classes."""
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    field_validator,
)
from pydantic_core import PydanticCustomError

from tracker.api.schemas import StrictModel
from tracker.api.spec import MAX_ID
from tracker.models import ExtensionStatus, TicketStatus, TimelineKind
from tracker.services.ticket_queries import MAX_PER_PAGE
from tracker.services.workflow import MAX_REASON, MAX_TEXT

#: Dates outside this window are typing mistakes, and some databases cannot store them.
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
MAX_PAGE = 1_000_000
MAX_PERSON = 100


def _in_range(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise PydanticCustomError("date_out_of_range", "date out of range")
    return value


#: A calendar date (YYYY-MM-DD) between 2000-01-01 and 2099-12-31.
Day = Annotated[date, AfterValidator(_in_range),
                Field(json_schema_extra={"formatMinimum": EARLIEST.isoformat(),
                                         "formatMaximum": LATEST.isoformat()})]
#: A row id inside a JSON body: a real integer, never a string or a float.
BodyId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
#: A row id in the query string (where everything arrives as text).
QueryId = Annotated[int, Field(ge=1, le=MAX_ID)]
Version = Annotated[StrictInt, Field(ge=1, le=MAX_ID,
                                     description="The ticket's version as last read; a stale "
                                                 "one is refused with 409 version_conflict.")]
Reason = Annotated[StrictStr, Field(min_length=1, max_length=MAX_REASON)]
Note = Annotated[StrictStr, Field(max_length=MAX_REASON)]
LongText = Annotated[StrictStr, Field(max_length=MAX_TEXT)]


# --- what clients send ----------------------------------------------------------------

class TicketListQuery(StrictModel):
    status: list[TicketStatus] = Field(
        default_factory=list, max_length=len(TicketStatus),
        description="Repeat to allow several states; all states when absent.")
    overdue: bool | None = Field(None, description="Only overdue (true) or not overdue (false).")
    near_due: bool | None = Field(None, description="Only near-due (true) or not (false).")
    unit: QueryId | None = Field(None, description="Lead unit in this unit's subtree.")
    inspection: QueryId | None = None
    finding: QueryId | None = None
    category: QueryId | None = None
    deadline_from: Day | None = None
    deadline_to: Day | None = None
    q: str | None = Field(None, max_length=100,
                          description="Text in the measures, responsible person or finding title.")
    sort: Literal["deadline", "-deadline", "updated", "-updated"] = "deadline"
    per_page: int = Field(50, ge=1, le=MAX_PER_PAGE)
    page: int | None = Field(None, ge=1, le=MAX_PAGE,
                             description="Page number (offset paging); not with `cursor`.")
    cursor: str | None = Field(None, max_length=200,
                               description="`next_cursor` (or `prev_cursor`) of the page "
                                           "before (after) (keyset paging: deep pages cost "
                                           "no more than the first); not with `page`.")


class ExtensionRequestListQuery(StrictModel):
    status: ExtensionStatus = ExtensionStatus.PENDING
    ticket: QueryId | None = None
    per_page: int = Field(50, ge=1, le=MAX_PER_PAGE)
    page: int = Field(1, ge=1, le=MAX_PAGE)


class VersionBody(StrictModel):
    version: Version


class DeclineBody(StrictModel):
    version: Version
    reason: Reason


class ProgressBody(StrictModel):
    version: Version
    text: Annotated[StrictStr, Field(min_length=1, max_length=MAX_TEXT)]
    percent: Annotated[StrictInt, Field(ge=0, le=100)] | None = Field(
        None, description="Lead unit only.")
    planned_completion_on: Day | None = Field(None, description="Lead unit only.")


class ApproveBody(StrictModel):
    version: Version
    note: Note | None = None


class ReasonBody(StrictModel):
    version: Version
    reason: Reason


class LongTermBody(StrictModel):
    version: Version
    stage_goal: Annotated[StrictStr, Field(min_length=1, max_length=MAX_TEXT)]
    next_review_on: Day
    review_cycle_days: Annotated[StrictInt, Field(ge=1, le=366)]


class ReopenBody(StrictModel):
    version: Version
    reason: Reason
    deadline: Day


class TicketPatchBody(StrictModel):
    """The office's edit. Only these fields exist; anything else (status, ids, owner…) is
    refused as an unknown field. An absent field is left as it is; null is refused."""

    version: Version
    lead_unit_id: BodyId | None = None
    cooperating_unit_ids: list[BodyId] | None = Field(None, max_length=50)
    deadline: Day | None = None
    measures: LongText | None = None
    target: LongText | None = None
    responsible_person: Annotated[StrictStr, Field(max_length=MAX_PERSON)] | None = None
    planned_completion_on: Day | None = None

    @field_validator("lead_unit_id", "cooperating_unit_ids", "deadline", "measures", "target",
                     "responsible_person", "planned_completion_on", mode="before")
    @classmethod
    def _not_null(cls, value):
        if value is None:
            raise PydanticCustomError("null_forbidden", "null is not allowed")
        return value


class ExtensionRequestBody(StrictModel):
    version: Version
    deadline: Day
    reason: Reason


class ExtensionDecisionBody(StrictModel):
    version: Version  # the ticket's version, like every write's
    note: Note | None = None


# --- what clients get back ------------------------------------------------------------

class _Out(BaseModel):
    # Responses carry exactly the documented fields (the OpenAPI test relies on it).
    model_config = ConfigDict(extra="forbid")


class ExtensionRequestOut(_Out):
    id: int
    ticket_id: int
    ticket_version: int
    status: ExtensionStatus
    current_deadline: date
    requested_deadline: date
    reason: str
    requested_by_id: int
    requested_by_name: str
    created_at: datetime
    decided_by_id: int | None
    decided_at: datetime | None
    decision_note: str | None


class TicketOut(_Out):
    id: int
    finding_id: int
    finding_number: int
    finding_title: str
    inspection_id: int
    status: TicketStatus
    timeline: TimelineKind
    deadline: date
    original_deadline: date
    planned_completion_on: date | None
    is_overdue: bool
    is_near_due: bool
    light: Literal["green", "yellow", "red"]
    waiting_days: int | None = Field(description="Days since submission while waiting for a "
                                                 "decision (submitted, verified); else null.")
    lead_unit_id: int
    lead_unit_name: str
    unit_ids: list[int] = Field(description="The lead unit first, then the cooperating units.")
    cooperating_unit_ids: list[int]
    responsible_person: str
    measures: str
    target: str
    progress_percent: int
    stage_goal: str | None
    next_review_on: date | None
    review_cycle_days: int | None
    is_declined: bool
    decline_reason: str | None
    return_reason: str | None
    version: int
    assigned_at: datetime
    acknowledged_at: datetime | None
    submitted_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime
    pending_extension: ExtensionRequestOut | None


class TicketListResponse(_Out):
    items: list[TicketOut]
    total: int = Field(description="Tickets matching the filters, counted up to 10,000: when "
                                   "more match, `total` is 10000 and `total_capped` is true.")
    total_capped: bool = Field(description="True when more tickets match than `total` says.")
    page: int | None = Field(description="The page number; null when paging by cursor.")
    per_page: int
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on "
                                                "the last page.")
    prev_cursor: str | None = Field(description="Pass as `cursor` for the page before; null on "
                                                "the first page.")


class ProgressUpdateOut(_Out):
    id: int
    ticket_id: int
    author_id: int
    author_name: str
    unit_id: int
    text: str
    percent: int | None
    created_at: datetime


class ProgressResponse(_Out):
    update: ProgressUpdateOut
    ticket: TicketOut


class ExtensionRequestListResponse(_Out):
    items: list[ExtensionRequestOut]
    total: int
    page: int
    per_page: int
