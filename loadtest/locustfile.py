"""Load test of a realistic working day (locust, headless; started by loadtest/run.sh).

40 simulated people with 1–3 s of thought between steps, on the demo data:
- unit users (责任单位经办人): open their list and tickets in the browser, write
  progress updates and upload 1 MB evidence files (API, as the offline client does);
- supervisors (督学): filter the ticket list (overdue, near-due, by state), open tickets;
- the office (督导办): the dashboard and its data, the queue, exports of the ledger.

Every write that the server confirmed is written to LOADTEST_WRITES (JSON lines), so that
loadtest/verify.py can check afterwards that each one is in the database. At the end the
run fails (exit code 1) on any 5xx answer or on more than 1 % of requests failing.
"""
import json
import os
import random
import re
import threading
import uuid

from locust import HttpUser, between, events, task

PASSWORD = os.environ.get("LOADTEST_PASSWORD", "demo-2026")
WRITES_FILE = os.environ.get("LOADTEST_WRITES", "loadtest-writes.jsonl")
UNIT_ACCOUNTS = ["unit_a", "unit_b", "wuwei_finance", "liangzhou", "liangzhou_edu", "minqin",
                 "gulang", "linxia_finance", "linxia_city", "kangle"]
SUPERVISORS = ["supervisor"]
OFFICES = ["office", "city_office"]
WRITABLE = ("assigned", "in_progress", "returned", "long_term")
MB = 1024 * 1024

_lock = threading.Lock()
server_errors = {"count": 0}
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def record_write(kind: str, **data) -> None:
    with _lock, open(WRITES_FILE, "a", encoding="utf-8") as out:
        out.write(json.dumps({"kind": kind, **data}, ensure_ascii=False) + "\n")


def one_mb_pdf() -> bytes:
    """A valid PDF of 1 MB whose content differs every time (no duplicate refusals)."""
    payload = os.urandom(MB // 2).hex().encode()[: MB - 400]
    body = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
            b"3 0 obj << /Length " + str(len(payload)).encode() + b" >> stream\n"
            + payload + b"\nendstream endobj\n")
    return body + b"trailer << /Root 1 0 R >>\n%%EOF\n"


#: Over the whole run, logins included (the statistics are reset once every user has
#: logged in, so that the percentiles describe the working phase).
whole_run = {"requests": 0, "failures": 0}


@events.request.add_listener
def _count(response=None, exception=None, **kwargs):
    with _lock:
        whole_run["requests"] += 1
        if exception is not None:
            whole_run["failures"] += 1
        if response is not None and getattr(response, "status_code", 0) >= 500:
            server_errors["count"] += 1


@events.quitting.add_listener
def _judge(environment, **kwargs):
    total = environment.stats.total
    requests, failures = whole_run["requests"], whole_run["failures"]
    ratio = failures / requests if requests else 1.0
    p95 = total.get_response_time_percentile(0.95)
    print(f"LOADTEST requests={requests} failures={failures} fail_ratio={ratio:.4f} "
          f"server_errors={server_errors['count']} p95_ms_after_login={p95}")
    if server_errors["count"] or ratio > 0.01 or not requests:
        environment.process_exit_code = 1


class Person(HttpUser):
    abstract = True
    wait_time = between(1, 3)
    accounts: list[str] = []

    def on_start(self):
        self.username = random.choice(self.accounts)
        self.page_login()
        response = self.client.post("/api/v1/auth/token", name="/api/v1/auth/token",
                                    json={"username": self.username, "password": PASSWORD})
        self.token = response.json()["token"] if response.status_code == 201 else None
        self.api_headers = {"Authorization": f"Bearer {self.token}"}

    def page_login(self):
        page = self.client.get("/login", name="/login")
        token = CSRF.search(page.text)
        self.client.post("/login", name="/login [post]", allow_redirects=False,
                         data={"username": self.username, "password": PASSWORD,
                               "csrf_token": token.group(1) if token else ""})

    def api(self, method: str, url: str, name: str, **kwargs):
        return self.client.request(method, url, name=name, headers=self.api_headers, **kwargs)

    def open_some_ticket(self, listing: str):
        ids = re.findall(r'href="/tickets/(\d+)"', listing)
        if ids:
            self.client.get(f"/tickets/{random.choice(ids)}", name="/tickets/[id]")


class UnitUser(Person):
    weight = 6
    accounts = UNIT_ACCOUNTS

    def my_writable_tickets(self) -> list[dict]:
        """Tickets the user's unit leads or cooperates on, in a state that takes progress."""
        response = self.api("GET", "/api/v1/tickets?" + "&".join(f"status={s}" for s in WRITABLE)
                            + "&per_page=50", "/api/v1/tickets?status=writable")
        return response.json()["items"] if response.status_code == 200 else []

    @task(4)
    def browse(self):
        listing = self.client.get("/my", name="/my")
        self.open_some_ticket(listing.text)

    @task(3)
    def list_tickets(self):
        listing = self.client.get("/tickets", name="/tickets")
        self.open_some_ticket(listing.text)

    @task(3)
    def write_progress(self):
        tickets = self.my_writable_tickets()
        if not tickets:
            return
        ticket = random.choice(tickets)
        marker = f"loadtest-{uuid.uuid4()}"
        with self.api("POST", f"/api/v1/tickets/{ticket['id']}/progress",
                      "/api/v1/tickets/[id]/progress", catch_response=True,
                      json={"version": ticket["version"], "text": f"{marker} 本周推进整改"}) as r:
            if r.status_code == 201:
                record_write("progress", marker=marker, id=r.json()["update"]["id"],
                             ticket_id=ticket["id"])
                r.success()
            elif r.status_code == 409:
                r.success()  # someone else changed the ticket first: refused, as it should be

    @task(1)
    def upload_evidence(self):
        tickets = self.my_writable_tickets()
        if not tickets:
            return
        ticket = random.choice(tickets)
        data = one_mb_pdf()
        with self.api("POST", f"/api/v1/tickets/{ticket['id']}/evidence",
                      "/api/v1/tickets/[id]/evidence", catch_response=True,
                      files={"file": ("整改佐证材料.pdf", data, "application/pdf")},
                      data={"description": "负载测试上传"}) as r:
            if r.status_code == 201:
                body = r.json()
                record_write("evidence", id=body["id"], sha256=body.get("sha256"),
                             ticket_id=ticket["id"])
                r.success()
            elif r.status_code == 409:
                r.success()


class Supervisor(Person):
    weight = 2
    accounts = SUPERVISORS
    FILTERS = ["?overdue=1", "?near_due=1", "?status=submitted", "?status=in_progress",
               "?sort=-updated", ""]

    @task(5)
    def filter_tickets(self):
        listing = self.client.get("/tickets" + random.choice(self.FILTERS),
                                  name="/tickets?filter")
        self.open_some_ticket(listing.text)

    @task(2)
    def api_filter(self):
        self.api("GET", "/api/v1/tickets?overdue=true&per_page=50", "/api/v1/tickets?overdue")

    @task(1)
    def dashboard(self):
        self.client.get("/dashboard", name="/dashboard")


class Office(Person):
    weight = 2
    accounts = OFFICES

    @task(4)
    def dashboard(self):
        self.client.get("/dashboard", name="/dashboard")
        self.client.get("/dashboard/data.json", name="/dashboard/data.json")

    @task(2)
    def queue(self):
        self.client.get("/queue", name="/queue")

    @task(2)
    def tickets(self):
        listing = self.client.get("/tickets?sort=-updated", name="/tickets?filter")
        self.open_some_ticket(listing.text)

    @task(1)
    def export_ledger(self):
        self.client.get("/exports/ledger.xlsx", name="/exports/ledger.xlsx")
