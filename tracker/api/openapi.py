"""GET /api/v1/openapi.json, generated from the endpoint registry and its pydantic schemas."""
import inspect
import re

from flask import jsonify
from pydantic.json_schema import models_json_schema

from tracker.api import api_bp
from tracker.api.schemas import ErrorResponse
from tracker.api.spec import REGISTRY


def _path(rule: str) -> tuple[str, list[dict]]:
    params = []
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        schema = {"type": "integer"} if converter == "int" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return "/api/v1" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), params


def openapi_document() -> dict:
    # Inputs are described as they are validated, responses as they are serialised (so a
    # field with a default is still listed as always present in the answer).
    keyed: list[tuple[type, str]] = [(ErrorResponse, "serialization")]
    for ep in REGISTRY:
        for model, mode in ((ep.body, "validation"), (ep.query, "validation"),
                            (ep.response, "serialization")):
            if model is not None and (model, mode) not in keyed:
                keyed.append((model, mode))
    refs, schema = models_json_schema(keyed, ref_template="#/components/schemas/{model}")
    ref = {key: refs[key]["$ref"] for key in keyed}
    error = {"application/json": {"schema": {"$ref": ref[(ErrorResponse, "serialization")]}}}
    paths: dict[str, dict] = {}
    for ep in REGISTRY:
        path, params = _path(ep.rule)
        op: dict = {"summary": ep.summary, "operationId": ep.view.__name__,
                    "parameters": list(params), "responses": {}}
        if ep.view.__doc__:
            op["description"] = inspect.cleandoc(ep.view.__doc__)
        if ep.query is not None:
            query_ref = ref[(ep.query, "validation")]
            for name, info in ep.query.model_fields.items():
                field_schema = schema["$defs"][query_ref.rsplit("/", 1)[1]]["properties"][name]
                param = {"name": name, "in": "query", "required": info.is_required(),
                         "schema": field_schema, "explode": True, "style": "form"}
                if info.description:
                    param["description"] = info.description
                op["parameters"].append(param)
        if ep.body is not None:
            op["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": {"$ref": ref[(ep.body, "validation")]}}}}
        if ep.multipart:
            op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {name: ({"type": "string", "format": "binary"} if kind == "file"
                                      else {"type": "string"})
                               for name, kind in ep.multipart.items()}}}}}
        if ep.response is not None:
            op["responses"][str(ep.status)] = {"description": "OK", "content": {
                "application/json": {"schema": {"$ref": ref[(ep.response, "serialization")]}}}}
        elif ep.raw_response:
            op["responses"][str(ep.status)] = {"description": "File", "content": {
                ep.raw_response: {"schema": {"type": "string", "format": "binary"}}}}
        else:
            op["responses"][str(ep.status)] = {"description": "No content"}
        codes = {422: "Validation error"}
        if ep.auth:
            codes.update({401: "No or bad token", 403: "Not allowed", 404: "Not found"})
        codes.update(ep.extra_responses)
        for code, text in codes.items():
            op["responses"][str(code)] = {"description": text, "content": error}
        if ep.auth:
            op["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[ep.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Rectification Tracker API", "version": "1"},
        "paths": paths,
        "components": {"schemas": schema.get("$defs", {}),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


@api_bp.get("/openapi.json")
def openapi_json():
    return jsonify(openapi_document())
