"""The evidence panel on the ticket page, page uploads, previews and bulk ZIP downloads."""
import io
import tracemalloc
import zipfile
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from tests.evidence import samples
from tests.evidence.conftest import evidence_count, multipart, stored_files
from tracker.extensions import db
from tracker.models import AuditEvent, Evidence
from tracker.services import evidence


def first_id(response) -> int:
    return response.get_json()["evidence"][0]["id"]


def page_upload(client, ticket_id, files, xhr=False, **fields):
    headers = {"Accept": "application/json"} if xhr else {}
    return client.post(f"/tickets/{ticket_id}/evidence", headers=headers,
                       **multipart({"file": files, **fields}))


def test_panel_lists_files_and_shows_missing_items(world, store, login):
    world.finding.required_evidence = "印发文件\n现场照片"
    db.session.commit()
    client = login("unit_k1")
    page_upload(client, world.t1.id, [(samples.pdf(), "整改通知.pdf")], item="印发文件")
    html = client.get(f"/tickets/{world.t1.id}/evidence/panel").get_data(as_text=True)
    assert "整改通知.pdf" in html
    assert html.count('class="badge text-bg-warning"') == 1  # 现场照片 is missing
    assert 'data-evidence-upload' in html and 'multiple' in html


def test_ticket_page_includes_the_panel_and_the_progress_file_inputs(world, store, login):
    client = login("unit_k1")
    response = client.get(f"/tickets/{world.t1.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="evidence"' in html and 'name="evidence_file"' in html
    assert "js/evidence.js" in html


def test_panel_of_another_units_ticket_answers_404(world, store, login):
    assert login("unit_k2").get(f"/tickets/{world.t1.id}/evidence/panel").status_code == 404


def test_several_files_in_one_plain_form_post_are_stored(world, store, login):
    client = login("unit_k1")
    response = page_upload(client, world.t1.id, [(samples.pdf(), "一.pdf"), (samples.png(), "二.png")])
    assert response.status_code == 302
    assert evidence_count() == 2 and len(stored_files(store)) == 2


def test_script_upload_answers_json(world, store, login):
    client = login("unit_k1")
    response = page_upload(client, world.t1.id, [(samples.pdf(), "一.pdf")], xhr=True)
    assert response.status_code == 201
    assert response.get_json()["evidence"][0]["filename"] == "一.pdf"


def test_script_upload_refusal_answers_json_with_the_reason(world, store, login):
    client = login("unit_k1")
    response = page_upload(client, world.t1.id, [(samples.HTML, "照片.png")], xhr=True)
    assert response.status_code == 422
    body = response.get_json()
    assert body["fields"]["file"] and body["filename"] == "照片.png"


def test_refused_file_in_a_plain_post_stores_none_of_the_files(world, store, login):
    client = login("unit_k1")
    response = page_upload(client, world.t1.id, [(samples.pdf(), "一.pdf"), (samples.exe(), "二.pdf")])
    assert response.status_code == 302
    assert evidence_count() == 0 and stored_files(store) == []


def test_page_upload_without_a_file_is_refused(world, store, login):
    client = login("unit_k1")
    response = client.post(f"/tickets/{world.t1.id}/evidence", headers={"Accept": "application/json"},
                           **multipart({"description": "x"}))
    assert response.status_code == 422


def test_page_upload_needs_the_csrf_token(world, store, login, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    client = login("unit_k1")
    response = page_upload(client, world.t1.id, [(samples.pdf(), "一.pdf")])
    assert response.status_code == 400
    assert evidence_count() == 0


def test_withdraw_through_the_page(world, store, login):
    client = login("unit_k1")
    evidence_id = first_id(page_upload(client, world.t1.id, [(samples.pdf(), "一.pdf")], xhr=True))
    response = client.post(f"/evidence/{evidence_id}/withdraw", data={"reason": "错传"})
    assert response.status_code == 302
    assert db.session.get(Evidence, evidence_id).status.value == "withdrawn"


def test_supersede_through_the_page(world, store, login):
    client = login("unit_k1")
    old_id = first_id(page_upload(client, world.t1.id, [(samples.pdf(), "一.pdf")], xhr=True))
    response = client.post(f"/evidence/{old_id}/supersede", **multipart({"file": (samples.png(), "新.png")}))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Evidence, old_id).status.value == "superseded"


# --- preview ---------------------------------------------------------------------------------

def test_image_preview_is_inline_and_sandboxed(world, store, login):
    client = login("office")
    evidence_id = evidence.upload(world.unit_k1, world.t1.id, evidence.Upload(
        io.BytesIO(samples.png()), "食堂.png")).id
    db.session.commit()
    response = client.get(f"/evidence/{evidence_id}/preview")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "evidence.preview")).one().actor_id == world.office.id


def test_pdf_preview_is_inline_may_be_framed_by_our_page_only(world, store, login):
    client = login("unit_k1")
    evidence_id = evidence.upload(world.unit_k1, world.t1.id, evidence.Upload(
        io.BytesIO(samples.pdf()), "方案.pdf")).id
    db.session.commit()
    response = client.get(f"/evidence/{evidence_id}/preview")
    assert response.headers["Content-Disposition"].startswith("inline;")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'self'" in csp
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_office_file_is_never_previewed(world, store, login):
    client = login("unit_k1")
    evidence_id = evidence.upload(world.unit_k1, world.t1.id, evidence.Upload(
        io.BytesIO(samples.docx()), "说明.docx")).id
    db.session.commit()
    assert client.get(f"/evidence/{evidence_id}/preview").status_code == 404
    download = client.get(f"/evidence/{evidence_id}/download")
    assert download.headers["Content-Disposition"].startswith("attachment;")


def test_page_download_of_another_units_file_answers_404(world, store, login):
    evidence_id = evidence.upload(world.unit_k1, world.t1.id, evidence.Upload(
        io.BytesIO(samples.pdf()), "方案.pdf")).id
    db.session.commit()
    client = login("unit_k2")
    assert client.get(f"/evidence/{evidence_id}/download").status_code == 404
    assert client.get(f"/evidence/{evidence_id}/preview").status_code == 404


def test_download_of_a_file_missing_from_storage_is_a_clear_404(world, store, login):
    evidence_id = evidence.upload(world.unit_k1, world.t1.id, evidence.Upload(
        io.BytesIO(samples.pdf()), "方案.pdf")).id
    db.session.commit()
    stored_files(store)[0].unlink()
    response = login("unit_k1").get(f"/evidence/{evidence_id}/download")
    assert response.status_code == 404


# --- bulk ZIP --------------------------------------------------------------------------------

@pytest.fixture
def filed(world, store):
    """Evidence on both tickets of the finding; t1 also has a withdrawn file."""
    up = evidence.upload
    up(world.unit_k1, world.t1.id, evidence.Upload(io.BytesIO(samples.pdf("一")), "整改方案.pdf"))
    up(world.unit_d1, world.t1.id, evidence.Upload(io.BytesIO(samples.pdf("二")), "整改方案.pdf"))
    gone = up(world.unit_k1, world.t1.id, evidence.Upload(io.BytesIO(samples.png()), "撤回.png"))
    evidence.withdraw(world.unit_k1, gone.id)
    up(world.unit_k2, world.t2.id, evidence.Upload(io.BytesIO(samples.jpeg()), "现场照片.jpg"))
    db.session.commit()
    return world


def read_zip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(response.get_data()))


def test_office_downloads_an_inspections_evidence_as_one_zip_in_chinese_folders(filed, login):
    response = login("office").get(f"/inspections/{filed.inspection.id}/evidence.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.is_streamed
    names = read_zip(response).namelist()
    folder = "01 经费投入保障政策未完全落实"
    assert f"{folder}/城关区/整改方案.pdf" in names
    assert f"{folder}/城关区/整改方案 (2).pdf" in names
    assert f"{folder}/临夏市/现场照片.jpg" in names
    assert not any("撤回" in n for n in names)  # withdrawn files stay out
    assert any(n.endswith(".csv") for n in names)
    name = unquote(response.headers["Content-Disposition"].split("''", 1)[1])
    assert name.endswith(".zip") and filed.inspection.title in name


def test_zip_holds_the_files_byte_for_byte(filed, login):
    archive = read_zip(login("office").get(f"/tickets/{filed.t2.id}/evidence.zip"))
    [photo] = [n for n in archive.namelist() if n.endswith(".jpg")]
    assert archive.read(photo) == samples.jpeg()
    assert archive.testzip() is None


def test_finding_zip_and_manifest(filed, login):
    archive = read_zip(login("office").get(f"/findings/{filed.finding.id}/evidence.zip"))
    [manifest] = [n for n in archive.namelist() if n.endswith(".csv")]
    text = archive.read(manifest).decode("utf-8-sig")
    assert "整改方案.pdf" in text and "现场照片.jpg" in text


def test_supervisor_gets_only_the_tickets_in_scope(filed, login):
    archive = read_zip(login("supervisor").get(f"/inspections/{filed.inspection.id}/evidence.zip"))
    names = archive.namelist()
    assert any("城关区" in n for n in names) and not any("临夏市" in n for n in names)


def test_supervisor_outside_the_scope_gets_404(filed, login):
    assert login("sup_c2").get(f"/tickets/{filed.t1.id}/evidence.zip").status_code == 404


def test_unit_user_cannot_download_in_bulk(filed, login):
    assert login("unit_k1").get(f"/tickets/{filed.t1.id}/evidence.zip").status_code == 403


def test_bulk_download_is_audited(filed, login):
    login("office").get(f"/findings/{filed.finding.id}/evidence.zip").get_data()
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "evidence.bulk_download")).one()
    assert event.object_type == "finding" and event.object_id == filed.finding.id


def test_bulk_download_with_no_evidence_answers_404(world, store, login):
    assert login("office").get(f"/tickets/{world.t1.id}/evidence.zip").status_code == 404


def test_zip_is_streamed_with_flat_memory(world, store):
    """Twenty 2 MB files: producing the ZIP never holds much more than a chunk in memory."""
    import os

    for i in range(20):
        scan = b"%PDF-1.4\n" + os.urandom(2 * 1024 * 1024) + b"\n%%EOF\n"
        evidence.upload(world.unit_k1, world.t1.id,
                        evidence.Upload(io.BytesIO(scan), f"扫描件{i:02d}.pdf"))
    db.session.commit()
    bundle = evidence.bundle(world.office, "ticket", world.t1.id)
    db.session.commit()
    tracemalloc.start()
    total = 0
    for piece in evidence.zip_stream(bundle, store):
        total += len(piece)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert total > 40 * 1024 * 1024
    assert peak < 4 * 1024 * 1024, peak


def test_page_upload_limit_follows_the_evidence_setting_even_with_csrf(world, store, login, app,
                                                                       monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_FILE_MB", 2)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    client = login("unit_k1")
    html = client.get(f"/tickets/{world.t1.id}/evidence/panel").get_data(as_text=True)
    token = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = page_upload(client, world.t1.id, [(b"a" * 1_500_000, "大表.txt")], xhr=True,
                           csrf_token=token)
    assert response.status_code == 201, response.get_json()


def test_ticket_page_shows_evidence_and_its_history_after_every_kind_of_change(world, store, login):
    client = login("unit_k1")
    first = first_id(page_upload(client, world.t1.id, [(samples.pdf(), "方案.pdf")], xhr=True))
    second = first_id(page_upload(client, world.t1.id, [(samples.png(), "照片.png")], xhr=True))
    client.post(f"/evidence/{first}/withdraw", data={"reason": "错传"})
    client.post(f"/evidence/{second}/supersede", **multipart({"file": (samples.jpeg(), "照片2.jpg")}))
    login("office").get(f"/evidence/{second}/download")
    for user in ("unit_k1", "office"):
        response = login(user).get(f"/tickets/{world.t1.id}")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "方案.pdf" in html and "照片2.jpg" in html
