"""A unit user who types another unit's ticket address learns nothing: the page says
"not found", as for a ticket that does not exist, and shows none of that ticket."""
from playwright.sync_api import expect

from tests_e2e.seed import OTHER_UNIT_TITLE, PASSWORD


def test_unit_user_typing_another_units_ticket_url_gets_not_found(open_session, mine):
    s = open_session("unit")
    s.allow_console(r"status of 404")  # the browser logs the 404 it was sent
    s.login(mine.edu, PASSWORD)
    s.check()
    response = s.goto(f"/tickets/{mine.fin_ticket}")
    assert response.status == 404
    main = s.page.locator("main")
    expect(main.locator("h1")).to_have_text("404")
    expect(main).to_contain_text(s.t("Ticket not found."))
    expect(main).not_to_contain_text(OTHER_UNIT_TITLE)
    expect(main).not_to_contain_text(mine.fin_unit)
    assert OTHER_UNIT_TITLE not in s.page.title()
    s.shot("not-found")

    # The same answer as for a ticket that has never existed.
    missing = s.goto("/tickets/999999")
    assert missing.status == 404
    expect(main).to_contain_text(s.t("Ticket not found."))
    with s.page.expect_navigation():
        main.get_by_role("link", name=s.t("Back to the start page")).click()
    assert s.page.url.endswith("/my")
