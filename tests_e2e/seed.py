"""The journeys' own data, built through the services as the people who would act.

Every variant of a journey (desktop or phone, Chinese or English) changes what it touches,
so each variant gets a county of its own (under 海东市, in a province apart from the demo
world's), with its own education bureau,
finance bureau and human-resources bureau (unit users), a county supervisor and a county
office. The office's dashboard then counts only that county: its figures are known.

Dates are relative to the real "today" of the office's zone, which the server uses too.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

PASSWORD = "e2e-journeys-2026"

#: Variant name → (county code, county name, short key of the accounts).
COUNTIES = {
    "desktop-zh": ("630202", "乐都区", "dz"),
    "desktop-en": ("630203", "平安区", "de"),
    "phone-zh": ("630222", "民和回族土族自治县", "pz"),
    "phone-en": ("630223", "互助土族自治县", "pe"),
}

INSPECTION_TITLE = "{year}年县域义务教育优质均衡发展督导评估反馈意见"
OVERDUE_TITLE = "学校校舍安全隐患排查整治不彻底"
NEW_TITLE = "课后服务经费保障机制不健全"
SUBMITTED_TITLE = "教师周转宿舍建设进度滞后"
NEAR_TITLE = "农村学校音体美专职教师配备不足"
OTHER_UNIT_TITLE = "教育经费“两个只增不减”未完全落实"
REQUIRED_EVIDENCE = "整改报告"


@dataclass
class VariantWorld:
    """Names and ids one variant of the journeys works with."""

    variant: str
    county: str
    edu_unit: str
    fin_unit: str
    hr_unit: str
    office_unit: str
    edu: str  # unit user of the education bureau (the unit journey)
    fin: str  # unit user of the finance bureau
    hr: str  # unit user of the human-resources bureau (resubmits for the supervisor)
    supervisor: str
    office: str
    inspection_id: int = 0
    overdue_ticket: int = 0  # edu leads; in progress, ten days past its deadline
    new_ticket: int = 0  # edu leads; just assigned, its problem requires 整改报告
    submitted_ticket: int = 0  # hr leads; waiting for sign-off, supervisors may sign off
    near_ticket: int = 0  # hr leads; due in three days
    fin_ticket: int = 0  # fin leads: another unit's ticket for the edu user
    unit_ids: dict[str, int] = field(default_factory=dict)


@dataclass
class World:
    variants: dict[str, VariantWorld]

    def accounts(self) -> dict[str, dict]:
        return {name: asdict(v) for name, v in self.variants.items()}

    @classmethod
    def from_accounts(cls, data: dict[str, dict]) -> "World":
        return cls({name: VariantWorld(**values) for name, values in data.items()})


def _app(env: dict[str, str]):
    from tracker import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
        "UPLOAD_FOLDER": env["UPLOAD_FOLDER"],
        "MAIL_OUTBOX_DIR": env["MAIL_OUTBOX_DIR"],
        "SECRET_KEY": env["SECRET_KEY"],
        "SCHEDULER": "off",
    })


class Services:
    """An application of its own on the server's database, for steps that are not what a
    journey shows (the units' part while the office watches), done through the services."""

    def __init__(self, env: dict[str, str]) -> None:
        self.app = _app(env)

    def run(self, step):
        """Run `step()` in one transaction, as a request would, and commit once."""
        from tracker.extensions import db

        with self.app.app_context():
            try:
                result = step()
                db.session.commit()
                return result
            except BaseException:
                db.session.rollback()
                raise
            finally:
                db.session.remove()

    def today(self) -> date:
        """Today in the office's zone, as the server computes it."""
        from tracker.services import clock

        with self.app.app_context():
            return clock.today()

    def user(self, username: str):
        from tracker.extensions import db
        from tracker.models import User

        return db.session.scalar(select(User).where(User.username == username))

    def ticket(self, ticket_id: int):
        from tracker.extensions import db
        from tracker.models import Ticket

        return db.session.get(Ticket, ticket_id)

    def unit_submits(self, username: str, ticket_id: int, text: str) -> None:
        """The lead unit acknowledges (if needed), reports progress and asks for sign-off."""
        from tracker.models import TicketStatus
        from tracker.services import workflow

        def step():
            actor = self.user(username)
            ticket = self.ticket(ticket_id)
            if ticket.status == TicketStatus.ASSIGNED:
                workflow.acknowledge(actor, ticket.id, ticket.version)
            ticket = self.ticket(ticket_id)
            workflow.add_progress(actor, ticket.id, ticket.version, text, 100)
            ticket = self.ticket(ticket_id)
            workflow.submit(actor, ticket.id, ticket.version)
        self.run(step)


def seed(env: dict[str, str]) -> World:
    return seed_with(Services(env))


def seed_with(services: Services) -> World:
    return services.run(lambda: _build(services))


def _password_hash() -> str:
    from tracker.models import User

    probe = User()
    probe.set_password(PASSWORD)
    return probe.password_hash


def _build(services: Services) -> World:
    from tracker.extensions import db
    from tracker.models import Category, Role, Unit, UnitKind
    from tracker.services import accounts, clock, inspections, units, workflow

    today = clock.today()
    hashed = _password_hash()

    def unit(code, name, kind, parent_id):
        found = db.session.scalar(select(Unit).where(Unit.code == code))
        if found is not None:
            return found
        return units.create_unit(None, units.UnitDraft(code=code, name=name, kind=kind,
                                                       parent_id=parent_id))

    def person(username, full_name, role, unit_id, scope_id=None):
        user, _one_time = accounts.create_user(None, accounts.UserDraft(
            username=username, full_name=full_name, role=role, unit_id=unit_id,
            scope_unit_id=scope_id))
        user.password_hash = hashed
        user.must_change_password = False
        return user

    # A province of its own: the demo world's offices never see the journeys' data, so
    # the README's screenshots show the demo alone.
    root = unit("63", "青海省", UnitKind.PROVINCE, None)
    city = unit("6302", "海东市", UnitKind.CITY, root.id)
    category = db.session.scalar(select(Category).where(Category.name == "校园安全"))
    if category is None:
        category = Category(code="e2e-safety", name="校园安全", sort_order=90)
        db.session.add(category)
        db.session.flush()

    names = iter(["王建军", "李秀英", "张伟", "刘芳", "陈志强", "杨丽", "赵国庆", "黄婷",
                  "周敏", "吴俊", "徐静", "孙涛", "胡娟", "朱军", "高燕", "林海",
                  "何平", "郭红", "马骏", "罗琳"])
    variants = {}
    for variant, (code, county_name, key) in COUNTIES.items():
        county = unit(code, county_name, UnitKind.COUNTY, city.id)
        office_unit = unit(f"{code}-JYDD", f"{county_name}人民政府教育督导室",
                           UnitKind.OFFICE, county.id)
        edu_unit = unit(f"{code}-JYJ", f"{county_name}教育局", UnitKind.DEPARTMENT, county.id)
        fin_unit = unit(f"{code}-CZJ", f"{county_name}财政局", UnitKind.DEPARTMENT, county.id)
        hr_unit = unit(f"{code}-RSJ", f"{county_name}人力资源和社会保障局",
                       UnitKind.DEPARTMENT, county.id)
        v = VariantWorld(
            variant=variant, county=county_name, edu_unit=edu_unit.name,
            fin_unit=fin_unit.name, hr_unit=hr_unit.name, office_unit=office_unit.name,
            edu=f"e2e_{key}_edu", fin=f"e2e_{key}_fin", hr=f"e2e_{key}_hr",
            supervisor=f"e2e_{key}_sup", office=f"e2e_{key}_office",
            unit_ids={"county": county.id, "edu": edu_unit.id, "fin": fin_unit.id,
                      "hr": hr_unit.id, "office": office_unit.id})
        edu = person(v.edu, next(names), Role.UNIT_USER, edu_unit.id)
        person(v.fin, next(names), Role.UNIT_USER, fin_unit.id)
        hr = person(v.hr, next(names), Role.UNIT_USER, hr_unit.id)
        person(v.supervisor, next(names), Role.SUPERVISOR, office_unit.id, county.id)
        office = person(v.office, next(names), Role.OFFICE, office_unit.id, county.id)

        inspection = inspections.create_inspection(office, inspections.InspectionDraft(
            title=INSPECTION_TITLE.format(year=today.year - 1),
            kind="evaluation", year=today.year - 1, owner_unit_id=office_unit.id,
            inspected_body=f"{county_name}人民政府", inspecting_body="海东市人民政府教育督导委员会办公室",
            document_number=f"东政教督函〔{today.year - 1}〕{int(code[-2:])}号",
            feedback_on=today - timedelta(days=120), default_deadline=today + timedelta(days=60),
            signoff_levels=1, supervisors_may_sign_off=True))
        v.inspection_id = inspection.id

        def finding(number, title, evidence=()):
            return inspections.create_finding(office, inspection.id, inspections.FindingDraft(
                title=title, number=number, category_id=category.id,
                description=f"{county_name}{title}，督导评估中发现。",
                requirement="制定整改方案，明确责任人和时限，按期完成并报送佐证材料。",
                required_evidence=tuple(evidence)))

        def ticket(found, lead, deadline: date, **extra):
            [created] = inspections.split_finding(office, found.id, [workflow.TicketDraft(
                lead_unit_id=lead.id, deadline=deadline, measures="制定整改方案，逐项销号。",
                responsible_person="分管副局长", **extra)])
            return created

        def refreshed(t):
            db.session.refresh(t)
            return t

        overdue = ticket(finding(1, OVERDUE_TITLE), edu_unit, today - timedelta(days=10))
        workflow.acknowledge(edu, overdue.id, refreshed(overdue).version)
        workflow.add_progress(edu, overdue.id, refreshed(overdue).version,
                              "已完成全县中小学校舍安全排查，正在制定加固方案。", 40)
        v.overdue_ticket = overdue.id

        new = ticket(finding(2, NEW_TITLE, [REQUIRED_EVIDENCE]), edu_unit,
                     today + timedelta(days=45))
        v.new_ticket = new.id

        submitted = ticket(finding(3, SUBMITTED_TITLE), hr_unit, today + timedelta(days=20))
        workflow.acknowledge(hr, submitted.id, refreshed(submitted).version)
        workflow.add_progress(hr, submitted.id, refreshed(submitted).version,
                              "周转宿舍主体工程已完工，正在验收。", 100)
        workflow.submit(hr, submitted.id, refreshed(submitted).version)
        v.submitted_ticket = submitted.id

        near = ticket(finding(4, NEAR_TITLE), hr_unit, today + timedelta(days=3))
        workflow.acknowledge(hr, near.id, refreshed(near).version)
        v.near_ticket = near.id

        other = ticket(finding(5, OTHER_UNIT_TITLE), fin_unit, today + timedelta(days=30))
        v.fin_ticket = other.id
        variants[variant] = v
    return World(variants)
