"""Versions, audit events and the smaller rules of a ticket's life (DOMAIN.md).

"Every write names its actor and carries the ticket's version: a stale version is refused
as a conflict, and nothing is overwritten. Every change writes one audit event in the same
transaction."
"""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from tests import factories
from tests.services.lifecycle import audit_count, bring_to, stored_version
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    ExtensionRequest,
    ExtensionStatus,
    ProgressUpdate,
    Ticket,
    TicketStatus,
    TimelineKind,
)
from tracker.services import events, ticket_queries, workflow
from tracker.services.errors import (
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationFailed,
    VersionConflict,
)

S = TicketStatus
TODAY = factories.TODAY
LATER = TODAY + timedelta(days=60)


def at(w, state, ticket=None) -> Ticket:
    return bring_to(ticket or w.t1, state, lead=w.unit_k1, office=w.office)


def request_extension(w, ticket=None, days=30):
    ticket = ticket or w.t1
    return workflow.request_extension(w.unit_k1, ticket.id, ticket.version,
                                      ticket.deadline + timedelta(days=days), "专项资金尚未到位")


#: Each action, the state it is allowed in, and a call with valid input and the given version.
WRITES = {
    "acknowledge": (S.ASSIGNED, lambda w, v: workflow.acknowledge(w.unit_k1, w.t1.id, v)),
    "decline": (S.ASSIGNED, lambda w, v: workflow.decline(w.unit_k1, w.t1.id, v, "非本单位职责")),
    "progress": (S.IN_PROGRESS,
                 lambda w, v: workflow.add_progress(w.unit_k1, w.t1.id, v, "完成排查")),
    "submit": (S.IN_PROGRESS, lambda w, v: workflow.submit(w.unit_k1, w.t1.id, v)),
    "approve": (S.SUBMITTED, lambda w, v: workflow.approve(w.office, w.t1.id, v)),
    "return": (S.SUBMITTED,
               lambda w, v: workflow.return_ticket(w.office, w.t1.id, v, "佐证材料不全")),
    "long_term": (S.IN_PROGRESS, lambda w, v: workflow.mark_long_term(
        w.office, w.t1.id, v, "阶段目标", TODAY + timedelta(days=90), 90)),
    "request_extension": (S.IN_PROGRESS, lambda w, v: workflow.request_extension(
        w.unit_k1, w.t1.id, v, LATER, "专项资金尚未到位")),
    "edit": (S.IN_PROGRESS, lambda w, v: workflow.edit_ticket(
        w.office, w.t1.id, v, workflow.TicketChanges(measures="调整措施"))),
    "cancel": (S.IN_PROGRESS, lambda w, v: workflow.cancel(w.office, w.t1.id, v, "问题不存在")),
    "reopen": (S.CLOSED, lambda w, v: workflow.reopen(w.office, w.t1.id, v, "回头看反弹", LATER)),
    "decide_extension": (S.IN_PROGRESS, lambda w, v: workflow.decide_extension(
        w.office, w.pending.id, True, "同意", version=v)),
}


@pytest.fixture
def ready(world):
    """Returns a function putting t1 into the state an action needs (with a pending
    extension request for the decision)."""
    def prepare(action):
        state, write = WRITES[action]
        at(world, state)
        world.pending = request_extension(world) if action == "decide_extension" else None
        return write
    return prepare


# --- versions -------------------------------------------------------------------------------

@pytest.mark.parametrize("action", WRITES)
def test_stale_version_is_a_conflict_and_writes_nothing(world, ready, action):
    write = ready(action)
    version, events_before = world.t1.version, audit_count()
    with pytest.raises(VersionConflict):
        write(world, version - 1)
    assert stored_version(world.t1.id) == version
    assert audit_count() == events_before


@pytest.mark.parametrize("action", WRITES)
def test_write_without_a_version_is_refused_as_invalid_input(world, ready, action):
    write = ready(action)
    version, events_before = world.t1.version, audit_count()
    with pytest.raises(ValidationFailed) as refused:
        write(world, None)
    assert "version" in refused.value.fields
    assert stored_version(world.t1.id) == version
    assert audit_count() == events_before


@pytest.mark.parametrize("action", WRITES)
def test_allowed_write_makes_one_version_and_one_audit_event(world, ready, action):
    write = ready(action)
    version, events_before = world.t1.version, audit_count()
    write(world, version)
    assert stored_version(world.t1.id) == version + 1
    assert audit_count() == events_before + 1


def test_permission_is_checked_before_the_version(world):
    stale = world.t1.version + 5
    with pytest.raises(NotFound):
        workflow.acknowledge(world.unit_k2, world.t1.id, stale)
    with pytest.raises(Forbidden):
        workflow.acknowledge(world.unit_d1, world.t1.id, stale)
    with pytest.raises(Forbidden):
        workflow.approve(world.unit_k1, world.t1.id, stale)


def test_version_is_checked_before_the_state(world):
    at(world, S.IN_PROGRESS)
    with pytest.raises(VersionConflict):
        workflow.acknowledge(world.unit_k1, world.t1.id, world.t1.version - 1)
    with pytest.raises(InvalidTransition):
        workflow.acknowledge(world.unit_k1, world.t1.id, world.t1.version)


def test_second_writer_on_the_same_version_fails_at_commit(world):
    """Two requests read version 1; the first commits; the second's UPDATE names version 1
    and matches no row (the mapper's version_id_col), so nothing is overwritten."""
    ticket_id = world.t1.id
    other = Session(db.engine)
    try:
        theirs = other.get(Ticket, ticket_id)
        assert theirs.version == world.t1.version
        workflow.edit_ticket(world.office, ticket_id, world.t1.version,
                             workflow.TicketChanges(measures="先提交的修改"))
        db.session.commit()
        theirs.measures = "后提交的修改"
        with pytest.raises(StaleDataError):
            other.commit()
    finally:
        other.rollback()
        other.close()
    db.session.expire_all()
    assert db.session.get(Ticket, ticket_id).measures == "先提交的修改"


def test_version_check_reads_the_committed_row_even_if_the_ticket_was_loaded_earlier(world):
    """A request that loaded the ticket before someone else committed a change compares the
    version it was given with the row as it is now, not with its own stale copy."""
    ticket_id, version = world.t1.id, world.t1.version
    assert db.session.get(Ticket, ticket_id).version == version  # in this session's map
    with Session(db.engine) as other:
        other.get(Ticket, ticket_id).measures = "他人刚刚修改"
        other.commit()
    with pytest.raises(VersionConflict):
        workflow.acknowledge(world.unit_k1, ticket_id, version)
    assert world.t1.version == version + 1
    assert world.t1.status == S.ASSIGNED


# --- audit events ---------------------------------------------------------------------------

def test_audit_event_names_actor_action_and_what_changed(world):
    workflow.acknowledge(world.unit_k1, world.t1.id, world.t1.version)
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.actor_id, event.action, event.ticket_id) == (
        world.unit_k1.id, "ticket.acknowledge", world.t1.id)
    assert event.before == {"status": "assigned", "version": 1}
    assert event.after == {"status": "in_progress", "version": 2}


def test_audit_event_belongs_to_the_transaction_of_its_change(world):
    before = audit_count()
    workflow.decline(world.unit_k1, world.t1.id, world.t1.version, "非本单位职责")
    db.session.rollback()
    assert audit_count() == before
    assert db.session.get(Ticket, world.t1.id).is_declined is False


def test_each_change_is_announced_once_with_its_action_name(world):
    heard = []

    def receiver(sender, **kwargs):
        heard.append(sender)

    with events.ticket_event.connected_to(receiver):
        at(world, S.CLOSED)
    assert heard == ["acknowledge", "progress", "submit", "approve"]


def test_first_level_approval_is_recorded_as_verification(world):
    world.inspection.signoff_levels = 2
    bring_to(world.t1, S.VERIFIED, lead=world.unit_k1, office=world.office,
             first_level=world.supervisor)
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.ticket_id == world.t1.id).order_by(AuditEvent.id)).all()
    assert actions[-1] == "ticket.verify"


# --- acknowledge, decline, reassign ---------------------------------------------------------

def test_decline_marks_the_ticket_and_keeps_it_assigned(world):
    workflow.decline(world.unit_k1, world.t1.id, world.t1.version, "该项工作由市财政局负责")
    assert world.t1.status == S.ASSIGNED
    assert world.t1.is_declined is True
    assert world.t1.decline_reason == "该项工作由市财政局负责"


def test_declined_ticket_waits_in_the_offices_queue(world):
    workflow.decline(world.unit_k1, world.t1.id, world.t1.version, "非本单位职责")
    queue = ticket_queries.filtered(world.office, ticket_queries.TicketFilter(declined=True),
                                    TODAY, 7)
    assert [t.id for t in db.session.scalars(queue)] == [world.t1.id]


def test_decline_needs_a_reason(world):
    with pytest.raises(ValidationFailed) as refused:
        workflow.decline(world.unit_k1, world.t1.id, world.t1.version, "  ")
    assert "reason" in refused.value.fields
    assert world.t1.is_declined is False


def test_office_reassigning_the_lead_unit_settles_the_decline(world):
    workflow.decline(world.unit_k1, world.t1.id, world.t1.version, "该项工作由市财政局负责")
    workflow.edit_ticket(world.office, world.t1.id, world.t1.version,
                         workflow.TicketChanges(lead_unit_id=world.d1.id))
    assert world.t1.lead_unit_id == world.d1.id
    assert world.t1.cooperating == []  # the new lead no longer cooperates on its own ticket
    assert (world.t1.status, world.t1.is_declined, world.t1.decline_reason) == (
        S.ASSIGNED, False, None)
    workflow.acknowledge(world.unit_d1, world.t1.id, world.t1.version)
    with pytest.raises(NotFound):
        workflow.add_progress(world.unit_k1, world.t1.id, world.t1.version, "原单位")


def test_changing_the_lead_unit_of_open_work_keeps_its_state(world):
    at(world, S.IN_PROGRESS)
    workflow.edit_ticket(world.office, world.t1.id, world.t1.version,
                         workflow.TicketChanges(lead_unit_id=world.d1.id))
    assert world.t1.status == S.IN_PROGRESS


def test_refused_edit_changes_nothing(world):
    version = world.t1.version
    with pytest.raises(ValidationFailed):
        workflow.edit_ticket(world.office, world.t1.id, version, workflow.TicketChanges(
            lead_unit_id=world.k2.id, measures="新措施", deadline=date(2025, 1, 1)))
    assert stored_version(world.t1.id) == version
    assert (world.t1.lead_unit_id, world.t1.measures) == (world.k1.id, "制定方案，落实经费")


def test_office_cannot_assign_a_lead_unit_outside_its_scope(world):
    with pytest.raises(ValidationFailed) as refused:
        workflow.edit_ticket(world.city_office, world.t1.id, world.t1.version,
                             workflow.TicketChanges(lead_unit_id=world.k2.id))
    assert "lead_unit_id" in refused.value.fields


def test_long_term_timeline_is_acknowledged_into_long_term(world):
    ticket = factories.ticket(world.office, world.finding, world.k1,
                              timeline=TimelineKind.LONG_TERM)
    workflow.acknowledge(world.unit_k1, ticket.id, ticket.version)
    assert ticket.status == S.LONG_TERM


def test_first_progress_update_signs_for_the_ticket_like_acknowledging(world):
    by_date = world.t1
    long_term = factories.ticket(world.office, world.finding, world.k1,
                                 timeline=TimelineKind.LONG_TERM)
    for ticket in (by_date, long_term):
        workflow.add_progress(world.unit_k1, ticket.id, ticket.version, "已召开专题会议")
        assert ticket.acknowledged_at is not None
    assert (by_date.status, long_term.status) == (S.IN_PROGRESS, S.LONG_TERM)


# --- progress and submission ----------------------------------------------------------------

def test_cooperating_unit_writes_progress_without_moving_the_ticket(world):
    workflow.add_progress(world.unit_d1, world.t1.id, world.t1.version, "已拨付专项资金")
    assert world.t1.status == S.ASSIGNED
    update = db.session.scalars(select(ProgressUpdate)).one()
    assert (update.unit_id, update.author_id) == (world.d1.id, world.unit_d1.id)


def test_only_the_lead_unit_sets_percent_and_planned_date(world):
    with pytest.raises(Forbidden):
        workflow.add_progress(world.unit_d1, world.t1.id, world.t1.version, "进展", percent=50)
    with pytest.raises(Forbidden):
        workflow.add_progress(world.unit_d1, world.t1.id, world.t1.version, "进展",
                              planned_completion_on=LATER)
    workflow.add_progress(world.unit_k1, world.t1.id, world.t1.version, "进展", percent=50,
                          planned_completion_on=LATER)
    assert (world.t1.progress_percent, world.t1.planned_completion_on) == (50, LATER)


def test_lead_units_progress_on_a_returned_ticket_resumes_the_work(world):
    at(world, S.RETURNED)
    workflow.add_progress(world.unit_k1, world.t1.id, world.t1.version, "补充佐证材料")
    assert world.t1.status == S.IN_PROGRESS


def test_submission_needs_a_progress_update(world):
    workflow.acknowledge(world.unit_k1, world.t1.id, world.t1.version)
    with pytest.raises(InvalidTransition):
        workflow.submit(world.unit_k1, world.t1.id, world.t1.version)
    assert world.t1.status == S.IN_PROGRESS


def test_submission_needs_the_findings_required_evidence(world, monkeypatch):
    monkeypatch.setattr(workflow, "missing_evidence_check", lambda ticket: ["整改前后照片"])
    at(world, S.IN_PROGRESS)
    with pytest.raises(InvalidTransition) as refused:
        workflow.submit(world.unit_k1, world.t1.id, world.t1.version)
    assert "整改前后照片" in refused.value.message
    monkeypatch.setattr(workflow, "missing_evidence_check", lambda ticket: [])
    workflow.submit(world.unit_k1, world.t1.id, world.t1.version)
    assert world.t1.status == S.SUBMITTED


def test_return_needs_a_reason_and_shows_it_to_the_unit(world):
    at(world, S.SUBMITTED)
    with pytest.raises(ValidationFailed):
        workflow.return_ticket(world.office, world.t1.id, world.t1.version, "")
    workflow.return_ticket(world.office, world.t1.id, world.t1.version, "缺少验收报告")
    assert (world.t1.status, world.t1.return_reason) == (S.RETURNED, "缺少验收报告")


def test_office_verifies_first_level_when_no_active_supervisor_covers_the_unit(world):
    world.inspection.signoff_levels = 2
    at(world, S.SUBMITTED)
    with pytest.raises(Forbidden):
        workflow.approve(world.office, world.t1.id, world.t1.version)
    world.supervisor.is_active_user = False
    db.session.flush()
    workflow.approve(world.office, world.t1.id, world.t1.version)
    assert world.t1.status == S.VERIFIED


# --- extension requests ---------------------------------------------------------------------

def test_only_one_extension_request_waits_at_a_time(world):
    first = request_extension(world)
    with pytest.raises(InvalidTransition):
        request_extension(world, days=40)
    workflow.decide_extension(world.office, first.id, False, version=world.t1.version)
    second = request_extension(world, days=40)
    assert second.status == ExtensionStatus.PENDING


def test_approved_extension_moves_the_deadline_and_keeps_the_original(world):
    original = world.t1.deadline
    request = request_extension(world)
    workflow.decide_extension(world.office, request.id, True, "同意延期", version=world.t1.version)
    assert world.t1.deadline == original + timedelta(days=30)
    assert world.t1.original_deadline == original
    assert (request.status, request.current_deadline, request.decided_by_id) == (
        ExtensionStatus.APPROVED, original, world.office.id)


def test_refused_extension_keeps_the_deadline(world):
    original = world.t1.deadline
    request = request_extension(world)
    workflow.decide_extension(world.office, request.id, False, "理由不充分",
                              version=world.t1.version)
    assert world.t1.deadline == original
    assert (request.status, request.decision_note) == (ExtensionStatus.REFUSED, "理由不充分")


def test_extension_is_decided_once(world):
    request = request_extension(world)
    workflow.decide_extension(world.office, request.id, True, version=world.t1.version)
    with pytest.raises(InvalidTransition):
        workflow.decide_extension(world.office, request.id, False, version=world.t1.version)


def test_extension_must_move_the_deadline_later(world):
    with pytest.raises(ValidationFailed) as refused:
        workflow.request_extension(world.unit_k1, world.t1.id, world.t1.version,
                                   world.t1.deadline, "资金未到位")
    assert "deadline" in refused.value.fields


def test_cancelling_closes_the_pending_extension(world):
    request = request_extension(world)
    workflow.cancel(world.office, world.t1.id, world.t1.version, "问题已不存在")
    assert (request.status, request.decision_note) == (ExtensionStatus.REFUSED, "问题已不存在")
    assert workflow.pending_extension(world.t1.id) is None


def test_signing_off_closes_the_pending_extension(world):
    request = request_extension(world)
    at(world, S.CLOSED)
    assert request.status == ExtensionStatus.REFUSED
    assert workflow.pending_extension(world.t1.id) is None


def test_extension_request_outside_the_scope_is_not_found(world):
    request = request_extension(world)
    with pytest.raises(NotFound):
        workflow.decide_extension(world.sup_c2, request.id, True, version=world.t1.version)
    with pytest.raises(NotFound):
        workflow.decide_extension(world.office, request.id + 1000, True,
                                  version=world.t1.version)


# --- cancel and reopen ----------------------------------------------------------------------

def test_cancel_needs_a_reason(world):
    with pytest.raises(ValidationFailed):
        workflow.cancel(world.office, world.t1.id, world.t1.version, None)
    assert world.t1.status == S.ASSIGNED


@pytest.mark.parametrize("reason, deadline, field", [
    ("", LATER, "reason"),
    ("回头看发现问题反弹", None, "deadline"),
    ("回头看发现问题反弹", TODAY - timedelta(days=1), "deadline"),
])
def test_reopen_needs_a_reason_and_a_new_deadline(world, reason, deadline, field):
    at(world, S.CLOSED)
    version = world.t1.version
    with pytest.raises(ValidationFailed) as refused:
        workflow.reopen(world.office, world.t1.id, version, reason, deadline)
    assert field in refused.value.fields
    assert stored_version(world.t1.id) == version
    assert world.t1.status == S.CLOSED


def test_reopened_ticket_is_in_progress_with_its_new_deadline(world):
    at(world, S.CLOSED)
    workflow.reopen(world.office, world.t1.id, world.t1.version, "回头看发现问题反弹", LATER)
    assert (world.t1.status, world.t1.deadline, world.t1.closed_at) == (
        S.IN_PROGRESS, LATER, None)
    assert world.t1.original_deadline == TODAY + timedelta(days=30)
    assert db.session.scalar(select(func.count(ExtensionRequest.id))) == 0
