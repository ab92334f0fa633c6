"""The transition matrix: every (state, action, actor) against DOMAIN.md, "A ticket's life".

The table below is the domain's, written as data: for each action the states it starts
from, who may take it, and where it leads. The expected outcome of a combination follows
from it in the order the workflow checks: outside the actor's scope the ticket does not
exist (404); an actor the action is not for is refused (403); a state the action does not
start from is an invalid transition (409); otherwise the ticket moves. A refused action
changes nothing (same version, no audit event); an allowed one writes exactly one audit
event and one new version.

The world is built once for the module and committed; each test works in the open
transaction and rolls it back, which the services allow because they never commit.
"""
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import pytest
import time_machine
from sqlalchemy import event

from tests import factories
from tests.conftest import empty_tables
from tests.services.lifecycle import audit_count, bring_to, stored_version
from tracker.extensions import db
from tracker.models import ExtensionStatus, Role, TicketStatus
from tracker.services import workflow
from tracker.services.errors import DomainError, Forbidden, InvalidTransition, NotFound

S = TicketStatus
NOW = "2026-11-21T02:00:00+00:00"  # 10:00 in Asia/Shanghai
TODAY = factories.TODAY

# --- who acts, relative to ticket t1 (lead K1, D1 cooperating, both in city C1) -------------

LEAD = "lead unit"
COOP = "cooperating unit"
OTHER_UNIT = "other unit"
OFFICE = "office in scope"
OFFICE_OUT = "office out of scope"
SUPERVISOR = "supervisor in scope"
SUPERVISOR_OUT = "supervisor out of scope"
ADMIN = "admin"

USERNAMES = {
    LEAD: "unit_k1", COOP: "unit_d1", OTHER_UNIT: "unit_k2",
    OFFICE: "city_office", OFFICE_OUT: "office_c2",
    SUPERVISOR: "supervisor", SUPERVISOR_OUT: "sup_c2",
    ADMIN: "admin",
}
OUT_OF_SCOPE = {OTHER_UNIT, OFFICE_OUT, SUPERVISOR_OUT}

# --- the table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    states: frozenset[TicketStatus]  # from
    who: frozenset[str]
    to: Callable[[TicketStatus, str], TicketStatus]  # (from state, actor) -> new state


def same(state, actor):
    return state


def goes_to(target):
    return lambda state, actor: target


def progress_to(state, actor):
    """From assigned or returned, the lead unit's update puts the ticket in progress."""
    return S.IN_PROGRESS if actor == LEAD and state in (S.ASSIGNED, S.RETURNED) else state


OPEN = frozenset(S) - {S.CLOSED, S.CANCELLED}
WORKING = frozenset({S.ASSIGNED, S.IN_PROGRESS, S.RETURNED, S.LONG_TERM})

TABLE = {
    "acknowledge": Row(frozenset({S.ASSIGNED}), frozenset({LEAD}), goes_to(S.IN_PROGRESS)),
    "decline": Row(frozenset({S.ASSIGNED}), frozenset({LEAD}), same),
    "progress": Row(WORKING, frozenset({LEAD, COOP}), progress_to),
    "submit": Row(frozenset({S.IN_PROGRESS, S.RETURNED, S.LONG_TERM}), frozenset({LEAD}),
                  goes_to(S.SUBMITTED)),
    "long_term": Row(frozenset({S.IN_PROGRESS, S.RETURNED}), frozenset({OFFICE}),
                     goes_to(S.LONG_TERM)),
    "request_extension": Row(WORKING, frozenset({LEAD}), same),
    "edit": Row(OPEN, frozenset({OFFICE}), same),
    "cancel": Row(OPEN, frozenset({OFFICE}), goes_to(S.CANCELLED)),
    "reopen": Row(frozenset({S.CLOSED}), frozenset({OFFICE}), goes_to(S.IN_PROGRESS)),
}


@dataclass(frozen=True)
class Chain:
    """An inspection's sign-off chain: for each level (the state a ticket waits in), who
    decides there and where approval leads."""

    levels: int
    supervisors_may_sign_off: bool
    supervisor_covers_unit: bool
    deciders: dict[TicketStatus, tuple[frozenset[str], TicketStatus]]


CHAINS = {
    "one-level": Chain(1, False, True, {
        S.SUBMITTED: (frozenset({OFFICE}), S.CLOSED)}),
    "one-level, supervisors sign off": Chain(1, True, True, {
        S.SUBMITTED: (frozenset({OFFICE, SUPERVISOR}), S.CLOSED)}),
    "two-level": Chain(2, False, True, {
        S.SUBMITTED: (frozenset({SUPERVISOR}), S.VERIFIED),
        S.VERIFIED: (frozenset({OFFICE}), S.CLOSED)}),
    "two-level, no supervisor over the unit": Chain(2, False, False, {
        S.SUBMITTED: (frozenset({OFFICE}), S.VERIFIED),
        S.VERIFIED: (frozenset({OFFICE}), S.CLOSED)}),
}


def decision_row(chain: Chain, action: str, state: TicketStatus) -> Row:
    """Approve and return: "whoever may approve that level". A ticket that waits at no
    level is a wrong state for anyone who decides at some level of the chain."""
    if state in chain.deciders:
        who = chain.deciders[state][0]
    else:
        who = frozenset().union(*(w for w, _ in chain.deciders.values()))
    if action == "approve":
        return Row(frozenset(chain.deciders), who, lambda s, a: chain.deciders[s][1])
    return Row(frozenset(chain.deciders), who, goes_to(S.RETURNED))


def expected_outcome(chain: Chain, state: TicketStatus, action: str, actor: str):
    if actor in OUT_OF_SCOPE:
        return NotFound
    row = decision_row(chain, action, state) if action in ("approve", "return") else TABLE[action]
    if actor not in row.who:
        return Forbidden
    if state not in row.states:
        return InvalidTransition
    return row.to(state, actor)


# --- the actions, with valid input so that only the rule decides ----------------------------

ACTIONS = {
    "acknowledge": lambda u, t: workflow.acknowledge(u, t.id, t.version),
    "decline": lambda u, t: workflow.decline(u, t.id, t.version, "该问题不属于本单位职责"),
    "progress": lambda u, t: workflow.add_progress(u, t.id, t.version, "完成校舍安全排查"),
    "submit": lambda u, t: workflow.submit(u, t.id, t.version),
    "approve": lambda u, t: workflow.approve(u, t.id, t.version, "整改到位"),
    "return": lambda u, t: workflow.return_ticket(u, t.id, t.version, "佐证材料不全"),
    "long_term": lambda u, t: workflow.mark_long_term(
        u, t.id, t.version, "完成年度阶段目标", TODAY + timedelta(days=90), 90),
    "request_extension": lambda u, t: workflow.request_extension(
        u, t.id, t.version, t.deadline + timedelta(days=30), "专项资金尚未到位"),
    "edit": lambda u, t: workflow.edit_ticket(
        u, t.id, t.version, workflow.TicketChanges(measures="调整整改措施")),
    "cancel": lambda u, t: workflow.cancel(u, t.id, t.version, "问题已不存在"),
    "reopen": lambda u, t: workflow.reopen(u, t.id, t.version, "回头看发现问题反弹",
                                           TODAY + timedelta(days=30)),
}


def states_of(chain: Chain) -> list[TicketStatus]:
    return [s for s in S if s != S.VERIFIED or chain.levels == 2]


def actors_of(chain: Chain) -> list[str]:
    return [a for a in USERNAMES if a != SUPERVISOR or chain.supervisor_covers_unit]


STATE_CASES = [
    pytest.param(name, state, id=f"{name}|{state}")
    for name, chain in CHAINS.items()
    for state in states_of(chain)
]


# --- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def w(app):
    with app.app_context(), time_machine.travel(NOW, tick=False):
        world = factories.build_world()
        world.office_c2 = factories.user("office_c2", Role.OFFICE, world.k2, scope=world.c2)
        db.session.commit()
        yield world
        db.session.rollback()
        empty_tables()
        db.session.remove()


def _refuse_commit(session):
    raise AssertionError("a workflow service committed; only its caller may")


@pytest.fixture(autouse=True)
def _clean_db(w):
    """Replaces the suite's cleaning: the module's world stays, each test's work rolls back."""
    session = db.session()
    event.listen(session, "before_commit", _refuse_commit)
    yield
    event.remove(session, "before_commit", _refuse_commit)
    db.session.rollback()


def prepare(w, chain: Chain, state: TicketStatus):
    w.inspection.signoff_levels = chain.levels
    w.inspection.supervisors_may_sign_off = chain.supervisors_may_sign_off
    if not chain.supervisor_covers_unit:
        w.supervisor.scope_unit_id = w.d1.id  # now watches the finance bureau only
    db.session.flush()
    first_level = w.supervisor if chain.levels == 2 and chain.supervisor_covers_unit else None
    return bring_to(w.t1, state, lead=w.unit_k1, office=w.city_office, first_level=first_level)


def actor_of(w, actor: str):
    return getattr(w, USERNAMES[actor])


# --- the tests ------------------------------------------------------------------------------
#
# One test per (chain, state). Refused combinations change nothing (that is checked each
# time), so they run one after another on the same prepared ticket; each allowed one gets a
# freshly prepared ticket. Every disagreement with the table is reported, not just the first.

def attempt(w, state: TicketStatus, action: str, actor: str, expected, act) -> str | None:
    """Run one combination on the prepared ticket; describe any disagreement with the table."""
    ticket = w.t1
    version, events = ticket.version, audit_count()
    what = f"{action} by {actor}"
    try:
        act(actor_of(w, actor), ticket)
    except DomainError as refused:
        if type(refused) is not expected:
            return f"{what}: expected {outcome_name(expected)}, got {type(refused).__name__} " \
                   f"({refused.message})"
        if (stored_version(ticket.id), audit_count(), ticket.status) != (version, events, state):
            return f"{what}: refused, but something was written"
        return None
    if isinstance(expected, type):
        return f"{what}: expected {expected.__name__}, but it was allowed"
    if ticket.status != expected:
        return f"{what}: expected {expected}, got {ticket.status}"
    if (stored_version(ticket.id), audit_count()) != (version + 1, events + 1):
        return f"{what}: allowed, but not exactly one new version and one audit event"
    return None


def outcome_name(expected) -> str:
    return expected.__name__ if isinstance(expected, type) else str(expected)


def run_all(w, state: TicketStatus, combinations, expected_of, act_of,
            prepare_ticket) -> list[str]:
    refused = [c for c in combinations if isinstance(expected_of(*c), type)]
    allowed = [c for c in combinations if c not in refused]
    problems = []
    prepare_ticket()
    for action, actor in refused:
        problem = attempt(w, state, action, actor, expected_of(action, actor), act_of(action))
        if problem:
            problems.append(problem)
            db.session.rollback()
            prepare_ticket()
    for action, actor in allowed:
        db.session.rollback()
        prepare_ticket()
        problem = attempt(w, state, action, actor, expected_of(action, actor), act_of(action))
        if problem:
            problems.append(problem)
    return problems


@pytest.mark.parametrize("chain_name, state", STATE_CASES)
def test_every_action_by_every_actor_follows_the_domain_table(w, chain_name, state):
    chain = CHAINS[chain_name]
    combinations = [(action, actor) for action in ACTIONS for actor in actors_of(chain)]
    problems = run_all(
        w, state, combinations,
        expected_of=lambda action, actor: expected_outcome(chain, state, action, actor),
        act_of=ACTIONS.__getitem__,
        prepare_ticket=lambda: prepare(w, chain, state))
    assert not problems, "\n".join(problems)


def expected_decision(chain: Chain, state: TicketStatus, actor: str):
    """Decide extension: the office in scope, on a pending request of an open ticket (the
    state stays). A ticket that was closed or cancelled took its pending request with it."""
    if actor in OUT_OF_SCOPE:
        return NotFound
    if actor != OFFICE:
        return Forbidden
    if state not in OPEN:
        return InvalidTransition
    return state


@pytest.mark.parametrize("chain_name, state", STATE_CASES)
def test_extension_decision_by_every_actor_follows_the_domain_table(w, chain_name, state):
    chain = CHAINS[chain_name]
    requested = TODAY + timedelta(days=60)

    def prepare_with_request():
        w.pending = workflow.request_extension(w.unit_k1, w.t1.id, w.t1.version, requested,
                                               "专项资金尚未到位")
        prepare(w, chain, state)

    def decide(user, ticket):
        workflow.decide_extension(user, w.pending.id, True, "同意延期", version=ticket.version)
        assert (w.pending.status, ticket.deadline) == (ExtensionStatus.APPROVED, requested)

    problems = run_all(
        w, state, [("decide extension", actor) for actor in actors_of(chain)],
        expected_of=lambda action, actor: expected_decision(chain, state, actor),
        act_of=lambda action: decide,
        prepare_ticket=prepare_with_request)
    assert not problems, "\n".join(problems)
