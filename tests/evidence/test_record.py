"""The record is kept: withdrawal before submission, frozen from submission on, new versions,
required evidence before submission, files sent with a progress update."""
import pytest
from sqlalchemy import select

from tests.evidence import samples
from tests.evidence.conftest import evidence_count, multipart, stored_files
from tracker.extensions import db
from tracker.models import AuditEvent, Evidence, EvidenceStatus, ProgressUpdate, Ticket, TicketStatus
from tracker.services import workflow
from tracker.services.errors import InvalidTransition


def fresh(ticket_id: int) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, ticket_id)


def start(world) -> Ticket:
    t = world.t1
    workflow.acknowledge(world.unit_k1, t.id, t.version)
    workflow.add_progress(world.unit_k1, t.id, t.version, "已制定整改方案")
    db.session.commit()
    return fresh(t.id)


def submit(world) -> Ticket:
    t = fresh(world.t1.id)
    workflow.submit(world.unit_k1, t.id, t.version)
    db.session.commit()
    return fresh(t.id)


def test_uploader_withdraws_before_submission_and_the_file_stays_listed(world, store, post_file, api):
    evidence_id = post_file("unit_k1", world.t1.id).get_json()["id"]
    response = api("unit_k1").post(f"/api/v1/evidence/{evidence_id}/withdraw",
                                   json={"reason": "传错了文件"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "withdrawn"
    listed = api("unit_k1").get(f"/api/v1/tickets/{world.t1.id}/evidence").get_json()["items"]
    assert [(e["id"], e["status"]) for e in listed] == [(evidence_id, "withdrawn")]
    assert len(stored_files(store)) == 1  # kept
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "evidence.withdraw")).one()
    assert event.object_id == evidence_id and "传错了文件" in event.note


def test_someone_else_cannot_withdraw_a_file(world, store, post_file, api):
    evidence_id = post_file("unit_k1", world.t1.id).get_json()["id"]
    assert api("unit_d1").post(f"/api/v1/evidence/{evidence_id}/withdraw",
                               json={}).status_code == 403
    assert api("unit_k2").post(f"/api/v1/evidence/{evidence_id}/withdraw",
                               json={}).status_code == 404


def test_withdrawn_content_can_be_uploaded_again(world, store, post_file, api):
    evidence_id = post_file("unit_k1", world.t1.id).get_json()["id"]
    api("unit_k1").post(f"/api/v1/evidence/{evidence_id}/withdraw", json={})
    assert post_file("unit_k1", world.t1.id).status_code == 201


def test_submission_freezes_files_so_they_cannot_be_withdrawn(world, store, post_file, api):
    start(world)
    evidence_id = post_file("unit_k1", world.t1.id).get_json()["id"]
    submit(world)
    assert db.session.get(Evidence, evidence_id).is_frozen
    response = api("unit_k1").post(f"/api/v1/evidence/{evidence_id}/withdraw", json={})
    assert response.status_code == 409


def test_no_upload_while_waiting_for_sign_off(world, store, post_file):
    start(world)
    submit(world)
    response = post_file("unit_k1", world.t1.id, samples.png(), "补充.png")
    assert response.status_code == 409
    assert evidence_count() == 0


def test_frozen_file_is_superseded_by_a_new_version_and_stays_listed(world, store, post_file, api):
    start(world)
    old_id = post_file("unit_k1", world.t1.id, samples.pdf("第一版"), "方案.pdf").get_json()["id"]
    t = submit(world)
    workflow.return_ticket(world.office, t.id, t.version, "请补充盖章版本")
    db.session.commit()
    response = api("unit_k1").post(
        f"/api/v1/evidence/{old_id}/supersede",
        **multipart({"file": (samples.pdf("盖章版"), "方案（盖章）.pdf"), "description": "盖章"}))
    assert response.status_code == 201, response.get_json()
    new = response.get_json()
    assert new["supersedes_id"] == old_id and new["version_no"] == 2
    listed = {e["id"]: e for e in api("unit_k1").get(
        f"/api/v1/tickets/{world.t1.id}/evidence").get_json()["items"]}
    assert listed[old_id]["status"] == "superseded" and listed[old_id]["is_frozen"]
    assert listed[new["id"]]["status"] == "active"
    assert len(stored_files(store)) == 2
    assert api("office").get(f"/api/v1/evidence/{old_id}/download").status_code == 200


def test_superseded_file_cannot_be_superseded_again(world, store, post_file, api):
    old_id = post_file("unit_k1", world.t1.id).get_json()["id"]
    caller = api("unit_k1")
    caller.post(f"/api/v1/evidence/{old_id}/supersede", **multipart({"file": (samples.png(), "a.png")}))
    response = caller.post(f"/api/v1/evidence/{old_id}/supersede",
                           **multipart({"file": (samples.jpeg(), "b.jpg")}))
    assert response.status_code == 409


def test_new_version_with_identical_content_is_a_duplicate(world, store, post_file, api):
    old_id = post_file("unit_k1", world.t1.id).get_json()["id"]
    response = api("unit_k1").post(f"/api/v1/evidence/{old_id}/supersede",
                                   **multipart({"file": (samples.pdf(), "again.pdf")}))
    assert response.status_code == 409
    assert db.session.get(Evidence, old_id).status == EvidenceStatus.ACTIVE


def test_supersession_is_audited(world, store, post_file, api):
    old_id = post_file("unit_k1", world.t1.id).get_json()["id"]
    api("unit_k1").post(f"/api/v1/evidence/{old_id}/supersede",
                        **multipart({"file": (samples.png(), "新.png")}))
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "evidence.supersede")).one()
    assert event.after["supersedes_id"] == old_id and event.note.startswith("整改报告.pdf")


# --- required evidence ----------------------------------------------------------------------

def test_submission_is_refused_while_required_items_are_missing(world, store, post_file):
    world.finding.required_evidence = "印发文件\n现场照片"
    db.session.commit()
    t = start(world)
    post_file("unit_k1", t.id, samples.pdf(), "通知.pdf", item="印发文件")
    with pytest.raises(InvalidTransition) as caught:
        workflow.submit(world.unit_k1, t.id, fresh(t.id).version)
    assert "现场照片" in caught.value.message and "印发文件" not in caught.value.message


def test_submission_passes_once_every_item_has_a_file(world, store, post_file):
    world.finding.required_evidence = "印发文件\n现场照片"
    db.session.commit()
    t = start(world)
    post_file("unit_k1", t.id, samples.pdf(), "通知.pdf", item="印发文件")
    post_file("unit_d1", t.id, samples.png(), "食堂.png", item="现场照片", type="photo")
    assert submit(world).status == TicketStatus.SUBMITTED


def test_withdrawn_file_no_longer_covers_its_item(world, store, post_file, api):
    world.finding.required_evidence = "印发文件"
    db.session.commit()
    t = start(world)
    evidence_id = post_file("unit_k1", t.id, samples.pdf(), "通知.pdf", item="印发文件").get_json()["id"]
    api("unit_k1").post(f"/api/v1/evidence/{evidence_id}/withdraw", json={})
    with pytest.raises(InvalidTransition):
        workflow.submit(world.unit_k1, t.id, fresh(t.id).version)


def test_submit_through_the_api_answers_409_naming_the_missing_items(world, store, api):
    world.finding.required_evidence = "会议纪要"
    db.session.commit()
    t = start(world)
    response = api("unit_k1").post(f"/api/v1/tickets/{t.id}/submit", json={"version": t.version})
    if response.status_code == 404:
        pytest.skip("the ticket API has no submit route in this tree")
    assert response.status_code == 409
    assert "会议纪要" in response.get_json()["message"]


# --- files sent with a progress update ------------------------------------------------------

def progress_post(client, ticket, files, **extra):
    fields = {"progress-version": str(ticket.version), "progress-text": "已完成食堂改造",
              "evidence_file": files, **extra}
    return client.post(f"/tickets/{ticket.id}/progress", **multipart(fields))


def test_files_posted_with_a_progress_update_are_stored_attached_to_it(world, store, login):
    client = login("unit_k1")
    response = progress_post(client, world.t1, [(samples.png(), "食堂.png"), (samples.pdf(), "方案.pdf")],
                             evidence_type="photo", evidence_description="改造后")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    update = db.session.scalars(select(ProgressUpdate)).one()
    rows = db.session.scalars(select(Evidence).order_by(Evidence.id)).all()
    assert [e.original_name for e in rows] == ["食堂.png", "方案.pdf"]
    assert all(e.progress_update_id == update.id and e.evidence_type == "photo" for e in rows)
    assert len(stored_files(store)) == 2


def test_a_bad_file_with_a_progress_update_undoes_the_update_and_every_file(world, store, login):
    client = login("unit_k1")
    response = progress_post(client, world.t1, [(samples.png(), "食堂.png"), (samples.exe(), "方案.pdf")])
    assert response.status_code == 422
    assert "方案.pdf" in response.get_data(as_text=True)
    assert db.session.scalars(select(ProgressUpdate)).all() == []
    assert evidence_count() == 0 and stored_files(store) == []
