"""The data model, one module per aggregate. Importing this package registers every table."""
from tracker.models.audit import AuditEvent
from tracker.models.base import Base, utcnow
from tracker.models.enums import (
    OPEN_STATUSES,
    ExtensionStatus,
    InspectionKind,
    Role,
    Severity,
    TicketStatus,
    TimelineKind,
    UnitKind,
)
from tracker.models.inspection import Category, Finding, Inspection
from tracker.models.ticket import ExtensionRequest, ProgressUpdate, Ticket, TicketUnit
from tracker.models.unit import Unit, UnitClosure
from tracker.models.user import ApiToken, LoginAttempt, User

__all__ = [
    "OPEN_STATUSES", "ApiToken", "AuditEvent", "Base", "Category", "ExtensionRequest",
    "ExtensionStatus", "Finding", "Inspection", "InspectionKind", "LoginAttempt",
    "ProgressUpdate", "Role", "Severity", "Ticket", "TicketStatus", "TicketUnit",
    "TimelineKind", "Unit", "UnitClosure", "UnitKind", "User", "utcnow",
]
