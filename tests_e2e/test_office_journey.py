"""The inspection office (督导办) registers an inspection, enters its findings, splits one
among three units, watches the dashboard as the tickets close, drills from a figure to
the tickets behind it, and takes the ledger (Excel) and the report (Word) away."""
import io
import re
from datetime import timedelta

import openpyxl
from docx import Document
from playwright.sync_api import expect

from tests_e2e.seed import PASSWORD

FIRST = "部分学校消防设施老化失修，消防通道被占用"
SECOND = "校园周边交通安全隐患未及时整治"


def figure(s, label: str) -> int:
    """The number of the dashboard's headline figure `label`."""
    figures = s.page.get_by_role("region", name=s.t("Headline figures"))
    link = figures.get_by_role("link", name=re.compile("^" + re.escape(label) + r":"))
    return int(link.inner_text().strip())


def test_office_registers_splits_watches_drills_and_exports(open_session, mine, services):
    s = open_session("office")
    page = s.page
    today = services.today()
    title = f"{today.year}年{mine.county}校园安全专项督查反馈意见"
    s.login(mine.office, PASSWORD)
    s.check()
    s.shot("dashboard-county")

    # Register the inspection.
    with page.expect_navigation():
        s.menu_link(s.t("Inspections")).click()
    s.check()
    with page.expect_navigation():
        page.get_by_role("link", name=s.t("Register an inspection")).click()
    s.check()
    form = page.locator("main form")
    form.get_by_label(s.t("Title")).fill(title)
    form.get_by_label(s.t("Kind")).select_option("onsite")
    form.get_by_label(s.t("Inspected body")).fill(f"{mine.county}人民政府")
    form.get_by_label(s.t("Inspecting body")).fill(f"{mine.county}人民政府教育督导委员会办公室")
    form.get_by_label(s.t("Document number")).fill(f"{mine.county[:2]}教督函〔{today.year}〕7号")
    form.get_by_label(s.t("Feedback date")).fill((today - timedelta(days=7)).isoformat())
    form.get_by_label(s.t("Default deadline")).fill((today + timedelta(days=90)).isoformat())
    with page.expect_navigation():
        form.get_by_role("button", name=s.t("Save"), exact=True).click()
    expect(page.locator("main .alert-success")).to_contain_text(
        s.t("The inspection was registered. Add its findings now."))
    expect(page.locator("h1")).to_have_text(title)
    inspection_url = page.url
    inspection_id = int(inspection_url.rstrip("/").rsplit("/", 1)[1])
    s.check()

    # Two findings, the first with "save and add another".
    with page.expect_navigation():
        page.get_by_role("link", name=s.t("Add a finding")).click()
    s.check()
    for text, button in ((FIRST, "Save and add another"), (SECOND, "Save")):
        form = page.locator("main form")
        form.get_by_label(s.t("Problem"), exact=True).fill(text)
        form.get_by_label(s.t("Category")).select_option(label="校园安全")
        form.get_by_label(s.t("Description")).fill(f"督查发现{mine.county}{text}。")
        form.get_by_label(s.t("Rectification requirement")).fill("立即整改，限期消除隐患。")
        with page.expect_navigation():
            form.get_by_role("button", name=s.t(button), exact=True).click()
    expect(page.locator("main .alert-success")).to_contain_text(
        s.t("Finding %(n)s was added.", n=2))
    s.check()

    # Split the first finding among three units.
    page.goto(inspection_url)
    with page.expect_navigation():
        page.get_by_role("link", name=FIRST).click()
    with page.expect_navigation():
        page.get_by_role("link", name=s.t("Assign to units")).first.click()
    s.check()
    for number, key in enumerate(("edu", "fin", "hr"), start=1):
        row = page.get_by_role("group", name=s.t("Row %(n)s", n=number))
        row.get_by_label(s.t("Lead unit"), exact=True).select_option(str(mine.unit_ids[key]))
        row.get_by_label(s.t("Measures")).fill("全面排查消防设施，更换老化器材，清理消防通道。")
        row.get_by_label(s.t("Responsible person")).fill("分管副局长")
    with page.expect_navigation():
        page.get_by_role("button", name=s.t("Create the tickets")).click()
    expect(page.locator("main .alert-success")).to_contain_text(
        s.t("%(n)s tickets were assigned.", n=3))
    s.check()
    s.shot("finding-split")
    ticket_links = page.locator("main table a[href^='/tickets/']")
    expect(ticket_links).to_have_count(3)
    ticket_ids = [int(h.rsplit("/", 1)[1]) for h in
                  (ticket_links.nth(i).get_attribute("href") for i in range(3))]

    # The dashboard of this inspection, while the units finish and the office signs off.
    dashboard = f"/dashboard?inspection={inspection_id}"
    s.goto(dashboard)
    assert figure(s, s.t("Tickets")) == 3
    assert figure(s, s.t("Closed")) == 0
    units = {mine.unit_ids["edu"]: mine.edu, mine.unit_ids["fin"]: mine.fin,
             mine.unit_ids["hr"]: mine.hr}

    def lead_of(ticket_id):
        return services.run(lambda: services.ticket(ticket_id).lead_unit_id)

    for ticket_id in ticket_ids:  # the units' part, through the services
        services.unit_submits(units[lead_of(ticket_id)], ticket_id,
                              "已更换全部老化灭火器，消防通道已清理并设置禁停标志。")
    s.goto(dashboard)
    assert figure(s, s.t("Awaiting decision")) == 3
    for closed, ticket_id in enumerate(ticket_ids[:2], start=1):
        s.goto(f"/tickets/{ticket_id}")
        with page.expect_navigation():
            page.locator("#action-approve").get_by_role(
                "button", name=s.t("Sign off")).click()
        expect(page.locator("header .status-badge")).to_have_text(s.t("closed"))
        s.goto(dashboard)
        assert figure(s, s.t("Closed")) == closed
        assert figure(s, s.t("Awaiting decision")) == 3 - closed
    s.shot("dashboard-inspection", at=page.locator(".rollup-sentence"))

    # From the "closed" figure to exactly the tickets behind it.
    figures = page.get_by_role("region", name=s.t("Headline figures"))
    with page.expect_navigation():
        figures.get_by_role("link", name=re.compile("^" + re.escape(s.t("Closed")) + ":")).click()
    s.check()
    rows = page.locator("table.ticket-table tbody tr")
    expect(rows).to_have_count(2)
    for i in range(2):
        expect(rows.nth(i).locator(".status-badge")).to_have_text(s.t("closed"))
    s.shot("ticket-list", at=page.locator("table.ticket-table"))

    # The ledger and the Word report of this inspection, opened and read.
    s.goto(dashboard, check=False)
    with page.expect_download() as info:
        page.get_by_role("link", name=s.t("Export the ledger (Excel)")).click()
    book = openpyxl.load_workbook(io.BytesIO(info.value.path().read_bytes()))
    sheet = book.worksheets[0]
    cells = [[str(c) if c is not None else "" for c in row]
             for row in sheet.iter_rows(values_only=True)]
    ours = [row for row in cells if any(FIRST in c for c in row)]
    assert len(ours) == 3, cells[:5]
    for name in (mine.edu_unit, mine.fin_unit, mine.hr_unit):
        assert any(name in c for row in ours for c in row), name
    assert info.value.suggested_filename.endswith(".xlsx")

    with page.expect_download() as info:
        page.get_by_role("link", name=s.t("Word report")).click()
    document = Document(io.BytesIO(info.value.path().read_bytes()))
    text = "\n".join(p.text for p in document.paragraphs)
    text += "\n".join(cell.text for table in document.tables
                      for row in table.rows for cell in row.cells)
    assert title in text
    assert FIRST in text
    assert info.value.suggested_filename.endswith(".docx")
