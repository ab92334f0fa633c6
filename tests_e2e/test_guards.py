"""The watchers the journeys rely on do catch what they are for: a request leaving the
machine is blocked and recorded, a console error and a missing asset are recorded."""
import pytest
from playwright.sync_api import Error as PlaywrightError

from tests_e2e.browser import VARIANTS

ONE = [VARIANTS[0]]


@pytest.mark.parametrize("variant", ONE, ids=[v.name for v in ONE], indirect=True)
def test_a_request_leaving_the_machine_is_blocked_and_recorded(browser, live_server, variant):
    from tests_e2e.browser import Session

    s = Session(browser, live_server.url, variant)
    try:
        s.page.goto("/login")
        # The app's own CSP refuses a script's request to another host...
        outcome = s.page.evaluate("""async () => {
          try { await fetch('http://beacon.example.invalid/probe'); return 'sent'; }
          catch (e) { return 'blocked'; } }""")
        # ...and what the CSP does not cover (a navigation) the test's guard stops.
        away = s.context.new_page()
        with pytest.raises(PlaywrightError):
            away.goto("http://beacon.example.invalid/away")
        s.page.evaluate("() => console.error('e2e guard probe')")
        s.page.evaluate("""() => new Promise(done => { const img = new Image();
          img.onerror = img.onload = () => done(); img.src = '/static/no-such-file.png'; })""")
    finally:
        found = s.close()
    assert outcome == "blocked"
    assert any("Content Security Policy" in f for f in found), found
    assert any("beacon.example.invalid/away" in f and "[external request]" in f
               for f in found), found
    assert any("e2e guard probe" in f for f in found), found
    assert any("[missing asset] 404" in f and "no-such-file" in f for f in found), found


PHONE = [v for v in VARIANTS if v.is_phone][:1]


@pytest.mark.parametrize("variant", PHONE, ids=[v.name for v in PHONE], indirect=True)
def test_every_page_shown_on_a_phone_is_measured_and_must_be_checked(browser, live_server,
                                                                     variant):
    """A page wider than the phone's screen is reported even when the journey does not stop
    to check it, and a page shown but never checked is reported too."""
    from tests_e2e.browser import Session

    s = Session(browser, live_server.url, variant)
    wide = ("<!doctype html><html lang='zh-CN'><head><meta name='viewport' "
            "content='width=device-width, initial-scale=1'></head><body>"
            "<div style='width:900px'>宽</div></body></html>")
    try:
        s.context.route(f"{live_server.url}/e2e-too-wide",
                        lambda route: route.fulfill(status=200, body=wide,
                                                    content_type="text/html; charset=utf-8"))
        s.page.goto("/e2e-too-wide")
        s.page.wait_for_timeout(1200)  # the second measurement, a moment after load
        s.goto("/login")  # checked: not reported as unchecked
    finally:
        found = s.close()
    assert any(f.startswith("[sideways scroll]") and "/e2e-too-wide" in f
               and "in a 390px viewport" in f for f in found), found
    assert any(f.startswith("[unchecked]") and "/e2e-too-wide" in f
               and "/login" not in f for f in found), found
