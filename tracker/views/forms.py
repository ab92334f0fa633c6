"""Mapping domain errors back onto WTForms fields."""
from flask import flash
from flask_wtf import FlaskForm

from tracker.services.errors import DomainError


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
