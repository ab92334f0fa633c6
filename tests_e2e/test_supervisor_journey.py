"""A supervisor (督学) watches the county: the overdue and the near-due items, each with its
light and its word; decides a ticket of an inspection whose chain lets supervisors sign
off: returns it with a reason, the unit rectifies and resubmits, the supervisor signs off."""
import re

from playwright.sync_api import expect

from tests_e2e.seed import NEAR_TITLE, OVERDUE_TITLE, PASSWORD, SUBMITTED_TITLE
from tests_e2e.test_unit_journey import colour_of

RETURN_REASON = "佐证材料不全：缺少周转宿舍竣工验收报告，请补充后重新申请销号。"


def headline(s, label: str):
    """The headline figure of the dashboard named `label` (a link to its list)."""
    figures = s.page.get_by_role("region", name=s.t("Headline figures"))
    return figures.get_by_role("link", name=re.compile("^" + re.escape(label) + r":"))


def test_supervisor_returns_then_signs_off_after_the_unit_resubmits(open_session, mine):
    sup = open_session("supervisor")
    page = sup.page
    sup.login(mine.supervisor, PASSWORD)
    sup.check()
    sup.shot("dashboard-supervisor")

    # Overdue items of the scope, from the dashboard's figure to the list behind it.
    with page.expect_navigation():
        headline(sup, sup.t("Overdue")).click()
    assert "/tickets" in page.url
    sup.check()
    row = page.locator("tr", has_text=OVERDUE_TITLE)
    expect(row.locator(".light-badge")).to_contain_text(sup.t("Overdue"))
    expect(page.locator("tr", has_text=NEAR_TITLE)).to_have_count(0)

    page.go_back()
    with page.expect_navigation():
        headline(sup, sup.t("Near due")).click()
    sup.check()
    near = page.locator("tr", has_text=NEAR_TITLE).locator(".light-badge")
    expect(near).to_contain_text(sup.t("Near due"))
    r, g, b = colour_of(near)
    assert r > 200 and g > 150 and b < 80, f"near-due light is not yellow: {(r, g, b)}"
    expect(page.locator("tr", has_text=OVERDUE_TITLE)).to_have_count(0)

    # The ticket waiting for a decision: open it from the queue and return it.
    with page.expect_navigation():
        sup.menu_link(sup.t("Awaiting my decision")).click()
    sup.check()
    with page.expect_navigation():
        page.locator("tr", has_text=SUBMITTED_TITLE).get_by_role(
            "link", name=sup.t("Decide")).click()
    assert f"/tickets/{mine.submitted_ticket}" in page.url
    sup.check()
    returning = page.locator("#action-return")
    returning.get_by_label(sup.t("Reason for returning")).fill(RETURN_REASON)
    with page.expect_navigation():
        returning.get_by_role("button", name=sup.t("Return")).click()
    expect(page.locator("main .alert-success")).to_contain_text(
        sup.t("Returned to the unit with your reason."))
    expect(page.locator("header .status-badge")).to_have_text(sup.t("returned"))
    sup.check()

    # The unit finds it returned, reads why, rectifies and submits again.
    unit = open_session("unit")
    unit.login(mine.hr, PASSWORD)
    unit.check()
    returned = unit.page.locator("#group-returned")
    expect(returned).to_contain_text(SUBMITTED_TITLE)
    with unit.page.expect_navigation():
        returned.get_by_role("link", name=SUBMITTED_TITLE).first.click()
    unit.check()
    expect(unit.page.locator("main .alert-warning")).to_contain_text(RETURN_REASON)
    progress = unit.page.locator("#action-progress")
    progress.get_by_label(unit.t("What has been done")).fill(
        "已补充周转宿舍竣工验收报告和入住情况统计表。")
    with unit.page.expect_navigation():
        progress.get_by_role("button", name=unit.t("Save progress")).click()
    with unit.page.expect_navigation():
        unit.page.locator("#action-submit").get_by_role("button").click()
    expect(unit.page.locator("header .status-badge")).to_have_text(unit.t("submitted"))
    unit.check()

    # The supervisor signs it off.
    sup.goto(f"/tickets/{mine.submitted_ticket}")
    expect(page.locator("#progress-updates")).to_contain_text("竣工验收报告")
    approving = page.locator("#action-approve")
    approving.get_by_label(sup.t("Comment (optional)")).fill("经核查，整改到位，同意销号。")
    with page.expect_navigation():
        approving.get_by_role("button", name=sup.t("Sign off")).click()
    expect(page.locator("main .alert-success")).to_contain_text(
        sup.t("Signed off: the ticket is closed."))
    expect(page.locator("header .status-badge")).to_have_text(sup.t("closed"))
    sup.check()
    sup.shot("ticket-closed")
