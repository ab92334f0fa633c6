"""Request and response schemas (pydantic) that the API validates with, and the OpenAPI
document generated from the very same schemas.

`@endpoint(...)` registers a view on the blueprint together with its schemas: the body
(or query) is validated into the given model before the view runs, the response model is
what the view returns, and `openapi_document()` walks the registry. A route that is not
declared through `endpoint` does not exist in the API.
"""
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Callable

from flask import g, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ValidationError

from tracker.api import api_bp
from tracker.extensions import db
from tracker.services import accounts
from tracker.services.errors import DomainError, NotFound, ValidationFailed


@dataclass
class Endpoint:
    rule: str
    method: str
    summary: str
    view: Callable
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    auth: bool = True
    multipart: dict[str, str] | None = None
    extra_responses: dict[int, str] = field(default_factory=dict)
    raw_response: str | None = None  # media type of a non-JSON response (downloads)


REGISTRY: list[Endpoint] = []

#: Lazy, so that the message ids are extracted and translated at use.
_MESSAGES = {
    "missing": _l("This field is required."),
    "int_parsing": _l("Enter a whole number."),
    "int_type": _l("Enter a whole number."),
    "date_from_datetime_parsing": _l("Enter a date as YYYY-MM-DD."),
    "date_parsing": _l("Enter a date as YYYY-MM-DD."),
    "date_type": _l("Enter a date as YYYY-MM-DD."),
    "string_too_long": _l("Too long."),
    "string_too_short": _l("Too short."),
    "string_type": _l("Enter text."),
    "bool_parsing": _l("Enter true or false."),
    "greater_than_equal": _l("Too small."),
    "less_than_equal": _l("Too large."),
    "enum": _l("Not one of the allowed values."),
    "literal_error": _l("Not one of the allowed values."),
    "extra_forbidden": _l("Unknown field."),
    "list_type": _l("Enter a list."),
    "model_type": _l("Enter an object."),
    # Added by the ticket API (strict JSON types, lists, dates, nulls).
    "bool_type": _l("Enter true or false."),
    "int_from_float": _l("Enter a whole number."),
    "date_from_datetime_inexact": _l("Enter a date as YYYY-MM-DD."),
    "too_long": _l("Too many items."),
    "too_short": _l("Too few items."),
    "dict_type": _l("Enter an object."),
    "null_forbidden": _l("This field cannot be empty."),
    "date_out_of_range": _l("Enter a date between 2000-01-01 and 2099-12-31."),
}

#: Largest id a path or body may name: anything above is not a row (and would overflow
#: the database's integer columns), so it answers "not found" rather than a fault.
MAX_ID = 2**31 - 1


def translate_errors(exc: ValidationError) -> ValidationFailed:
    fields: dict[str, list[str]] = {}
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]) or "body"
        message = _MESSAGES.get(err["type"])
        fields.setdefault(name, []).append(str(message) if message else _("Invalid value."))
    return ValidationFailed(_("Please correct the fields listed."), fields)


def _authenticate() -> None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    found = accounts.user_for_token(token.strip()) if scheme.lower() == "bearer" and token else None
    if found is None:
        raise accounts.BadCredentials(_("A valid bearer token is required."))
    g.api_user, g.api_token = found


def _query_data(model: type[BaseModel]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        values = request.args.getlist(name)
        if not values:
            continue
        origin = getattr(info.annotation, "__origin__", None)
        data[name] = values if origin is list or "list[" in str(info.annotation) else values[-1]
    unknown = set(request.args) - set(model.model_fields)
    if unknown:
        raise ValidationFailed(_("Please correct the fields listed."),
                               {name: [_("Unknown parameter.")] for name in sorted(unknown)})
    return data


def endpoint(rule: str, method: str, summary: str, *, body=None, query=None, response=None,
             status: int = 200, auth: bool = True, multipart=None, raw_response=None,
             extra_responses=None):
    def decorate(view):
        @wraps(view)
        def wrapper(**kwargs):
            try:
                if auth:
                    _authenticate()
                if any(isinstance(v, int) and v > MAX_ID for v in kwargs.values()):
                    raise NotFound(_("Not found."))
                if query is not None:
                    kwargs["query"] = query.model_validate(_query_data(query))
                if body is not None:
                    try:
                        payload = request.get_json(silent=True)
                    except RecursionError:  # absurdly nested JSON
                        payload = None
                    if not isinstance(payload, dict):
                        raise ValidationFailed(_("Send a JSON object."),
                                               {"body": [_("Send a JSON object.")]})
                    kwargs["body"] = body.model_validate(payload)
                result = view(**kwargs)
            except ValidationError as exc:
                db.session.rollback()
                error = translate_errors(exc)
                return jsonify(error.to_json()), error.status_code
            except DomainError as error:
                db.session.rollback()
                response = jsonify(error.to_json())
                if error.status_code == 401:
                    response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
                return response, error.status_code
            if isinstance(result, BaseModel):
                return jsonify(result.model_dump(mode="json")), status
            return result

        wrapper.__name__ = f"{view.__name__}_{method.lower()}"
        api_bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapper, methods=[method])
        REGISTRY.append(Endpoint(rule=rule, method=method, summary=summary, view=wrapper,
                                 body=body, query=query, response=response, status=status,
                                 auth=auth, multipart=multipart, raw_response=raw_response,
                                 extra_responses=extra_responses or {}))
        return wrapper

    return decorate


def current_api_user():
    return g.api_user
