"""GET /api/v1/openapi.json describes the API that is actually served: every route, its
parameters, its body, and answers that match the documented schemas."""
import re
from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

from tests.factories import TODAY
from tracker.api.spec import REGISTRY
from tracker.extensions import db
from tracker.models import Ticket
from tracker.services import workflow

IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def check(document: dict, path: str, method: str, response) -> None:
    """The response's body must match the schema documented for its status code."""
    operation = document["paths"][path][method.lower()]
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, (
        f"{method} {path} answered {response.status_code}, which is not documented")
    content = documented.get("content")
    if content is None:
        assert not response.get_data(), f"{method} {path}: undocumented body"
        return
    if "application/json" not in content:
        assert response.mimetype in content
        return
    schema = {**content["application/json"]["schema"], "components": document["components"]}
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(response.get_json()), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def version(ticket_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Ticket, ticket_id).version


# --- the document covers the application -----------------------------------------------

def test_openapi_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate_openapi(document)


def test_every_api_route_is_documented_with_its_methods(app, document):
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/openapi.json":
            continue
        path = openapi_path(rule.rule)
        for method in rule.methods - IGNORED_METHODS:
            if method.lower() not in document["paths"].get(path, {}):
                missing.append(f"{method} {path}")
    assert not missing, "routes not declared through `endpoint`: " + ", ".join(missing)


def test_every_documented_operation_is_served(app, document):
    served = {(openapi_path(rule.rule), method.lower())
              for rule in app.url_map.iter_rules() for method in rule.methods}
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert documented <= served


def test_every_endpoint_documents_its_query_parameters_body_and_answer(document):
    for ep in REGISTRY:
        operation = document["paths"]["/api/v1" + openapi_path(ep.rule)][ep.method.lower()]
        names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
        if ep.query is not None:
            assert names == set(ep.query.model_fields), ep.rule
        if ep.body is not None:
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.rsplit("/", 1)[1] in document["components"]["schemas"]
        answer = operation["responses"][str(ep.status)]
        if ep.response is not None:
            assert "application/json" in answer["content"], ep.rule
        for code in ("422",) + (("401", "403", "404") if ep.auth else ()):
            assert code in operation["responses"], (ep.rule, code)


def test_ticket_write_endpoints_document_the_conflict_answer(document):
    for path, ops in document["paths"].items():
        if path.startswith("/api/v1/tickets/") or path.startswith("/api/v1/extension-requests/"):
            for method, operation in ops.items():
                if method in ("post", "patch"):
                    assert "409" in operation["responses"], (method, path)


def test_ticket_list_documents_its_filters_and_paging(document):
    params = {p["name"]: p for p in document["paths"]["/api/v1/tickets"]["get"]["parameters"]}
    assert {"status", "overdue", "near_due", "unit", "inspection", "finding", "category",
            "deadline_from", "deadline_to", "q", "sort", "per_page", "page", "cursor"} <= set(params)
    assert params["per_page"]["schema"]["maximum"] == 200
    assert params["status"]["schema"]["type"] == "array"


def test_patch_body_schema_refuses_unknown_fields(document):
    body_ref = document["paths"]["/api/v1/tickets/{ticket_id}"]["patch"]["requestBody"][
        "content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert schema["additionalProperties"] is False
    assert "status" not in schema["properties"]


# --- answers match the documented schemas ----------------------------------------------

def test_ticket_answers_match_their_documented_schemas(api, world, document):
    unit = api("unit_k1")
    office = api("office")
    t1 = world.t1.id

    check(document, "/api/v1/tickets", "GET", office.get("/api/v1/tickets"))
    check(document, "/api/v1/tickets", "GET", office.get("/api/v1/tickets?per_page=1"))
    check(document, "/api/v1/tickets/{ticket_id}", "GET", unit.get(f"/api/v1/tickets/{t1}"))
    check(document, "/api/v1/tickets/{ticket_id}/acknowledge", "POST",
          unit.post(f"/api/v1/tickets/{t1}/acknowledge", json={"version": version(t1)}))
    progress = unit.post(f"/api/v1/tickets/{t1}/progress",
                         json={"version": version(t1), "text": "已完成一半", "percent": 50})
    assert progress.status_code == 201
    check(document, "/api/v1/tickets/{ticket_id}/progress", "POST", progress)
    extension = unit.post(f"/api/v1/tickets/{t1}/extension-requests", json={
        "version": version(t1), "deadline": (TODAY + timedelta(days=60)).isoformat(),
        "reason": "资金未到位"})
    assert extension.status_code == 201
    check(document, "/api/v1/tickets/{ticket_id}/extension-requests", "POST", extension)
    check(document, "/api/v1/tickets/{ticket_id}", "GET", office.get(f"/api/v1/tickets/{t1}"))
    check(document, "/api/v1/extension-requests", "GET", office.get("/api/v1/extension-requests"))
    check(document, "/api/v1/extension-requests/{request_id}/approve", "POST",
          office.post(f"/api/v1/extension-requests/{extension.get_json()['id']}/approve",
                      json={"version": version(t1)}))
    check(document, "/api/v1/tickets/{ticket_id}", "PATCH",
          office.patch(f"/api/v1/tickets/{t1}", json={"version": version(t1),
                                                      "measures": "调整措施"}))
    check(document, "/api/v1/tickets/{ticket_id}/submit", "POST",
          unit.post(f"/api/v1/tickets/{t1}/submit", json={"version": version(t1)}))
    check(document, "/api/v1/tickets/{ticket_id}/approve", "POST",
          office.post(f"/api/v1/tickets/{t1}/approve", json={"version": version(t1)}))


def test_error_answers_match_the_documented_error_schema(api, client, world, document):
    unit = api("unit_k1")
    t1, t2 = world.t1.id, world.t2.id
    path = "/api/v1/tickets/{ticket_id}/submit"
    unauthorised = client.post(f"/api/v1/tickets/{t1}/submit", json={"version": 1})
    assert unauthorised.status_code == 401
    check(document, path, "POST", unauthorised)
    hidden = unit.post(f"/api/v1/tickets/{t2}/submit", json={"version": version(t2)})
    assert hidden.status_code == 404
    check(document, path, "POST", hidden)
    conflict = unit.post(f"/api/v1/tickets/{t1}/submit", json={"version": version(t1)})
    assert conflict.status_code == 409
    check(document, path, "POST", conflict)
    invalid = unit.post(f"/api/v1/tickets/{t1}/submit", json={"version": "x"})
    assert invalid.status_code == 422
    check(document, path, "POST", invalid)
    forbidden = api("unit_d1").post(f"/api/v1/tickets/{t1}/submit", json={"version": version(t1)})
    assert forbidden.status_code == 403
    check(document, path, "POST", forbidden)


GET_WITHOUT_PATH_PARAMS = sorted({ep.rule for ep in REGISTRY
                                  if ep.method == "GET" and "<" not in ep.rule})


@pytest.mark.parametrize("rule", GET_WITHOUT_PATH_PARAMS)
def test_every_list_endpoint_answers_as_documented(api, world, document, rule):
    """Every GET endpoint without path parameters, whoever wrote it: the administrator's
    answer matches the schema documented for the status code it returns."""
    workflow.acknowledge(world.unit_k1, world.t1.id, version(world.t1.id))
    db.session.commit()
    response = api("admin").get("/api/v1" + rule)
    assert response.status_code < 500
    check(document, "/api/v1" + openapi_path(rule), "GET", response)
