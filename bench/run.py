"""`make bench`: generate the data set, measure, print a table, write bench-results/.

    python -m bench.run --scale 100000            # SQLite, and PostgreSQL if BENCH_DATABASE_URL
    python -m bench.run --scale 2000 --only sqlite --skip http

Per database: generate SCALE tickets (bench.generate), then each measurement group in its
own process (bench.measure: requests, reminders, ledger, import), then the HTTP runs:
gunicorn (gthread workers, see WORKERS below) serving the application, driven by wrk from a
second process on loopback at 16 connections, beside the bare Flask route (bench/bare_app.py)
served the same way. Every figure is checked against the issue's target.
"""
import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.common import PASSWORD, RESULTS_DIR, ROOT, database_urls, make_app

PYTHON = sys.executable
#: gunicorn: gthread workers, one per core, 2 threads each. The pages are CPU-bound, so
#: more processes than cores only add switching (measured: 4 × 2 gave 60 list pages/s
#: where 2 × 2 gave 68, on 2 cores).
WORKERS = int(os.environ.get("GUNICORN_WORKERS", os.cpu_count() or 2))
THREADS = int(os.environ.get("GUNICORN_THREADS", 2))
CONNECTIONS = 16
HTTP_SECONDS = int(os.environ.get("BENCH_HTTP_SECONDS", 15))
GROUPS = ("requests", "reminders", "ledger", "import")


def worker_connections() -> int:
    """Keep-alive connections one gthread worker holds at most: its share of the load's.
    Without a cap, the worker that happens to be awake accepts every connection as it
    arrives and serves them all while the others idle (seen: one worker busy, three idle,
    half the throughput). A deployment behind a reverse proxy sets it the same way, from
    the proxy's upstream keep-alive connections."""
    return -(-CONNECTIONS // WORKERS)


# --- targets (issue 6) ------------------------------------------------------------------

def check(result: dict) -> list[tuple[str, bool]]:
    """(target, held) pairs for one result."""
    case = result["case"]
    checks = []
    if case.startswith(("list API", "ticket API")):
        checks.append(("p95 < 50 ms", result["p95_ms"] < 50))
    elif case.startswith("dashboard page"):
        checks.append(("p95 < 150 ms", result["p95_ms"] < 150))
    elif case.startswith(("list page", "ticket page")):
        checks.append(("p95 < 150 ms", result["p95_ms"] < 150))
    if case.startswith(("list", "ticket", "dashboard", "summary")):
        checks.append(("≤ 8 statements", result.get("statements", 99) <= 8))
    if case.startswith("roll-up"):
        checks.append(("≤ 1.5× floor", (result.get("ratio") or 99) <= 1.5))
        checks.append(("same numbers as floor", bool(result.get("numbers_agree"))))
        if "whole" in case:
            checks.append(("< 500 ms", result["p95_ms"] < 500))
    if case.startswith("reminder pass"):
        checks.append(("< 10 s", result["p95_ms"] < 10_000))
        checks.append(("< 300 MB", result.get("peak_mb", 999) < 300))
    if case.startswith("ledger"):
        checks.append(("< 30 s", result["p95_ms"] < 30_000))
        checks.append(("< 250 MB", result.get("peak_mb", 999) < 250))
    if case.startswith("problem-list import"):
        checks.append(("< 20 s", result["p95_ms"] < 20_000))
    if case.startswith("http"):
        answered = result.get("requests", 0) > 0
        checks.append(("no errors", answered and result.get("errors", 1) == 0))
        if "bare" not in case:
            checks.append(("p95 < 150 ms", answered and result["p95_ms"] < 150))
            checks.append(("RSS < 150 MB/worker", result.get("worker_rss_mb", 999) < 150))
        if "list page" in case:
            checks.append(("≥ 10 % of bare rps", (result.get("ratio") or 0) >= 0.10))
    return checks


# --- running the pieces -----------------------------------------------------------------

def run_group(url: str, group: str, repeat: int) -> list[dict]:
    started = time.perf_counter()
    print(f"  measuring {group} …", file=sys.stderr, flush=True)
    done = subprocess.run([PYTHON, "-m", "bench.measure", "--url", url, "--group", group,
                           "--repeat", str(repeat)], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        return [{"case": f"{group} (failed)", "error": done.stderr.strip().splitlines()[-1]
                 if done.stderr.strip() else f"exit status {done.returncode}",
                 "p50_ms": 0, "p95_ms": 0}]
    print(f"  … {group} took {time.perf_counter() - started:.0f}s", file=sys.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answers on port {port}")


class Gunicorn:
    """gunicorn serving `app_path` on a free loopback port, stopped on exit."""

    def __init__(self, app_path: str, env: dict):
        self.port = free_port()
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "--workers", str(WORKERS), "--worker-class", "gthread",
             "--threads", str(THREADS), "--worker-connections", str(worker_connections()),
             "--bind", f"127.0.0.1:{self.port}",
             "--log-level", "warning", "--timeout", "120", app_path],
            cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)

    def __enter__(self):
        wait_for(self.port)
        return self

    def worker_rss_mb(self) -> list[float]:
        found = []
        for pid in subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True,
                                  text=True).stdout.split():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    found.append(round(int(line.split()[1]) / 1024, 1))
        return found

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wrk(port: int, path: str, seconds: int, cookie: str | None = None) -> dict:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s",
               "-s", str(ROOT / "bench" / "wrk_report.lua")]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    done = subprocess.run(command + [f"http://127.0.0.1:{port}{path}"], capture_output=True,
                          text=True, timeout=seconds + 60)
    line = [x for x in done.stdout.splitlines() if x.startswith("{")][-1]
    result = json.loads(line)
    result["errors"] = sum(result[k] for k in ("errors_connect", "errors_read", "errors_write",
                                                "errors_timeout", "non_2xx"))
    return result


def session_cookie(url: str) -> tuple[str, dict]:
    """A logged-in office session (the cookie gunicorn's workers accept: same secret),
    and the paths to drive: the list, a ticket, the dashboard."""
    from sqlalchemy import select

    from tracker.extensions import db
    from tracker.models import Ticket, User

    app = make_app(url)
    client = app.test_client()
    response = client.post("/login", data={"username": "office", "password": PASSWORD})
    if response.status_code != 302:
        raise RuntimeError("the benchmark's office user cannot log in")
    cookie = client.get_cookie("session")
    # The office's dashboard as a deployment has it: its figures kept by a first view (or
    # by the scheduler), not counted live by sixteen connections at once.
    client.get("/dashboard")
    with app.app_context():
        office = db.session.scalar(select(User).where(User.username == "office"))
        ticket = db.session.scalar(select(Ticket.id).order_by(Ticket.deadline.desc()).limit(1))
        db.engine.dispose()
    del office
    paths = {"list page": "/tickets?per_page=50", "ticket page": f"/tickets/{ticket}",
             "dashboard page": "/dashboard"}
    return f"session={cookie.value}", paths


def settle(url: str) -> None:
    """On PostgreSQL, write out what the groups before left dirty (a reminder pass writes a
    million rows and removes them): otherwise the checkpoint that follows runs during the
    HTTP runs and is measured with them."""
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("CHECKPOINT"))
    except DBAPIError as error:  # a role without the right to: measure as it is
        print(f"  (no CHECKPOINT: {error.orig})", file=sys.stderr)
    finally:
        engine.dispose()


def http_runs(url: str, seconds: int) -> list[dict]:
    if not shutil.which("wrk"):
        return [{"case": "http (skipped: wrk is not installed; apt-get install wrk)",
                 "p50_ms": 0, "p95_ms": 0, "skipped": True}]
    settle(url)
    results = []
    cookie, paths = session_cookie(url)
    print("  http: bare Flask …", file=sys.stderr, flush=True)
    with Gunicorn("bench.bare_app:app", {}) as server:
        wrk(server.port, "/", 2)
        bare = wrk(server.port, "/", seconds)
        bare.update(case="http: bare Flask route (floor)", worker_rss_mb=max(
            server.worker_rss_mb() or [0]))
        results.append(bare)
    with Gunicorn("bench.wsgi_bench:app", {"BENCH_URL": url}) as server:
        for name, path in paths.items():
            print(f"  http: {name} …", file=sys.stderr, flush=True)
            wrk(server.port, path, 2, cookie)
            result = wrk(server.port, path, seconds, cookie)
            result.update(case=f"http: {name}", path=path,
                          ratio=round(result["rps"] / bare["rps"], 4) if bare["rps"] else None)
            results.append(result)
        rss = server.worker_rss_mb()
        for result in results[1:]:
            result["worker_rss_mb"] = max(rss or [0])
            result["workers_rss_mb"] = rss
    for result in results:
        result["connections"] = CONNECTIONS
        result["server"] = (f"gunicorn gthread, {WORKERS} workers × {THREADS} threads, "
                            f"{worker_connections()} connections per worker")
    return results


# --- output -----------------------------------------------------------------------------

def table(all_results: dict) -> str:
    lines = []
    header = (f"{'db':<10} {'case':<58} {'role':<17} {'p50 ms':>9} {'p95 ms':>9} "
              f"{'stmts':>5} {'peak MB':>8}  targets")
    lines += [header, "-" * len(header)]
    for db_name, block in all_results.items():
        for r in block["cases"]:
            marks = "  ".join(f"{'✓' if ok else '✗'} {name}" for name, ok in r.get("checks", []))
            extra = []
            if "ratio" in r and r["ratio"] is not None and r["case"].startswith("roll-up"):
                extra.append(f"floor {r['floor_p50_ms']} ms, ×{r['ratio']}")
            if r["case"].startswith("http"):
                extra.append(f"{r.get('rps', 0):.1f} req/s")
                if r.get("ratio") is not None:
                    extra.append(f"{100 * r['ratio']:.1f} % of bare")
                if r.get("worker_rss_mb"):
                    extra.append(f"RSS {r['worker_rss_mb']} MB/worker")
            if r.get("rows"):
                extra.append(f"{r['rows']:,} rows")
            if r.get("written") is not None:
                extra.append(f"{r['written']:,} written, {r.get('open_tickets', 0):,} open")
            if r.get("error"):
                extra.append(f"ERROR {r['error']}")
            case = r["case"] + (f" [{', '.join(extra)}]" if extra else "")
            lines.append(f"{db_name:<10} {case[:58]:<58} {r.get('role', ''):<17} "
                         f"{r.get('p50_ms', 0):>9.1f} {r.get('p95_ms', 0):>9.1f} "
                         f"{r.get('statements', ''):>5} {r.get('peak_mb', ''):>8}  {marks}")
            if len(case) > 58:
                lines.append(f"{'':<10}   {case[58:]}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark (issue 6)")
    parser.add_argument("--scale", type=int, default=int(os.environ.get("SCALE", 100_000)))
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--skip", action="append", default=[],
                        choices=["generate", *GROUPS, "http"])
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", 10)))
    parser.add_argument("--out", default=str(RESULTS_DIR / "results.json"))
    args = parser.parse_args(argv)
    urls = database_urls()
    if args.only:
        urls = {k: v for k, v in urls.items() if k == args.only}
    started = datetime.now(timezone.utc)
    document = {
        "issue": 6, "scale": args.scale, "started_at": started.isoformat(),
        "machine": {"cores": os.cpu_count(), "load_average_at_start": os.getloadavg(),
                    "platform": platform.platform(), "python": platform.python_version(),
                    "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                                       / 2**30, 1)},
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "databases": {},
    }
    for name, url in urls.items():
        if name == "postgresql" and not reachable(url):
            print(f"PostgreSQL at {url.split('@')[-1]} is not reachable: skipped", file=sys.stderr)
            document["databases"][name] = {"skipped": "not reachable", "cases": []}
            continue
        print(f"== {name}", file=sys.stderr)
        block = {"url": url.split("@")[-1], "cases": []}
        if "generate" not in args.skip:
            done = subprocess.run([PYTHON, "-m", "bench.generate", "--scale", str(args.scale),
                                   "--url", url], cwd=ROOT, stdout=subprocess.PIPE, text=True)
            if done.returncode != 0:
                raise SystemExit(f"generating the data set into {name} failed")
            block["generate"] = json.loads(done.stdout.strip().splitlines()[-1])
        document["databases"][name] = block
        for group in GROUPS:
            if group not in args.skip:
                block["cases"] += run_group(url, group, args.repeat)
                save(args.out, document)  # what is measured so far survives a failure
        if "http" not in args.skip:
            block["cases"] += http_runs(url, HTTP_SECONDS)
        for result in block["cases"]:
            result["checks"] = check(result)
        document["databases"][name] = block
    document["finished_at"] = datetime.now(timezone.utc).isoformat()
    document["load_average_at_end"] = os.getloadavg()
    out = save(args.out, document)
    print(table(document["databases"]))
    held = [ok for b in document["databases"].values() for r in b["cases"]
            for _n, ok in r.get("checks", [])]
    print(f"\n{sum(held)} of {len(held)} targets held; {os.cpu_count()} cores; "
          f"results in {out}")
    return 0


def save(path: str, document: dict) -> Path:
    for block in document["databases"].values():
        for result in block["cases"]:
            result["checks"] = check(result)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, ensure_ascii=False, indent=1, default=str))
    return out


def reachable(url: str) -> bool:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        print(f"cannot connect: {error}", file=sys.stderr)
        return False


if __name__ == "__main__":
    sys.exit(main())
