"""Evidence through the API: upload, list, download; limits and bad input leave nothing."""
import hashlib
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from tests.evidence import samples
from tests.evidence.conftest import evidence_count, multipart, stored_files
from tracker.extensions import db
from tracker.models import AuditEvent, Evidence, TicketStatus
from tracker.services import workflow


def test_upload_answers_the_stored_evidence_with_id_name_size_and_sha256(world, store, post_file):
    data = samples.pdf()
    response = post_file("unit_k1", world.t1.id, data, "整改报告.pdf", description="印发通知",
                         type="notice")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id"] > 0
    assert body["filename"] == "整改报告.pdf"
    assert body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["type"] == "notice" and body["description"] == "印发通知"
    assert body["status"] == "active" and body["content_type"] == "application/pdf"


def test_stored_file_has_a_generated_name_inside_the_storage_folder(world, store, post_file):
    post_file("unit_k1", world.t1.id, samples.pdf(), "整改报告.pdf")
    [path] = stored_files(store)
    row = db.session.scalars(select(Evidence)).one()
    assert path == store.root / row.storage_key
    assert "整改" not in str(path) and "pdf" not in path.name
    assert path.name.startswith(f"{row.id}-")


def test_list_shows_files_and_missing_required_items(world, store, post_file, api):
    world.finding.required_evidence = "印发文件\n现场照片"
    db.session.commit()
    post_file("unit_k1", world.t1.id, samples.pdf(), "通知.pdf", item="印发文件")
    body = api("unit_k1").get(f"/api/v1/tickets/{world.t1.id}/evidence").get_json()
    assert [e["filename"] for e in body["items"]] == ["通知.pdf"]
    assert body["required_items"] == ["印发文件", "现场照片"]
    assert body["missing_items"] == ["现场照片"]


def test_download_returns_the_bytes_and_the_chinese_name_byte_for_byte(world, store, post_file, api):
    data = samples.pdf()
    name = "整改报告（第二版）.pdf"
    evidence_id = post_file("unit_k1", world.t1.id, data, name).get_json()["id"]
    response = api("unit_k1").get(f"/api/v1/evidence/{evidence_id}/download")
    assert response.status_code == 200
    assert response.get_data() == data
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded, errors="strict").encode("utf-8") == name.encode("utf-8")
    assert f'filename="evidence-{evidence_id}.pdf"' in disposition  # the ASCII fallback


def test_download_headers_forbid_sniffing_and_scripting(world, store, post_file, api):
    evidence_id = post_file("unit_k1", world.t1.id).get_json()["id"]
    response = api("unit_k1").get(f"/api/v1/evidence/{evidence_id}/download")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["Content-Type"] == "application/pdf"


def test_ascii_name_is_its_own_fallback(world, store, post_file, api):
    evidence_id = post_file("unit_k1", world.t1.id, samples.pdf(), "report v2.pdf").get_json()["id"]
    response = api("unit_k1").get(f"/api/v1/evidence/{evidence_id}/download")
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"report v2.pdf\"; filename*=UTF-8''report%20v2.pdf")


def test_another_units_file_answers_404(world, store, post_file, api):
    evidence_id = post_file("unit_k1", world.t1.id).get_json()["id"]
    assert api("unit_k2").get(f"/api/v1/evidence/{evidence_id}/download").status_code == 404
    assert api("sup_c2").get(f"/api/v1/evidence/{evidence_id}/download").status_code == 404
    assert api("unit_k2").get(f"/api/v1/tickets/{world.t1.id}/evidence").status_code == 404


def test_unknown_evidence_id_answers_404(world, store, api):
    assert api("office").get("/api/v1/evidence/999999/download").status_code == 404


def test_cooperating_unit_uploads_and_office_downloads(world, store, post_file, api):
    evidence_id = post_file("unit_d1", world.t1.id).get_json()["id"]
    assert api("office").get(f"/api/v1/evidence/{evidence_id}/download").status_code == 200
    assert api("supervisor").get(f"/api/v1/evidence/{evidence_id}/download").status_code == 200


def test_office_cannot_upload_to_a_units_ticket(world, store, post_file):
    assert post_file("office", world.t1.id).status_code == 403
    assert evidence_count() == 0


def test_unit_cannot_upload_to_another_units_ticket(world, store, post_file):
    assert post_file("unit_k2", world.t1.id).status_code == 404
    assert evidence_count() == 0 and stored_files(store) == []


def test_office_download_is_audited_unit_download_is_not(world, store, post_file, api):
    evidence_id = post_file("unit_k1", world.t1.id).get_json()["id"]
    api("unit_k1").get(f"/api/v1/evidence/{evidence_id}/download")
    api("office").get(f"/api/v1/evidence/{evidence_id}/download")
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "evidence.download")).all()
    assert [e.actor_id for e in events] == [world.office.id]
    assert events[0].object_id == evidence_id and events[0].ticket_id == world.t1.id


def test_upload_is_audited_with_name_size_and_hash(world, store, post_file):
    body = post_file("unit_k1", world.t1.id, samples.pdf(), "通知.pdf").get_json()
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "evidence.upload")).one()
    assert event.actor_id == world.unit_k1.id and event.object_id == body["id"]
    assert event.after["sha256"] == body["sha256"] and event.note == "通知.pdf"


# --- limits ---------------------------------------------------------------------------------

def test_file_one_byte_over_the_limit_answers_413_and_stores_nothing(world, store, post_file,
                                                                    app, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_FILE_MB", 1)
    data = b"a" * (1024 * 1024 + 1)
    response = post_file("unit_k1", world.t1.id, data, "大文件.txt")
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"
    assert evidence_count() == 0 and stored_files(store) == []


def test_file_exactly_at_the_limit_is_stored(world, store, post_file, app, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_FILE_MB", 1)
    response = post_file("unit_k1", world.t1.id, b"a" * (1024 * 1024), "大文件.txt")
    assert response.status_code == 201


def test_request_far_over_the_limit_is_refused_before_reading(world, store, post_file, app,
                                                            monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_FILE_MB", 0.01)
    response = post_file("unit_k1", world.t1.id, b"a" * (2 * 1024 * 1024), "大文件.txt")
    assert response.status_code == 413
    assert evidence_count() == 0 and stored_files(store) == []


def test_upload_past_the_tickets_total_answers_413_and_stores_nothing(world, store, post_file,
                                                                     app, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_TICKET_MB", 1)
    assert post_file("unit_k1", world.t1.id, b"a" * 600_000, "一.txt").status_code == 201
    response = post_file("unit_k1", world.t1.id, b"b" * 600_000, "二.txt")
    assert response.status_code == 413
    assert evidence_count() == 1 and len(stored_files(store)) == 1


# --- bad input ------------------------------------------------------------------------------

BAD = [
    ("exe renamed pdf", samples.exe(), "报告.pdf"),
    ("html posing as png", samples.HTML, "照片.png"),
    ("svg posing as jpg", samples.SVG, "照片.jpg"),
    ("empty file", b"", "空.pdf"),
    ("truncated pdf", samples.pdf()[:60], "报告.pdf"),
    ("docx zip bomb", samples.docx_bomb(60), "报告.docx"),
    ("etc passwd", b"root:x:0:0:root:/root:/bin/bash\n", "/etc/passwd"),
    ("windows ini", b"[fonts]\n", "C:\\Windows\\win.ini"),
    ("nul in name", b"hello", "hax0rd.txt\x00.pdf"),
    ("300 chinese characters", samples.pdf(), "整" * 296 + ".pdf"),
    ("only dots", samples.pdf(), "..."),
    ("svg extension", samples.SVG, "图.svg"),
    ("html extension", samples.HTML, "页.html"),
]


@pytest.mark.parametrize("label,data,name", BAD, ids=[b[0] for b in BAD])
def test_bad_upload_is_refused_with_a_message_and_leaves_no_file_or_row(
        world, store, post_file, label, data, name):
    response = post_file("unit_k1", world.t1.id, data, name)
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["error"] == "validation" and body["fields"]["file"][0]
    assert evidence_count() == 0
    assert stored_files(store) == []


@pytest.mark.parametrize("name,shown", [
    ("../../hax0rd.txt", {"hax0rd.txt"}),
    # In a quoted multipart header a backslash escapes the next character, so the server
    # receives "....hax0rd.txt"; a client that does not quote sends the path itself.
    ("..\\..\\hax0rd.txt", {"hax0rd.txt", "....hax0rd.txt"}),
    ("..&#x2F;hax0rd.txt", {"..&#x2F;hax0rd.txt"}),
    ("%2E%2E%2Fhax0rd.txt", {"%2E%2E%2Fhax0rd.txt"}),
])
def test_traversal_name_cannot_place_the_file_outside_the_folder(world, store, post_file, tmp_path,
                                                                  name, shown):
    response = post_file("unit_k1", world.t1.id, b"hacked\n", name)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["filename"] in shown
    [path] = stored_files(store)
    assert store.root in path.parents and "hax0rd" not in str(path)
    assert not any(p.name == "hax0rd.txt" for p in tmp_path.rglob("*"))


def test_second_upload_of_the_same_content_is_reported_as_duplicate(world, store, post_file):
    first = post_file("unit_k1", world.t1.id, samples.pdf(), "一.pdf").get_json()
    response = post_file("unit_d1", world.t1.id, samples.pdf(), "二.pdf")
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "duplicate" and body["existing_id"] == first["id"]
    assert "一.pdf" in body["message"]
    assert evidence_count() == 1 and len(stored_files(store)) == 1


def test_same_content_on_another_ticket_is_not_a_duplicate(world, store, post_file):
    assert post_file("unit_k1", world.t1.id).status_code == 201
    assert post_file("unit_k2", world.t2.id).status_code == 201


@pytest.mark.parametrize("final", ["closed", "cancelled"])
def test_upload_to_a_finished_ticket_is_refused(world, store, post_file, final):
    t = world.t1
    if final == "cancelled":
        workflow.cancel(world.office, t.id, t.version, "重复任务")
    else:
        workflow.acknowledge(world.unit_k1, t.id, t.version)
        workflow.add_progress(world.unit_k1, t.id, t.version, "已完成")
        workflow.submit(world.unit_k1, t.id, t.version)
        workflow.approve(world.office, t.id, t.version, "同意销号")
    db.session.commit()
    assert db.session.get(type(t), t.id).status == TicketStatus(final)
    response = post_file("unit_k1", t.id)
    assert response.status_code == 409
    assert evidence_count() == 0 and stored_files(store) == []


def test_missing_file_field_is_a_validation_error(world, store, api):
    response = api("unit_k1").post(f"/api/v1/tickets/{world.t1.id}/evidence",
                                   **multipart({"description": "x"}))
    assert response.status_code == 422
    assert "file" in response.get_json()["fields"]


def test_unknown_form_field_is_a_validation_error(world, store, post_file):
    response = post_file("unit_k1", world.t1.id, owner="me")
    assert response.status_code == 422
    assert "owner" in response.get_json()["fields"]
    assert evidence_count() == 0


def test_parts_named_unreadably_are_unknown_fields_not_a_server_error(world, store, api):
    # name="\" is an unterminated quoted string: the multipart parser names that part None.
    parts = ['name="\\"\r\n\r\n{}', 'name="owner"\r\n\r\nme',
             'name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4']
    body = "".join(f"--b0undary\r\nContent-Disposition: form-data; {part}\r\n" for part in parts)
    response = api("unit_k1").post(f"/api/v1/tickets/{world.t1.id}/evidence",
                                   data=(body + "--b0undary--\r\n").encode(),
                                   content_type="multipart/form-data; boundary=b0undary")
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"", "owner"}
    assert evidence_count() == 0


def test_two_files_in_one_api_request_are_refused(world, store, api):
    data = {"file": [(samples.pdf(), "a.pdf"), (samples.png(), "b.png")]}
    response = api("unit_k1").post(f"/api/v1/tickets/{world.t1.id}/evidence", **multipart(data))
    assert response.status_code == 422
    assert evidence_count() == 0


def test_unknown_type_and_item_are_validation_errors(world, store, post_file):
    response = post_file("unit_k1", world.t1.id, type="selfie", item="不存在的事项")
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"type", "item"}


def test_openapi_lists_the_evidence_endpoints(client):
    document = client.get("/api/v1/openapi.json").get_json()
    upload = document["paths"]["/api/v1/tickets/{ticket_id}/evidence"]["post"]
    schema = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["file"] == {"type": "string", "format": "binary"}
    assert {"413", "409", "422"} <= set(upload["responses"])
    download = document["paths"]["/api/v1/evidence/{evidence_id}/download"]["get"]
    assert "application/octet-stream" in download["responses"]["200"]["content"]
    assert "get" in document["paths"]["/api/v1/tickets/{ticket_id}/evidence"]


def test_answers_match_the_documented_schemas(world, store, post_file, api, client, app,
                                              monkeypatch):
    from tests.api.test_openapi import check

    document = client.get("/api/v1/openapi.json").get_json()
    upload_path = "/api/v1/tickets/{ticket_id}/evidence"
    created = post_file("unit_k1", world.t1.id)
    check(document, upload_path, "POST", created)
    check(document, upload_path, "POST", post_file("unit_k1", world.t1.id))  # 409 duplicate
    check(document, upload_path, "POST", post_file("unit_k1", world.t1.id, b"", "空.pdf"))  # 422
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_FILE_MB", 0.001)
    check(document, upload_path, "POST", post_file("unit_k1", world.t1.id, b"x" * 2000, "a.txt"))
    caller = api("unit_k1")
    check(document, upload_path, "GET", caller.get(f"/api/v1/tickets/{world.t1.id}/evidence"))
    evidence_id = created.get_json()["id"]
    # The download is documented as binary (application/octet-stream); the file itself is
    # served with the media type its checked content has.
    download = caller.get(f"/api/v1/evidence/{evidence_id}/download")
    assert "200" in document["paths"]["/api/v1/evidence/{evidence_id}/download"]["get"]["responses"]
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    check(document, "/api/v1/evidence/{evidence_id}/withdraw", "POST",
          caller.post(f"/api/v1/evidence/{evidence_id}/withdraw", json={"reason": "x"}))
