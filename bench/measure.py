"""The in-process measurements, one group per process so that each group's peak memory is
its own:

    python -m bench.measure --url URL --group requests|reminders|ledger|import

prints one JSON line: the cases measured, each with p50/p95 (ms), the SQL statements of one
call and the process's peak resident memory. `bench.run` starts these and adds the HTTP
runs; see docs/performance.md.
"""
import argparse
import io
import json
import resource
import statistics
import sys
import time
from contextlib import contextmanager
from datetime import timedelta

from openpyxl import Workbook
from sqlalchemy import delete, event, func, select, text

from bench import floors
from bench.common import PASSWORD, make_app
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    Delivery,
    Inspection,
    InspectionKind,
    Notification,
    NotificationSetting,
    Ticket,
    Unit,
    UnitClosure,
    User,
)
from tracker.services import clock, findings_import, ledger, reminders, rollup, ticket_queries
from tracker import scheduler

PER_PAGE = 50
#: How deep the "deep page" reaches, in rows (capped at 90 % of what the scope holds).
DEEP_ROWS = 50_000


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


class Counter:
    def __init__(self):
        self.n = 0

    def __call__(self, *args, **kwargs):
        self.n += 1


@contextmanager
def counting(engine):
    counter = Counter()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter)


ENGINE = None


def timed(name: str, call, repeat: int, *, warmup: int = 1, **extra) -> dict:
    """Run `call` warmup + repeat times; latencies of the measured runs in ms."""
    for _ in range(warmup):
        call()
    times, statements = [], []
    engine = ENGINE
    for _ in range(repeat):
        with counting(engine) as counter:
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        statements.append(counter.n)
    print(f"    {name:<60} {extra.get('role', ''):<18} p50 {statistics.median(times):8.1f} ms",
          file=sys.stderr, flush=True)
    return {"case": name, "n": repeat, "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(percentile(times, 0.95), 2), "max_ms": round(max(times), 2),
            "statements": max(statements), **extra}


# --- who is measured ------------------------------------------------------------------

def pick_subjects() -> dict:
    """The office (the whole province), the supervisor of the busiest county, the busiest
    unit user, the busiest city, and a ticket in all three scopes."""
    county_load = (select(UnitClosure.ancestor_id, func.count(Ticket.id).label("n"))
                   .join(Ticket, Ticket.lead_unit_id == UnitClosure.descendant_id)
                   .join(Unit, Unit.id == UnitClosure.ancestor_id)
                   .where(Unit.kind == "county")
                   .group_by(UnitClosure.ancestor_id).order_by(text("n DESC")).limit(1))
    county, county_tickets = db.session.execute(county_load).one()
    city_load = (select(UnitClosure.ancestor_id, func.count(Ticket.id).label("n"))
                 .join(Ticket, Ticket.lead_unit_id == UnitClosure.descendant_id)
                 .join(Unit, Unit.id == UnitClosure.ancestor_id)
                 .where(Unit.kind == "city")
                 .group_by(UnitClosure.ancestor_id).order_by(text("n DESC")).limit(1))
    city, city_tickets = db.session.execute(city_load).one()
    unit_load = (select(Ticket.lead_unit_id, func.count(Ticket.id).label("n"))
                 .join(UnitClosure, UnitClosure.descendant_id == Ticket.lead_unit_id)
                 .where(UnitClosure.ancestor_id == county)
                 .group_by(Ticket.lead_unit_id).order_by(text("n DESC")).limit(1))
    unit, unit_tickets = db.session.execute(unit_load).one()
    # The unit's ticket with the longest history: every role below can open it.
    ticket_id = db.session.scalar(
        select(Ticket.id).join(AuditEvent, AuditEvent.ticket_id == Ticket.id)
        .where(Ticket.lead_unit_id == unit).group_by(Ticket.id)
        .order_by(func.count(AuditEvent.id).desc(), Ticket.id).limit(1))
    return {
        "users": {"office": "office", "county supervisor": f"sup_{county}",
                  "unit user": f"u{unit}"},
        "scope_tickets": {"office": db.session.scalar(select(func.count(Ticket.id))),
                          "county supervisor": county_tickets,
                          "unit user": unit_tickets},
        "county": county, "city": city, "city_tickets": city_tickets, "unit": unit,
        "ticket": ticket_id,
    }


def deep_cursor(user: User, today, days: int, rows: int) -> str:
    """The keyset cursor of the row `rows` deep in the user's list (deadline order)."""
    statement = (ticket_queries.filtered(user, ticket_queries.TicketFilter(), today, days)
                 .order_by(*ticket_queries.SORTS["deadline"]).offset(rows - 1).limit(1))
    ticket = db.session.scalars(statement).one()
    return ticket_queries._encode_cursor(ticket, "deadline")


# --- the groups -----------------------------------------------------------------------

def group_requests(app, repeat: int) -> list[dict]:
    results = []
    with app.app_context():
        subjects = pick_subjects()
        today, days = clock.today(), app.config["NEAR_DUE_DAYS"]
        users = {role: db.session.scalar(select(User).where(User.username == name))
                 for role, name in subjects["users"].items()}
        cursors = {}
        for role, user in users.items():
            depth = min(DEEP_ROWS, int(subjects["scope_tickets"][role] * 0.9))
            cursors[role] = (depth, deep_cursor(user, today, days, depth))
        db.session.remove()
    client = app.test_client()
    scope_units = {"office": subjects["city"], "county supervisor": subjects["county"],
                   "unit user": subjects["unit"]}
    for role, username in subjects["users"].items():
        client.post("/logout")
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, f"login of {username} failed"
        token = client.post("/api/v1/auth/token", json={"username": username,
                                                         "password": PASSWORD}).get_json()
        headers = {"Authorization": f"Bearer {token['token']}"}
        depth, cursor = cursors[role]
        deep_page = depth // PER_PAGE + 1
        variants = [
            ("first page", f"per_page={PER_PAGE}"),
            (f"deep page (offset, {depth:,} rows in)", f"per_page={PER_PAGE}&page={deep_page}"),
            ("status=in_progress", f"per_page={PER_PAGE}&status=in_progress"),
            ("unit subtree", f"per_page={PER_PAGE}&unit={scope_units[role]}"),
            ("overdue", f"per_page={PER_PAGE}&overdue=1"),
            ("sorted by deadline, latest first", f"per_page={PER_PAGE}&sort=-deadline"),
        ]
        for label, query in variants:
            results.append(request_case(client, f"list page: {label}", role, f"/tickets?{query}",
                                        repeat))
            api_query = query.replace("overdue=1", "overdue=true")
            results.append(request_case(client, f"list API: {label}", role,
                                        f"/api/v1/tickets?{api_query}", repeat, headers=headers))
        results.append(request_case(client, f"list API: deep page (cursor, {depth:,} rows in)",
                                    role, f"/api/v1/tickets?per_page={PER_PAGE}&cursor={cursor}",
                                    repeat, headers=headers))
        ticket = subjects["ticket"]
        results.append(request_case(client, "ticket page", role, f"/tickets/{ticket}", repeat))
        results.append(request_case(client, "ticket API", role, f"/api/v1/tickets/{ticket}",
                                    repeat, headers=headers))
        if role != "unit user":
            # The first (warm-up) view counts live; a large scope's figures are then kept
            # (tracker/services/dashboard_figures) and the measured views read them.
            results.append(request_case(client, "dashboard page", role, "/dashboard",
                                        max(5, repeat // 3)))
            # What "count now" costs, i.e. the view that finds no kept figures: no target.
            results.append(request_case(client, "dashboard, counted now (?fresh=1)", role,
                                        "/dashboard?fresh=1", 2))
        results.append(request_case(client, "summary API", role, "/api/v1/summary",
                                    max(5, repeat // 3), headers=headers))
    results += rollup_cases(app, subjects, max(5, repeat // 3))
    for result in results:
        result["peak_mb"] = round(peak_mb(), 1)
    return results


def request_case(client, name: str, role: str, url: str, repeat: int, headers=None) -> dict:
    def call():
        response = client.get(url, headers=headers or {})
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        response.get_data()

    return timed(name, call, repeat, role=role, url=url)


def rollup_cases(app, subjects: dict, repeat: int) -> list[dict]:
    results = []
    with app.app_context():
        office = db.session.scalar(select(User).where(User.username == "office"))
        today, days = clock.today(), app.config["NEAR_DUE_DAYS"]
        cases = [
            ("roll-up: whole organisation", rollup.Scope(), None, {}),
            ("roll-up: one city", rollup.Scope(unit_id=subjects["city"]), None,
             {"unit": subjects["city"]}),
            ("roll-up: grouped by unit", rollup.Scope(), "unit", {"by_unit": True}),
        ]
        with app.test_request_context():
            for name, scope, group_by, floor_args in cases:
                def ours():
                    return rollup.summarize(office, scope, today, group_by=group_by, days=days)

                def bare():
                    return floors.floor(today, days, **floor_args)

                result = timed(name, ours, repeat, role="office")
                base = timed(name + " (floor)", bare, repeat, role="office")
                wrong = floors.same_numbers(ours(), bare())
                result.update(floor_p50_ms=base["p50_ms"], floor_p95_ms=base["p95_ms"],
                              ratio=round(result["p50_ms"] / base["p50_ms"], 2)
                              if base["p50_ms"] else None,
                              numbers_agree=not wrong, differences=wrong)
                results.append(result)
        db.session.remove()
    return results


def group_reminders(app) -> list[dict]:
    """A reminder pass over all open tickets: the first one (writes what is due), then a
    second (finds everything written: the steady state). Notifications are removed after,
    so that every run starts alike."""
    results = []
    with app.app_context():
        open_tickets = db.session.scalar(select(func.count(Ticket.id)).where(
            Ticket.status.notin_(("closed", "cancelled"))))
        forget_passes()  # the first pass looks at everything
        for label in ("reminder pass (first: writes what is due)",
                      "reminder pass (again: nothing new)"):
            started = time.perf_counter()
            report = scheduler.run_reminders()
            elapsed = time.perf_counter() - started
            results.append({"case": label, "n": 1, "p50_ms": round(elapsed * 1000, 1),
                            "p95_ms": round(elapsed * 1000, 1), "open_tickets": open_tickets,
                            "written": report.total, "peak_mb": round(peak_mb(), 1)})
            db.session.remove()
        db.session.execute(delete(Delivery))
        db.session.execute(delete(Notification))
        forget_passes()
        if db.engine.dialect.name == "postgresql":
            # A million deleted rows leave their index entries behind until a vacuum; the
            # runs after this one (every page counts the user's unread notifications)
            # would walk them on a server whose autovacuum is off or has not come by yet.
            with db.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE notification_deliveries, notifications"))
    return results


def forget_passes() -> None:
    """Remove the record of the last complete reminder pass (reminders.PASS_KEY)."""
    db.session.execute(delete(NotificationSetting).where(
        NotificationSetting.key == reminders.PASS_KEY))
    db.session.commit()


def group_ledger(app, rows: int = 100_000) -> list[dict]:
    with app.app_context(), app.test_request_context():
        office = db.session.scalar(select(User).where(User.username == "office"))
        today, days = clock.today(), app.config["NEAR_DUE_DAYS"]
        # The deadline at which the office's list reaches `rows` tickets: the export is of
        # exactly the tickets due by then.
        total = db.session.scalar(select(func.count(Ticket.id)))
        cut = None
        if total > rows:
            cut = db.session.scalar(select(Ticket.deadline).order_by(Ticket.deadline, Ticket.id)
                                    .offset(rows - 1).limit(1))
        flt = ticket_queries.TicketFilter(deadline_to=cut)
        started = time.perf_counter()
        out, count = ledger.export(office, flt, today=today, days=days)
        size = len(out.read())
        out.close()
        elapsed = time.perf_counter() - started
        db.session.remove()
    return [{"case": "ledger export (xlsx)", "n": 1, "p50_ms": round(elapsed * 1000, 1),
             "p95_ms": round(elapsed * 1000, 1), "rows": count, "bytes": size,
             "peak_mb": round(peak_mb(), 1)}]


def problem_list(units: list[str], rows: int) -> bytes:
    """A problem list of `rows` rows: findings of four lead units each."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("问题清单")
    sheet.append([c.title for c in findings_import.COLUMNS])
    per_finding = 4
    for n in range(rows):
        number = n // per_finding + 1
        lead = units[n % len(units)]
        sheet.append([number, f"导入问题{number}：农村学校办学条件薄弱", "督导发现的问题描述",
                      "经费投入", "一般", "评价指标2.1", "落实整改要求", "整改方案", lead, "",
                      "制定整改方案，按期完成", "2027-06-30", "限期整改", "张三", "2027-05-31"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def group_import(app, rows: int = 10_000) -> list[dict]:
    with app.app_context(), app.test_request_context():
        office = db.session.scalar(select(User).where(User.username == "office"))
        owner = office.unit_id
        codes = list(db.session.scalars(select(Unit.code).where(
            Unit.kind.in_(("county", "department"))).order_by(Unit.id).limit(400)))
        data = problem_list(codes, rows)
        today = clock.today()
        inspection = Inspection(
            title="基准测试导入问题清单", kind=InspectionKind.ONSITE, year=today.year,
            owner_unit_id=owner, inspected_body="甘肃省人民政府",
            inspecting_body="甘肃省人民政府教育督导委员会办公室", feedback_on=today,
            default_deadline=today + timedelta(days=365))
        db.session.add(inspection)
        db.session.commit()
        inspection_id = inspection.id
        started = time.perf_counter()
        preview = findings_import.preview(office, inspection_id, data, "problem-list.xlsx")
        if not preview.ok:
            raise RuntimeError(f"import preview refused the file: {preview.problems}")
        counts = findings_import.apply(office, preview)
        db.session.commit()
        elapsed = time.perf_counter() - started
        db.session.remove()
        # The import stays (the audit trail is append-only): `make bench` generates the
        # data set afresh each run, and the HTTP runs come after on 10,000 more tickets.
    return [{"case": "problem-list import (xlsx, preview + apply + commit)", "n": 1,
             "p50_ms": round(elapsed * 1000, 1), "p95_ms": round(elapsed * 1000, 1),
             "rows": rows, "created": counts.get("created"), "bytes": len(data),
             "peak_mb": round(peak_mb(), 1)}]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--group", required=True,
                        choices=["requests", "reminders", "ledger", "import"])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    app = make_app(args.url)
    global ENGINE
    with app.app_context():
        ENGINE = db.engine
    if args.group == "requests":
        results = group_requests(app, args.repeat)
    elif args.group == "reminders":
        results = group_reminders(app)
    elif args.group == "ledger":
        results = group_ledger(app)
    else:
        results = group_import(app)
    with app.app_context():
        db.engine.dispose()
    print(json.dumps(results, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
