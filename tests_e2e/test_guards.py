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
