"""A walk through the demo world (`flask load-demo`, what `make run` shows) as its people:
every page passes the page checks, and the key pages are photographed for the README
(`make screenshots`)."""
import pytest
from playwright.sync_api import expect

DEMO_PASSWORD = "demo-2026"


def test_demo_world_is_loaded(prepared):
    assert prepared.demo_loaded, "flask load-demo failed:\n" + prepared.demo_output


@pytest.fixture
def demo(prepared):
    if not prepared.demo_loaded:
        pytest.skip("no demo data (see test_demo_world_is_loaded)")


def test_demo_pages_of_office_unit_and_supervisor(open_session, demo):
    s = open_session("visitor")
    page = s.page
    s.goto("/login?lang=en" if s.variant.lang == "en" else "/login")
    expect(page.locator("main")).to_contain_text("unit_a")
    s.shot("login")

    s.login("office", DEMO_PASSWORD)
    assert page.url.endswith("/dashboard")
    s.check()
    page.locator("#dashboard-charts svg").first.wait_for()
    page.wait_for_timeout(1200)  # the charts' own drawing animation
    s.shot("dashboard", full_page=not s.variant.is_phone)
    s.goto("/tickets")
    s.shot("tickets")
    overdue = page.locator("table.ticket-table tbody tr", has=page.locator(".light-badge",
                                                                          has_text=s.t("Overdue")))
    expect(overdue.first).to_be_visible()
    with page.expect_navigation():
        overdue.first.locator("a").first.click()
    s.check()
    s.shot("ticket")
    s.goto("/queue")
    s.goto("/inspections")
    with page.expect_navigation():
        page.locator("main table a").first.click()
    s.check()
    s.shot("inspection")
    s.goto("/exports")
    s.goto("/dashboard/print")
    s.logout()

    s.login("unit_a", DEMO_PASSWORD)
    assert page.url.endswith("/my")
    s.check()
    s.shot("my-tickets-demo")
    s.goto("/notifications")
    s.logout()

    s.login("supervisor", DEMO_PASSWORD)
    s.check()
    s.goto("/queue")
