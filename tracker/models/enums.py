"""Enumerations stored as strings and checked by the database."""
from enum import StrEnum

from sqlalchemy import Enum


class Role(StrEnum):
    ADMIN = "admin"
    OFFICE = "office"
    SUPERVISOR = "supervisor"
    UNIT_USER = "unit_user"


class UnitKind(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    SCHOOL = "school"
    DEPARTMENT = "department"
    OFFICE = "office"


class InspectionKind(StrEnum):
    EVALUATION = "evaluation"  # 督导评价
    ONSITE = "onsite"  # 实地督查
    PATROL = "patrol"  # 巡视巡察
    AUDIT = "audit"  # 专项审计
    ASSESSMENT = "assessment"  # 督导考核
    SELF = "self"  # 自查自评
    OTHER = "other"  # 其他


class Severity(StrEnum):
    GENERAL = "general"
    SERIOUS = "serious"
    CRITICAL = "critical"


class TimelineKind(StrEnum):
    IMMEDIATE = "immediate"  # 立行立改
    BY_DATE = "by_date"  # 限期整改
    LONG_TERM = "long_term"  # 长期坚持


class TicketStatus(StrEnum):
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    RETURNED = "returned"
    CLOSED = "closed"
    LONG_TERM = "long_term"
    CANCELLED = "cancelled"


class ExtensionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


OPEN_STATUSES = frozenset(TicketStatus) - {TicketStatus.CLOSED, TicketStatus.CANCELLED}


def enum_column(enum_cls: type[StrEnum], name: str) -> Enum:
    """A VARCHAR column with a named CHECK constraint listing the enum's values."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )
