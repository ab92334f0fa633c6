"""With JavaScript switched off (old browsers, locked-down office PCs) the pages still read
and the main forms still post: log in, the lists, the ticket, progress, evidence."""
from playwright.sync_api import expect

from tests_e2e.files import small_pdf
from tests_e2e.seed import OTHER_UNIT_TITLE, PASSWORD

FILE_NAME = "经费拨付凭证（2026年）.pdf"


def test_pages_read_and_forms_post_without_javascript(open_session, mine):
    s = open_session("no-js", javascript=False)
    page = s.page
    s.login(mine.fin, PASSWORD)
    expect(page.locator("#group-acknowledge")).to_contain_text(OTHER_UNIT_TITLE)
    s.check()

    s.goto("/tickets", check=False)
    expect(page.locator("table.ticket-table")).to_contain_text(OTHER_UNIT_TITLE)
    s.check()

    s.goto(f"/tickets/{mine.fin_ticket}", check=False)
    expect(page.locator("h1")).to_contain_text(OTHER_UNIT_TITLE)
    expect(page.locator("main")).to_contain_text(mine.fin_unit)
    s.check()

    progress = page.locator("#action-progress")
    progress.get_by_label(s.t("What has been done")).fill("已将教育经费预算执行情况报县政府常务会议审议。")
    progress.get_by_label(s.t("Progress (%)")).fill("30")
    with page.expect_navigation():
        progress.get_by_role("button", name=s.t("Save progress")).click()
    expect(page.locator("main .alert-success")).to_contain_text(s.t("Progress recorded."))
    expect(page.locator("#progress-updates")).to_contain_text("常务会议")
    expect(page.locator("header .status-badge")).to_have_text(s.t("in progress"))

    upload = page.locator("form[data-evidence-upload]")
    upload.get_by_label(s.t("Files")).set_input_files(
        {"name": FILE_NAME, "mimeType": "application/pdf", "buffer": small_pdf()})
    with page.expect_navigation():
        upload.get_by_role("button", name=s.t("Upload"), exact=True).click()
    expect(page.locator("#evidence .evidence-name a", has_text=FILE_NAME)).to_be_visible()
    s.check()
