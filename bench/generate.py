"""Synthetic data of a realistic shape at SCALE tickets, bulk-loaded.

    python -m bench.generate --scale 100000 --url postgresql+psycopg://…/bench

The shape follows a province: one province with 14 cities and 90 counties, each with an
inspection office and departments (教育局, 财政局, 人社局, 编办), townships and schools in
proportion to the size (about one unit per 20 tickets); offices at the province and the
cities run several inspections a year since 2019, each feeding back 20–60 findings split
into 1–6 tickets; the older an inspection, the more of its tickets are closed. Tickets
carry cooperating units, progress updates, evidence rows, history (audit events) and
extension requests.

Rows are made in Python in chunks and loaded with COPY on PostgreSQL and with SQLAlchemy
Core `insert()` executemany on SQLite (and any other database), never through the ORM.
Ids are assigned here; sequences are moved past them at the end. The database is emptied
first (drop_all, create_all: the models' own indexes).
"""
import argparse
import json
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import text

from bench.common import PASSWORD, Progress, database_urls, make_app
from tracker.extensions import db
from tracker.models import Base, User
from tracker.services import clock

UTC = timezone.utc
CITIES = ["兰州市", "嘉峪关市", "金昌市", "白银市", "天水市", "武威市", "张掖市", "平凉市",
          "酒泉市", "庆阳市", "定西市", "陇南市", "临夏州", "甘南州"]
COUNTIES_PER_CITY = [8, 1, 2, 5, 7, 4, 6, 7, 7, 8, 7, 9, 8, 8]  # 87 + the 3 below = 90
DEPARTMENTS = [("JY", "教育局"), ("CZ", "财政局"), ("RS", "人社局"), ("BB", "编办")]
CATEGORIES = [("party", "党的建设"), ("funding", "经费投入"), ("balance", "资源配置/义务教育均衡"),
              ("teachers", "师资队伍"), ("vocational", "职业教育"), ("safety", "校园安全"),
              ("catering", "学生餐饮"), ("supervision", "督导职能"), ("preschool", "学前教育"),
              ("other", "其他")]
TITLES = ["经费投入保障政策未完全落实", "校园安全存在隐患", "义务教育大班额问题仍然存在",
          "教师编制配备不足", "学生餐饮管理不规范", "职业教育产教融合不够深入",
          "督导问责机制不健全", "学前教育普惠性资源不足", "教师工资待遇保障不到位",
          "控辍保学工作有待加强", "农村学校办学条件薄弱", "校舍维修改造资金缺口较大",
          "心理健康教育专职教师缺乏", "课后服务覆盖面不足", "教育信息化应用水平不高"]
MEASURES = ["制定专项整改方案，明确责任分工和完成时限，按月调度推进。",
            "争取财政专项资金，分批实施改造，年底前完成主体工程。",
            "开展专项排查，建立问题台账，逐项销号管理。",
            "完善制度建设，出台管理办法，建立长效机制。"]
PROGRESS = ["已制定整改方案并印发，正在组织实施。", "已完成排查摸底，建立问题清单。",
            "专项资金已拨付到位，项目正在施工。", "已完成整改，正在整理佐证材料。",
            "召开专题会议研究部署，明确责任人和时限。"]
KINDS = ["evaluation", "onsite", "patrol", "audit", "assessment", "self", "other"]
SEVERITIES = ["general"] * 7 + ["serious"] * 2 + ["critical"]
EVIDENCE = [("整改方案.pdf", "pdf", "application/pdf", "notice"),
            ("现场照片.jpg", "jpg", "image/jpeg", "photo"),
            ("整改台账.xlsx", "xlsx",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "ledger"),
            ("会议纪要.docx", "docx",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "minutes")]
OPEN = ("assigned", "in_progress", "submitted", "verified", "returned", "long_term")
#: Status mix of a recent inspection's tickets, and of one two or more years old.
RECENT_MIX = [("assigned", 14), ("in_progress", 34), ("submitted", 8), ("verified", 3),
              ("returned", 4), ("closed", 27), ("long_term", 6), ("cancelled", 4)]
OLD_MIX = [("closed", 84), ("cancelled", 5), ("long_term", 6), ("in_progress", 3),
           ("returned", 1), ("submitted", 1)]


@dataclass
class Tree:
    """The unit tree as plain tuples, with what the tickets need to pick lead units."""

    rows: list[tuple] = field(default_factory=list)  # (id, code, name, kind, parent_id, depth)
    parent: dict[int, int | None] = field(default_factory=dict)
    province: int = 0
    province_office: int = 0
    cities: list[int] = field(default_factory=list)
    city_offices: dict[int, int] = field(default_factory=dict)
    counties: list[int] = field(default_factory=list)
    county_offices: dict[int, int] = field(default_factory=dict)
    #: Units that lead tickets (everything but offices), per city and in all.
    leads_by_city: dict[int, list[int]] = field(default_factory=dict)
    all_leads: list[int] = field(default_factory=list)

    def add(self, code, name, kind, parent_id) -> int:
        unit_id = len(self.rows) + 1
        depth = 0 if parent_id is None else self.rows[parent_id - 1][5] + 1
        self.rows.append((unit_id, code, name, kind, parent_id, depth))
        self.parent[unit_id] = parent_id
        return unit_id

    def ancestors(self, unit_id: int):
        depth, current = 0, unit_id
        while current is not None:
            yield current, depth
            current, depth = self.parent[current], depth + 1


def build_tree(scale: int, rnd: random.Random) -> Tree:
    tree = Tree()
    tree.province = tree.add("62", "甘肃省", "province", None)
    tree.province_office = tree.add("62-DD", "省政府教育督导委员会办公室", "office", tree.province)
    for code, name in DEPARTMENTS:
        tree.add(f"62-{code}", f"省{name.replace('局', '厅')}", "department", tree.province)
    counties_per_city = list(COUNTIES_PER_CITY)
    for i in range(90 - sum(counties_per_city)):
        counties_per_city[i % len(counties_per_city)] += 1
    extra = max(0, scale // 20 - 630)  # townships and schools, in proportion to the size
    per_county = extra // 90
    for c, (city_name, n_counties) in enumerate(zip(CITIES, counties_per_city), start=1):
        city_code = f"62{c:02d}"
        city = tree.add(city_code, city_name, "city", tree.province)
        tree.cities.append(city)
        tree.city_offices[city] = tree.add(f"{city_code}-DD", f"{city_name}教育督导室", "office",
                                           city)
        leads = [city]
        for code, name in DEPARTMENTS:
            leads.append(tree.add(f"{city_code}-{code}", f"{city_name}{name}", "department", city))
        for k in range(1, n_counties + 1):
            county_code = f"{city_code}{k:02d}"
            county_name = f"{city_name[:-1]}第{k}县"
            county = tree.add(county_code, county_name, "county", city)
            tree.counties.append(county)
            tree.county_offices[county] = tree.add(f"{county_code}-DD",
                                                   f"{county_name}教育督导室", "office", county)
            leads.append(county)
            for code, name in DEPARTMENTS:
                leads.append(tree.add(f"{county_code}-{code}", f"{county_name}{name}",
                                      "department", county))
            townships = per_county // 5
            for t in range(1, townships + 1):
                leads.append(tree.add(f"{county_code}{t:03d}", f"{county_name}第{t}镇",
                                      "township", county))
            for s in range(1, per_county - townships + 1):
                leads.append(tree.add(f"{county_code}S{s:04d}", f"{county_name}第{s}学校",
                                      "school", county))
        tree.leads_by_city[city] = leads
        tree.all_leads.extend(leads)
    return tree


# --- loading --------------------------------------------------------------------------

class Loader:
    """Bulk inserts: COPY on PostgreSQL, Core executemany elsewhere."""

    def __init__(self, engine):
        self.engine = engine
        self.is_pg = engine.dialect.name == "postgresql"
        self.rows_loaded = 0

    def load(self, table_name: str, columns: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        if self.is_pg:
            raw = self.engine.raw_connection()
            try:
                cursor = raw.cursor()
                names = ", ".join(f'"{c}"' for c in columns)
                with cursor.copy(f"COPY {table_name} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([json.dumps(v, ensure_ascii=False)
                                        if isinstance(v, dict) else v for v in row])
                raw.commit()
            finally:
                raw.close()
        else:
            # Core executemany through the driver: values are given in the column types'
            # stored form (what the ORM would write), so no per-value processing is needed.
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _c in columns)
            statement = f"INSERT INTO {table_name} ({names}) VALUES ({marks})"
            with self.engine.begin() as conn:
                for start in range(0, len(rows), 20_000):
                    conn.exec_driver_sql(statement, [tuple(map(_stored, row)) for row in
                                                     rows[start:start + 20_000]])
        self.rows_loaded += len(rows)

    def moment(self, value: datetime):
        """UTC columns hold naive UTC."""
        return value.replace(tzinfo=None)


def _stored(value):
    """A value as SQLAlchemy stores it in SQLite."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return int(value)
    return value


def reset_schema(engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)


def finish(engine, tables: list[str]) -> None:
    """Sequences past the loaded ids; fresh planner statistics."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for name in tables:
                table = Base.metadata.tables[name]
                if "id" in table.c and table.c.id.autoincrement in (True, "auto"):
                    conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"COALESCE((SELECT max(id) FROM {name}), 0) + 1, false)"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


# --- the data -------------------------------------------------------------------------

def weighted(rnd: random.Random, mix) -> str:
    total = sum(w for _v, w in mix)
    pick = rnd.uniform(0, total)
    for value, weight in mix:
        pick -= weight
        if pick <= 0:
            return value
    return mix[-1][0]


def generate(url: str, scale: int, seed: int = 2026) -> dict:
    app = make_app(url)
    rnd = random.Random(seed)
    started = time.perf_counter()
    with app.app_context():
        engine = db.engine
        today = clock.today()
        now = clock.now_utc()
        reset_schema(engine)
        loader = Loader(engine)
        moment = loader.moment

        tree = build_tree(scale, rnd)
        closure = [(a, u, d) for u, *_r in tree.rows for a, d in tree.ancestors(u)]
        loader.load("units", ["id", "code", "name", "kind", "parent_id", "depth", "is_active",
                              "created_at"],
                    [(*r, True, moment(now)) for r in tree.rows])
        loader.load("unit_closure", ["ancestor_id", "descendant_id", "depth"], closure)
        categories = [(i, code, name, i, True) for i, (code, name) in enumerate(CATEGORIES, 1)]
        loader.load("categories", ["id", "code", "name", "sort_order", "is_active"], categories)

        # Users: the admin, an office and a supervisor over each province/city/county, and
        # one person in every unit that leads tickets. One shared password hash.
        holder = User()
        holder.set_password(PASSWORD)
        users: list[tuple] = []
        user_of_unit: dict[int, int] = {}

        def person(username, role, unit_id, scope_id):
            uid = len(users) + 1
            users.append((uid, username, username, role, unit_id, scope_id,
                          holder.password_hash, False, f"{uid:032x}", True, moment(now)))
            return uid

        person("admin", "admin", tree.province_office, None)
        person("office", "office", tree.province_office, tree.province)
        person("supervisor", "supervisor", tree.province_office, tree.province)
        for city in tree.cities:
            person(f"office_{city}", "office", tree.city_offices[city], city)
            person(f"sup_{city}", "supervisor", tree.city_offices[city], city)
        for county in tree.counties:
            person(f"office_{county}", "office", tree.county_offices[county], county)
            person(f"sup_{county}", "supervisor", tree.county_offices[county], county)
        for unit_id in tree.all_leads:
            user_of_unit[unit_id] = person(f"u{unit_id}", "unit_user", unit_id, None)
        loader.load("users", ["id", "username", "full_name", "role", "unit_id", "scope_unit_id",
                              "password_hash", "must_change_password", "session_token",
                              "is_active", "created_at"], users)
        office_user = {tree.province: 2, **{c: 4 + 2 * i for i, c in enumerate(tree.cities)}}

        tickets_made = 0
        ids = {"inspection": 0, "finding": 0, "ticket": 0, "progress": 0, "evidence": 0,
               "audit": 0, "extension": 0}
        first_year = 2019
        years = list(range(first_year, today.year + 1))
        bar = Progress("tickets", scale)
        batch: dict[str, list] = {}

        order = ["inspections", "findings", "tickets", "ticket_units", "progress_updates",
                 "evidence", "audit_events", "extension_requests"]

        def flush():
            for name in order:  # parents before children, whatever came first
                if name in batch:
                    loader.load(name, *batch[name])
            batch.clear()

        def put(name, columns, row):
            batch.setdefault(name, (columns, []))[1].append(row)

        inspection_cols = ["id", "title", "kind", "year", "owner_unit_id", "inspected_body",
                           "inspecting_body", "document_number", "feedback_on",
                           "default_deadline", "signoff_levels", "supervisors_may_sign_off",
                           "created_at"]
        finding_cols = ["id", "inspection_id", "number", "title", "description", "category_id",
                        "severity", "basis", "requirement", "required_evidence", "created_at"]
        ticket_cols = ["id", "finding_id", "lead_unit_id", "responsible_person", "measures",
                       "target", "timeline", "deadline", "original_deadline",
                       "planned_completion_on", "progress_percent", "status", "stage_goal",
                       "next_review_on", "review_cycle_days", "is_declined", "version",
                       "assigned_at", "acknowledged_at", "submitted_at", "submitted_on",
                       "deadline_at_submission", "closed_at", "updated_at"]
        coop_cols = ["ticket_id", "unit_id"]
        progress_cols = ["id", "ticket_id", "author_id", "unit_id", "text", "percent",
                         "created_at"]
        evidence_cols = ["id", "ticket_id", "progress_update_id", "uploaded_by_id", "unit_id",
                         "original_name", "extension", "content_type", "size", "sha256",
                         "live_sha256", "storage_key", "evidence_type", "description", "status",
                         "version_no", "uploaded_at", "frozen_at"]
        audit_cols = ["id", "actor_id", "action", "object_type", "object_id", "ticket_id",
                      "before", "after", "note", "created_at"]
        extension_cols = ["id", "ticket_id", "requested_by_id", "current_deadline",
                          "requested_deadline", "reason", "status", "decided_by_id",
                          "decision_note", "created_at", "decided_at"]

        def utc_on(day: date, hour: int = 2) -> datetime:
            return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)

        while tickets_made < scale:
            year = years[ids["inspection"] % len(years)]
            # More recent years hold more inspections: the deployment grew.
            if rnd.random() < 0.35 and year < today.year - 1:
                year = rnd.choice(years[-2:])
            owner_scope = tree.province if rnd.random() < 0.45 else rnd.choice(tree.cities)
            owner = tree.province_office if owner_scope == tree.province else \
                tree.city_offices[owner_scope]
            actor = office_user[owner_scope]
            candidates = tree.all_leads if owner_scope == tree.province else \
                tree.leads_by_city[owner_scope]
            latest_feedback = min(date(year, 12, 20), today - timedelta(days=20))
            feedback = date(year, 1, 10) + timedelta(
                days=rnd.randint(0, max(0, (latest_feedback - date(year, 1, 10)).days)))
            ids["inspection"] += 1
            inspection_id = ids["inspection"]
            levels = 2 if rnd.random() < 0.3 else 1
            put("inspections", inspection_cols, (
                inspection_id, f"{year}年{TITLES[inspection_id % len(TITLES)][:4]}专项督导"
                f"（第{inspection_id}批）", rnd.choice(KINDS), year, owner,
                "甘肃省人民政府" if owner_scope == tree.province else CITIES[
                    tree.cities.index(owner_scope)] + "人民政府",
                "甘肃省人民政府教育督导委员会办公室", f"甘政教督办函〔{year}〕{inspection_id}号",
                feedback, feedback + timedelta(days=180), levels, levels == 1 and
                rnd.random() < 0.3, moment(utc_on(feedback))))
            age = today.year - year
            mix = OLD_MIX if age >= 2 else RECENT_MIX
            for number in range(1, rnd.randint(20, 60) + 1):
                if tickets_made >= scale:
                    break
                ids["finding"] += 1
                finding_id = ids["finding"]
                title = TITLES[rnd.randrange(len(TITLES))]
                put("findings", finding_cols, (
                    finding_id, inspection_id, number, f"{title}（{number}）",
                    f"督导发现：{title}，涉及多个县区。", rnd.randint(1, len(CATEGORIES)),
                    rnd.choice(SEVERITIES), "《县级人民政府履行教育职责评价指标》",
                    "按期完成整改并提交佐证材料", "整改方案\n佐证照片" if rnd.random() < 0.5 else "",
                    moment(utc_on(feedback))))
                n_tickets = min(rnd.randint(1, 6), scale - tickets_made)
                for lead in rnd.sample(candidates, n_tickets):
                    ids["ticket"] += 1
                    tid = ids["ticket"]
                    tickets_made += 1
                    status = weighted(rnd, mix)
                    timeline = "long_term" if status == "long_term" else (
                        "immediate" if rnd.random() < 0.1 else "by_date")
                    original = feedback + timedelta(days=rnd.randint(30, 365))
                    deadline = original + timedelta(days=90) if rnd.random() < 0.1 else original
                    planned = (deadline - timedelta(days=rnd.randint(0, 60))
                               if rnd.random() < 0.6 else None)
                    assigned_at = utc_on(feedback + timedelta(days=rnd.randint(1, 10)))
                    acknowledged = status != "assigned"
                    ack_at = assigned_at + timedelta(days=rnd.randint(1, 5)) if acknowledged \
                        else None
                    submitted = status in ("submitted", "verified", "closed")
                    sub_day = None
                    if submitted:
                        late = rnd.random() < 0.15
                        sub_day = deadline + timedelta(days=rnd.randint(1, 30)) if late else \
                            deadline - timedelta(days=rnd.randint(0, 60))
                        sub_day = min(max(sub_day, (ack_at or assigned_at).date()), today)
                    closed_at = (utc_on(min(sub_day + timedelta(days=rnd.randint(1, 20)), today))
                                 if status == "closed" else None)
                    percent = {"assigned": 0, "closed": 100, "submitted": 100,
                               "verified": 100, "cancelled": 0}.get(status, rnd.randint(5, 95))
                    next_review = (today + timedelta(days=rnd.randint(-30, 120))
                                   if status == "long_term" else None)
                    updated = closed_at or (utc_on(sub_day) if sub_day else ack_at or assigned_at)
                    lead_user = user_of_unit[lead]
                    put("tickets", ticket_cols, (
                        tid, finding_id, lead, f"负责人{lead % 97}", MEASURES[tid % len(MEASURES)],
                        "问题整改到位，建立长效机制", timeline, deadline, original, planned,
                        percent, status, "阶段目标：完成年度任务" if next_review else None,
                        next_review, 90 if next_review else None, False, 1,
                        moment(assigned_at), moment(ack_at) if ack_at else None,
                        moment(utc_on(sub_day)) if sub_day else None, sub_day,
                        deadline if sub_day else None, moment(closed_at) if closed_at else None,
                        moment(updated)))
                    if rnd.random() < 0.3:
                        for coop in rnd.sample(candidates, rnd.randint(1, 2)):
                            if coop != lead:
                                put("ticket_units", coop_cols, (tid, coop))
                    ids["audit"] += 1
                    put("audit_events", audit_cols, (
                        ids["audit"], actor, "ticket.create", "ticket", tid, tid, None,
                        {"status": "assigned", "lead_unit_id": lead,
                         "deadline": original.isoformat()}, None,
                        moment(assigned_at)))
                    last_update = None
                    if acknowledged and status != "cancelled":
                        for step in range(rnd.randint(1, 4)):
                            ids["progress"] += 1
                            last_update = ids["progress"]
                            at = ack_at + timedelta(days=7 * step + 1)
                            put("progress_updates", progress_cols, (
                                last_update, tid, lead_user, lead, PROGRESS[step % len(PROGRESS)],
                                min(100, 20 * (step + 1)), moment(min(at, now))))
                        ids["audit"] += 1
                        put("audit_events", audit_cols, (
                            ids["audit"], lead_user, "ticket.progress", "ticket", tid, tid,
                            {"status": "assigned"}, {"status": "in_progress"}, None,
                            moment(ack_at)))
                    if submitted and last_update is not None:
                        for k, (name, ext, mime, kind) in enumerate(
                                EVIDENCE[:rnd.randint(1, 3)]):
                            ids["evidence"] += 1
                            digest = f"{ids['evidence']:064x}"
                            put("evidence", evidence_cols, (
                                ids["evidence"], tid, last_update, lead_user, lead, name, ext,
                                mime, rnd.randint(20_000, 3_000_000), digest, digest,
                                f"bench/{tid}/{ids['evidence']}", kind, "", "active", 1,
                                moment(utc_on(sub_day, 1)), moment(utc_on(sub_day))))
                        ids["audit"] += 1
                        put("audit_events", audit_cols, (
                            ids["audit"], lead_user, "ticket.submit", "ticket", tid, tid,
                            {"status": "in_progress"}, {"status": "submitted"}, None,
                            moment(utc_on(sub_day))))
                    if status in OPEN and rnd.random() < 0.05:
                        ids["extension"] += 1
                        pending = status not in ("submitted", "verified") and rnd.random() < 0.4
                        asked = (ack_at or assigned_at) + timedelta(days=10)
                        put("extension_requests", extension_cols, (
                            ids["extension"], tid, lead_user, deadline,
                            deadline + timedelta(days=60), "工程量大，需延长整改时限",
                            "pending" if pending else "approved", None if pending else actor,
                            None if pending else "同意延期", moment(asked),
                            None if pending else moment(asked + timedelta(days=3))))
                    bar.advance()
                if len(batch.get("tickets", ((), []))[1]) >= 20_000:
                    flush()
        flush()
        bar.close()
        finish(engine, ["units", "users", "categories", "inspections", "findings", "tickets",
                        "progress_updates", "evidence", "audit_events", "extension_requests"])
        elapsed = time.perf_counter() - started
        summary = {"scale": scale, "tickets": tickets_made, "units": len(tree.rows),
                   "users": len(users), "inspections": ids["inspection"],
                   "findings": ids["finding"], "progress_updates": ids["progress"],
                   "evidence": ids["evidence"], "audit_events": ids["audit"],
                   "rows_loaded": loader.rows_loaded, "seconds": round(elapsed, 1),
                   "generated_on": today.isoformat()}
    with app.app_context():
        db.engine.dispose()
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=100_000, help="number of tickets")
    parser.add_argument("--url", help="database URL (default: every database of the bench)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    urls = [args.url] if args.url else list(database_urls().values())
    for url in urls:
        print(f"generating {args.scale:,} tickets into {url.split('@')[-1]}", file=sys.stderr)
        summary = generate(url, args.scale, args.seed)
        print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
