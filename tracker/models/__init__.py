"""The data model, one module per aggregate. Importing this package registers every table."""
from tracker.models.audit import AuditChain, AuditEvent
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
from tracker.models.snapshot import DashboardFigures, RollupSnapshot
from tracker.models.setting import Setting
from tracker.models.evidence import Evidence, EvidenceStatus
from tracker.models.notification import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    Holiday,
    Notification,
    NotificationDefault,
    NotificationKind,
    NotificationPreference,
    NotificationSetting,
    SchedulerLease,
    UrgingLevel,
    UrgingNotice,
)

__all__ = [
    "OPEN_STATUSES", "ApiToken", "AuditEvent", "Base", "Category", "ExtensionRequest",
    "ExtensionStatus", "Finding", "Inspection", "InspectionKind", "LoginAttempt",
    "ProgressUpdate", "Role", "Severity", "Ticket", "TicketStatus", "TicketUnit",
    "TimelineKind", "Unit", "UnitClosure", "UnitKind", "User", "utcnow",
]
__all__ += ["DashboardFigures", "RollupSnapshot"]
__all__ += ["Evidence", "EvidenceStatus"]
__all__ += ["Delivery", "DeliveryChannel", "DeliveryStatus", "Holiday", "Notification",
            "NotificationDefault", "NotificationKind", "NotificationPreference",
            "NotificationSetting", "SchedulerLease", "UrgingLevel", "UrgingNotice"]
__all__ += ["Setting"]
__all__ += ["AuditChain"]
