"""The main menu on a phone folds behind a "Menu" button (a <details> element): the button
is named in the page's language, says whether the menu is open, and opens with the
keyboard, with or without JavaScript; on a desktop every link is shown and no button."""
import re

from playwright.sync_api import expect

from tests_e2e.seed import PASSWORD

TOGGLE = "nav.main-nav details.main-menu > summary"


def accessibility_of(page, selector: str) -> dict:
    """What Chromium tells a screen reader about the element: role, name, expanded."""
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        ax = cdp.send("Accessibility.getPartialAXTree",
                      {"nodeId": node, "fetchRelatives": False})["nodes"][0]
    finally:
        cdp.detach()
    properties = {p["name"]: p["value"].get("value") for p in ax.get("properties", [])}
    return {"role": ax["role"]["value"], "name": ax.get("name", {}).get("value", ""),
            "expanded": properties.get("expanded")}


def menu_links(s):
    return s.menu.locator(".navbar-nav:not(.lang-switch) .nav-link")


def test_menu_folds_on_a_phone_and_works_with_the_keyboard(open_session, mine, variant):
    s = open_session("unit")
    page = s.page
    s.login(mine.edu, PASSWORD)
    s.check()
    toggle = page.locator(TOGGLE)
    links = menu_links(s)
    if not variant.is_phone:
        expect(toggle).to_be_hidden()
        for i in range(links.count()):
            expect(links.nth(i)).to_be_visible()
        return

    expect(toggle).to_be_visible()
    # Its name: "Menu", then the unread notifications' count when there are any.
    expect(toggle).to_have_accessible_name(re.compile("^" + re.escape(s.t("Menu")) + r"(\s|$)"))
    folded = accessibility_of(page, TOGGLE)
    assert folded["name"].startswith(s.t("Menu")) and folded["expanded"] is False, folded
    expect(links.first).to_be_hidden()

    # Tab to the button, Enter: the menu opens and says so.
    s.tab_to(toggle)
    page.keyboard.press("Enter")
    expect(links.first).to_be_visible()
    assert accessibility_of(page, TOGGLE)["expanded"] is True
    s.shot("menu-open")
    # Escape folds it again and leaves the focus on the button.
    page.keyboard.press("Escape")
    expect(links.first).to_be_hidden()
    assert page.evaluate("() => document.activeElement.tagName") == "SUMMARY"

    # Space opens it too; Tab goes on into its links; Enter follows one.
    page.keyboard.press("Space")
    target = s.menu.get_by_role("link", name=s.t("All our tickets"), exact=True)
    expect(target).to_be_visible()
    s.tab_to(target)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/tickets"), page.url
    s.check()  # the next page starts with the menu folded


def test_menu_works_without_javascript(open_session, mine, variant):
    s = open_session("no-js", javascript=False)
    page = s.page
    s.login(mine.fin, PASSWORD)
    s.check()
    links = menu_links(s)
    target = s.menu.get_by_role("link", name=s.t("All our tickets"), exact=True)
    if variant.is_phone:
        expect(links.first).to_be_hidden()
        s.tab_to(page.locator(TOGGLE))
        page.keyboard.press("Enter")  # the browser's own <details>: no script needed
        expect(links.first).to_be_visible()
    else:
        expect(page.locator(TOGGLE)).to_be_hidden()
    s.tab_to(target)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/tickets"), page.url
    s.check()
    s.logout()
