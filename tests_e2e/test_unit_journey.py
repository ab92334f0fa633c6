"""A unit user (责任单位经办人) works through the unit's tickets: the overdue one stands out
in red with a word, a new one is acknowledged, progress is written, a report with a
Chinese file name is uploaded and listed, and the ticket is submitted for sign-off."""
import re
from urllib.parse import unquote

from playwright.sync_api import expect

from tests_e2e.files import small_pdf
from tests_e2e.seed import NEW_TITLE, OVERDUE_TITLE, PASSWORD, REQUIRED_EVIDENCE

REPORT_NAME = "整改报告（第二版）.pdf"


def colour_of(locator) -> tuple[int, int, int]:
    value = locator.evaluate("el => getComputedStyle(el).backgroundColor")
    r, g, b = (int(n) for n in re.findall(r"\d+", value)[:3])
    return r, g, b


def test_unit_user_acknowledges_reports_uploads_and_submits(open_session, mine):
    s = open_session("unit")
    page = s.page
    s.login(mine.edu, PASSWORD)
    assert page.url.endswith("/my"), page.url
    s.check()
    s.shot("my-tickets")

    # The keyboard's first stop skips the menu.
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.textContent.trim()")
    assert focused == s.t("Skip to main content"), focused

    # The overdue ticket: a red light that also says "overdue", and by how many days.
    overdue_row = page.locator("tr", has_text=OVERDUE_TITLE)
    light = overdue_row.locator(".light-badge")
    expect(light).to_contain_text(s.t("Overdue"))
    r, g, b = colour_of(light)
    assert r > 150 and g < 110 and b < 110, f"overdue light is not red: {(r, g, b)}"
    expect(overdue_row).to_contain_text(s.t("%(n)s days overdue", n=10))

    # The new ticket waits in "to acknowledge"; open it.
    waiting = page.locator("#group-acknowledge")
    expect(waiting).to_contain_text(NEW_TITLE)
    with page.expect_navigation():
        waiting.get_by_role("link", name=NEW_TITLE).first.click()
    assert page.url.endswith(f"/tickets/{mine.new_ticket}")
    s.check()
    deadline = page.locator(".ticket-facts dt").filter(
        has_text=re.compile("^" + re.escape(s.t("Deadline")) + "$")).locator(
        "xpath=following-sibling::dd[1]").inner_text()
    date_form = r"\d{4}年\d{1,2}月\d{1,2}日" if s.variant.lang == "zh_CN" else r"[A-Z][a-z]{2} \d{1,2}, \d{4}"
    assert re.search(date_form, deadline), f"deadline not in the locale's form: {deadline!r}"

    # Acknowledge with the keyboard alone: Tab to the button, Enter.
    acknowledge = page.locator("#action-acknowledge").get_by_role("button")
    s.tab_to(acknowledge)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("main .alert-success")).to_contain_text(
        s.t("Acknowledged. The ticket is now your unit's to rectify."))
    expect(page.locator("header .status-badge")).to_have_text(s.t("in progress"))
    s.check()

    # Progress.
    progress = page.locator("#action-progress")
    progress.get_by_label(s.t("What has been done")).fill(
        "已召开专题会议，制定课后服务经费保障办法，经费已列入年度预算。")
    progress.get_by_label(s.t("Progress (%)")).fill("80")
    with page.expect_navigation():
        progress.get_by_role("button", name=s.t("Save progress")).click()
    expect(page.locator("main .alert-success")).to_contain_text(s.t("Progress recorded."))
    expect(page.locator("#progress-updates")).to_contain_text("课后服务经费保障办法")
    s.check()

    # Evidence with a Chinese file name, for the item the problem requires.
    panel = page.locator("#evidence")
    expect(panel.locator(".evidence-required")).to_contain_text(REQUIRED_EVIDENCE)
    upload = panel.locator("form[data-evidence-upload]")
    expect(upload.get_by_label(s.t("Required item it covers"))).to_have_value(REQUIRED_EVIDENCE)
    upload.get_by_label(s.t("Files")).set_input_files(
        {"name": REPORT_NAME, "mimeType": "application/pdf", "buffer": small_pdf()})
    upload.get_by_role("button", name=s.t("Upload"), exact=True).click()
    listed = panel.locator(".evidence-name a", has_text=REPORT_NAME)
    expect(listed).to_be_visible()
    expect(panel.locator(".evidence-required")).to_contain_text(s.t("present"))
    s.check()
    download = page.request.get(listed.get_attribute("href"))
    assert download.ok
    assert download.body().startswith(b"%PDF-")
    assert REPORT_NAME in unquote(download.headers["content-disposition"])

    # Submit for sign-off and see the result.
    with page.expect_navigation():
        page.locator("#action-submit").get_by_role("button").click()
    expect(page.locator("main .alert-success")).to_contain_text(s.t("Submitted for sign-off."))
    expect(page.locator("header .status-badge")).to_have_text(s.t("submitted"))
    expect(page.locator("#history")).to_contain_text(s.t("Submitted for sign-off"))
    s.check()
    s.shot("ticket-submitted")
    s.goto("/my")
    expect(page.locator("#group-waiting")).to_contain_text(NEW_TITLE)
    expect(page.locator("#group-acknowledge")).not_to_contain_text(NEW_TITLE)
