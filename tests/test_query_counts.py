"""No N+1, enforced: every list, ticket, dashboard and export route, page and API, costs
the same number of SQL statements with a handful of rows as with many, at 10 rows a page
as at 200, and never more than `MAX_STATEMENTS`.

Statements are counted with SQLAlchemy's `before_cursor_execute` event, so whatever the
request sends to the database counts: the user's session, the scope, the rows, the labels.
The "many" world adds tickets with cooperating units, progress updates, evidence, history,
extension requests, urging notices and notifications, so a relationship loaded per row
shows up as a difference.
"""
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, func, inspect, select

from tracker.extensions import db
from tracker.models import (
    Base,
    Evidence,
    ExtensionRequest,
    Notification,
    NotificationKind,
    ProgressUpdate,
    Ticket,
    TicketStatus,
    UrgingLevel,
    UrgingNotice,
)
from tracker.models.evidence import EvidenceStatus
from tracker.services import audit
from tests.rollup.builders import Spec, make_findings, spread

#: The issue's bound on any page or API request.
MAX_STATEMENTS = 8
#: Tickets in the "many" world (more than the 10-row page, fewer than the 200-row one).
MANY = 30
#: Tickets in the "few" world, enough for every kind of row to be present.
FEW = 4


@contextmanager
def count_statements():
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def enrich(world, tickets: list[Ticket]) -> None:
    """History, progress, evidence, extension requests, urgings and notifications on each
    ticket: whatever a page could load row by row."""
    now = world.t1.assigned_at
    for n, ticket in enumerate(tickets):
        author = world.unit_k1
        for i in range(2):
            update = ProgressUpdate(ticket_id=ticket.id, author_id=author.id,
                                    unit_id=ticket.lead_unit_id, text=f"进展{i}", percent=10 * i,
                                    created_at=now + timedelta(hours=i))
            db.session.add(update)
            db.session.flush()
            db.session.add(Evidence(
                ticket_id=ticket.id, progress_update_id=update.id, uploaded_by_id=author.id,
                unit_id=ticket.lead_unit_id, original_name=f"佐证{n}-{i}.pdf", extension="pdf",
                content_type="application/pdf", size=100, sha256=f"{n:032d}{i:032d}",
                live_sha256=f"{n:032d}{i:032d}", storage_key=f"bench/{ticket.id}/{n}-{i}",
                evidence_type="notice", status=EvidenceStatus.ACTIVE,
                uploaded_at=now + timedelta(hours=i)))
            audit.record(world.office, "ticket.progress", "ticket", ticket.id,
                         ticket_id=ticket.id, before={"progress_percent": 0},
                         after={"progress_percent": 10 * i}, note=f"进展{i}")
        db.session.add(ExtensionRequest(ticket_id=ticket.id, requested_by_id=author.id,
                                        current_deadline=ticket.deadline,
                                        requested_deadline=ticket.deadline + timedelta(days=30),
                                        reason="需要更多时间"))
        db.session.add(UrgingNotice(ticket_id=ticket.id, issued_by_id=world.office.id,
                                    level=UrgingLevel.GENERAL, text="请加快整改"))
        for user in (world.office, world.supervisor, world.unit_k1):
            db.session.add(Notification(
                recipient_user_id=user.id, kind=NotificationKind.URGING, ticket_id=ticket.id,
                subject=f"督办{n}", body="请加快整改", dedup_key=f"qc-{ticket.id}-{user.id}"))
    db.session.flush()


S = TicketStatus


def grow(world, count: int) -> None:
    """`count` more tickets over the world's units, in every state, each with its history."""
    if not hasattr(world, "more_findings"):
        world.more_findings = make_findings(world, 12)
        world.grown = 0
    statuses = list(S)
    specs = [Spec(n % 12, n // 12, statuses[n % len(statuses)], (n % 21) - 10,
                  (n % 40) or None, coop=n + 1)
             for n in range(world.grown, world.grown + count)]
    world.grown += count
    made = spread(world, world.more_findings, specs)
    enrich(world, made if world.grown > count else [world.t1, *made])
    db.session.commit()


ALL = ("office", "supervisor", "unit_k1")
OVERSEERS = ("office", "supervisor")

#: Every list, ticket, dashboard and export route, page and API, with the roles that reach
#: it. "{per_page}" is the page size measured (10 or 200); the world's first ticket,
#: inspection, finding and county fill the rest.
PAGES = [
    ("/tickets?per_page={per_page}", ALL),
    ("/tickets?per_page={per_page}&status=in_progress&status=returned&sort=-deadline", ALL),
    ("/tickets?per_page={per_page}&overdue=1", ALL),
    ("/tickets?per_page={per_page}&unit={k1}", ALL),
    ("/tickets?per_page=2&page=2", ALL),
    ("/my", ("unit_k1",)),
    ("/queue", OVERSEERS),
    ("/queue?tab=extensions", ("office",)),
    ("/queue?tab=declined", ("office",)),
    ("/tickets/{ticket}", ALL),
    ("/tickets/{ticket}/evidence/panel", ALL),
    ("/dashboard", ALL),
    ("/dashboard/data.json", ALL),
    ("/dashboard/print", ALL),
    ("/inspections", ALL),
    ("/inspections/{inspection}", ALL),
    ("/findings/{finding}", ALL),
    ("/notifications", ALL),
    ("/exports/ledger.xlsx", ALL),
    ("/exports/report.docx", OVERSEERS),
    ("/exports/inspections/{inspection}/problem-list.xlsx", ("office",)),
]
API = [
    ("/api/v1/tickets?per_page={per_page}", ALL),
    ("/api/v1/tickets?per_page={per_page}&status=in_progress&sort=-deadline", ALL),
    ("/api/v1/tickets?per_page={per_page}&overdue=true", ALL),
    ("/api/v1/tickets?per_page={per_page}&unit={k1}", ALL),
    ("/api/v1/tickets?per_page=2&page=2", ALL),
    ("/api/v1/tickets/{ticket}", ALL),
    ("/api/v1/tickets/{ticket}/evidence", ALL),
    ("/api/v1/tickets/{ticket}/urgings", ALL),
    ("/api/v1/summary", ALL),
    ("/api/v1/summary?group_by=unit", ALL),
    ("/api/v1/summary?group_by=region", ALL),
    ("/api/v1/extension-requests?per_page={per_page}", ALL),
    ("/api/v1/inspections", ALL),
    ("/api/v1/inspections/{inspection}/findings", ALL),
    ("/api/v1/notifications", ALL),
]


#: Routes that still exceed the issue's bound of eight statements (with their count at the
#: time of writing). Their statements must still not grow with rows; the bound itself is
#: an expected failure until each is reworked, and the test fails once one fits, so the
#: entry is removed. Empty: every route fits (the dashboard, its data and print view, the
#: ledger and the Word report count everything in one roll-up statement; the ticket page
#: reads the ticket with its flags, units and pending extension at once; /my ranks its
#: groups in one statement).
OVER_EIGHT: dict[tuple[str, str], int] = {}


def test_no_route_is_left_over_the_bound():
    """The issue's bound holds for every route: none is excused any longer."""
    assert OVER_EIGHT == {}


def _cases(routes):
    return [pytest.param(url, role, id=f"{role} {url}") for url, roles in routes
            for role in roles]


def _reattach(world) -> None:
    """The world's objects in the current session again (each measured request starts
    with an empty session, as every request does in production)."""
    def again(value):
        if isinstance(value, Base):
            return db.session.get(type(value), inspect(value).identity)
        return value

    for name, value in list(vars(world).items()):
        setattr(world, name, [again(v) for v in value] if isinstance(value, list)
                else again(value))


def _measure(world, get, template: str, per_page: int) -> list[str]:
    url = template.format(per_page=per_page, ticket=world.t1.id, k1=world.k1.id,
                          inspection=world.inspection.id, finding=world.finding.id)
    db.session.remove()
    with count_statements() as statements:
        response = get(url)
        response.get_data()
        response.close()
    assert response.status_code == 200, (url, response.status_code)
    _reattach(world)
    return statements


def _listing(statements: list[str]) -> str:
    return "\n".join(" ".join(s.split())[:160] for s in statements)


def _check(world, get, template: str, username: str) -> None:
    """Fails when the statements grow with rows; the bound of eight as described above."""
    grow(world, FEW)
    few = _measure(world, get, template, 10)
    grow(world, MANY)
    assert db.session.scalar(select(func.count(Ticket.id))) > MANY
    at_10 = _measure(world, get, template, 10)
    at_200 = _measure(world, get, template, 200)
    counts = {"few rows": len(few), "many rows, 10 a page": len(at_10),
              "many rows, 200 a page": len(at_200)}
    assert len(set(counts.values())) == 1, (
        f"statements grow with rows: {counts}\nfew:\n{_listing(few)}\n"
        f"many:\n{_listing(at_200)}")
    recorded = OVER_EIGHT.get((template, username))
    if recorded is not None:
        assert len(few) <= recorded, (
            f"{len(few)} statements, more than the {recorded} recorded:\n"
            f"{_listing(few)}")
        assert len(few) > MAX_STATEMENTS, (
            f"{template} now costs {len(few)} statements: remove it from OVER_EIGHT")
        pytest.xfail(f"{len(few)} statements, more than {MAX_STATEMENTS} (see OVER_EIGHT)")
    assert len(few) <= MAX_STATEMENTS, (
        f"{len(few)} statements, more than {MAX_STATEMENTS}:\n{_listing(few)}")


@pytest.mark.parametrize("template, username", _cases(PAGES))
def test_page_statements_do_not_grow_with_rows_and_stay_within_eight(
        world, login, template, username):
    client = login(username)
    _check(world, client.get, template, username)


@pytest.mark.parametrize("template, username", _cases(API))
def test_api_statements_do_not_grow_with_rows_and_stay_within_eight(
        world, api, template, username):
    caller = api(username)
    _check(world, caller.get, template, username)
