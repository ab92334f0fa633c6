"""Errors a user can cause. Views map them onto a form, a flash or a JSON body."""
from typing import Mapping, Sequence


class DomainError(Exception):
    status_code = 400
    code = "error"

    def __init__(self, message: str, fields: Mapping[str, Sequence[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = {k: list(v) for k, v in (fields or {}).items()}

    def to_json(self) -> dict:
        body = {"error": self.code, "message": str(self.message)}
        if self.fields or self.code == "validation":
            body["fields"] = {k: [str(m) for m in v] for k, v in self.fields.items()}
        return body


class NotFound(DomainError):
    """Missing, or outside the caller's scope: the two are indistinguishable on purpose."""

    status_code = 404
    code = "not_found"


class Forbidden(DomainError):
    """In the caller's scope, but not theirs to do."""

    status_code = 403
    code = "forbidden"


class InvalidTransition(DomainError):
    status_code = 409
    code = "invalid_transition"


class VersionConflict(DomainError):
    status_code = 409
    code = "version_conflict"


class ValidationFailed(DomainError):
    status_code = 422
    code = "validation"
