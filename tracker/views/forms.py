"""Mapping domain errors back onto WTForms fields."""
from collections.abc import Callable
from typing import TypeVar

from flask import flash
from flask_wtf import FlaskForm

from tracker.extensions import db
from tracker.services.errors import DomainError

T = TypeVar("T")


def apply_errors(form: FlaskForm, error: DomainError) -> None:
    """Put each field's messages beside the field; what has no field becomes a flash."""
    placed = False
    for name, messages in error.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + list(messages)
            placed = True
    if not placed:
        flash(error.message, "danger")


def attempt(form: FlaskForm, call: Callable[[], T],
            refusals: type[DomainError] = DomainError) -> tuple[bool, T | None]:
    """Run one service call for a submitted form as a unit of work.

    On success the session is committed and ``(True, result)`` returned. On one of
    ``refusals`` it is rolled back, the messages are put beside their fields and
    ``(False, None)`` returned; any other domain error goes on to the error pages."""
    try:
        result = call()
    except refusals as error:
        db.session.rollback()
        apply_errors(form, error)
        return False, None
    db.session.commit()
    return True, result
