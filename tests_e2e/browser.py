"""A person at a browser: one context per person, with the variant's screen and language,
watching the console and every request, and running the page checks on each page.

Texts are looked up through the application's own compiled catalogs (`Session.t`), so a
journey finds the same words the page shows, in either language.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from babel.support import NullTranslations, Translations
from playwright.sync_api import expect

from tests_e2e.checks import SKIP, PageChecks

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 20_000


#: The focused element, and whether nothing shows it (no outline, no shadow).
FOCUS_STOP = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {invisible: false, html: ''};
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow && style.boxShadow !== 'none';
  return {invisible: !(outline || shadow), html: el.outerHTML.slice(0, 120)};
}"""


#: On a phone, every page the browser loads measures itself (on `load` and a moment later,
#: once scripts have drawn): a page wider than the screen (anything but a wide table that
#: scrolls inside its .table-scroll) is reported as a console message the Session turns
#: into a problem. So point 2 of the issue holds on every page a journey passes through,
#: also those it does not stop to check.
SIDEWAYS_TAG = "[e2e sideways]"
MEASURE_EVERY_PAGE = """(() => {
  if (window.top !== window) return;
  const measure = (when) => {
    const doc = document.documentElement;
    if (!doc || doc.scrollWidth <= doc.clientWidth + 1) return;
    console.error('%s ' + location.pathname + location.search + ' (' + when + '): page is '
      + doc.scrollWidth + 'px wide in a ' + doc.clientWidth + 'px viewport');
  };
  window.addEventListener('load', () => {
    measure('load');
    setTimeout(() => measure('after 800 ms'), 800);
  });
})();""" % SIDEWAYS_TAG


@dataclass(frozen=True)
class Variant:
    name: str
    width: int
    height: int
    lang: str  # "zh_CN" or "en"

    @property
    def is_phone(self) -> bool:
        return self.width < 600

    @property
    def html_lang(self) -> str:
        return "zh-CN" if self.lang == "zh_CN" else "en"


VARIANTS = [
    Variant("desktop-zh", 1366, 768, "zh_CN"),
    Variant("desktop-en", 1366, 768, "en"),
    Variant("phone-zh", 390, 844, "zh_CN"),
    Variant("phone-en", 390, 844, "en"),
]


@cache
def catalog(lang: str):
    if lang == "en":
        return NullTranslations()
    return Translations.load(str(ROOT / "tracker" / "translations"), [lang])


def translate(lang: str, message: str, **values) -> str:
    text = catalog(lang).gettext(message)
    return text % values if values else text


class Session:
    """One person's browser context."""

    def __init__(self, browser, base_url: str, variant: Variant, *, screenshots=None,
                 javascript: bool = True, name: str = "") -> None:
        self.base_url = base_url
        self.variant = variant
        self.screenshots = screenshots
        self.name = name
        self.javascript = javascript
        self.console_errors: list[str] = []
        self.external_requests: list[str] = []
        self.failed_assets: list[str] = []
        self.allowed_console: list[re.Pattern] = []
        options = dict(base_url=base_url, viewport={"width": variant.width,
                                                    "height": variant.height},
                       java_script_enabled=javascript, accept_downloads=True,
                       locale="zh-CN" if variant.lang == "zh_CN" else "en-US",
                       timezone_id="Asia/Shanghai")
        if variant.is_phone:
            options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
        self.context = browser.new_context(**options)
        self.context.set_default_timeout(TIMEOUT_MS)
        host = urlsplit(base_url)
        local = re.escape(f"{host.scheme}://{host.hostname}:{host.port}/")
        # Only what does not go to the app reaches the handler: it is recorded and blocked.
        self.context.route(re.compile(rf"^(?!{local})(?!data:)(?!blob:)"), self._block)
        self.context.on("page", self._watch)
        if variant.is_phone:
            self.context.add_init_script(MEASURE_EVERY_PAGE)
        self.page = self.context.new_page()
        self.checks = PageChecks(variant, base_url)
        self.visited: list[str] = []  # every page the main frame showed (without #fragment)

    # watching -----------------------------------------------------------------------

    def _block(self, route) -> None:
        self.external_requests.append(route.request.url)
        route.abort()

    def _watch(self, page) -> None:
        page.on("framenavigated", lambda frame: self._navigated(page, frame))
        page.on("console", lambda message: self._console(page, message))
        page.on("response", self._response)
        page.on("pageerror", lambda error: self.console_errors.append(
            f"{page.url}: uncaught {error}"))

    def _navigated(self, page, frame) -> None:
        if frame is page.main_frame and frame.url.startswith(self.base_url):
            path = frame.url.removeprefix(self.base_url).split("#")[0] or "/"
            if not self.visited or self.visited[-1] != path:
                self.visited.append(path)

    def _console(self, page, message) -> None:
        if message.type != "error":
            return
        text = message.text
        if text.startswith(SIDEWAYS_TAG):
            if "sideways" not in SKIP:
                self.checks.problems.append("[sideways scroll] " + text.removeprefix(
                    SIDEWAYS_TAG).strip())
            return
        if any(p.search(text) for p in self.allowed_console):
            return
        self.console_errors.append(f"{page.url.removeprefix(self.base_url)}: {text}")

    def _response(self, response) -> None:
        """A style, script, image or icon the page asked for and did not get."""
        if response.status >= 400 and response.request.resource_type != "document":
            self.failed_assets.append(f"{response.status} {response.url}")

    def allow_console(self, pattern: str) -> None:
        """An error the journey provokes on purpose (e.g. the not-found page's 404)."""
        self.allowed_console.append(re.compile(pattern))

    # language -----------------------------------------------------------------------

    def t(self, message: str, **values) -> str:
        return translate(self.variant.lang, message, **values)

    # pages --------------------------------------------------------------------------

    def goto(self, path: str, *, check: bool = True):
        response = self.page.goto(path)
        if check:
            self.check()
        return response

    def check(self, *, axe: bool = True, language: bool = True) -> None:
        """The page checks; axe-core needs the page's scripts to run, so a context
        without JavaScript gets the others only."""
        self.checks.run(self.page, axe=axe and self.javascript, language=language)

    def shot(self, name: str, *, full_page: bool = False, at=None) -> None:
        """A screenshot for docs/screenshots (`make screenshots`); `at`: a locator to
        scroll to first (on a phone the interesting part is often below the menu)."""
        if self.screenshots is not None:
            top = 0
            if at is not None:
                top = at.evaluate("el => el.getBoundingClientRect().top + window.scrollY")
            self.screenshots.take(self.page, name, self.variant, full_page=full_page, top=top)

    def tab_to(self, target, limit: int = 200) -> int:
        """Press Tab until `target` has the focus, as a keyboard user would; every stop on
        the way must show where the focus is. Returns the number of presses."""
        page = self.page
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        for presses in range(1, limit + 1):
            page.keyboard.press("Tab")
            stop = page.evaluate(FOCUS_STOP)
            if stop["invisible"]:
                self.checks.problems.append(
                    f"[focus] {page.url.removeprefix(self.base_url)}: no visible focus on "
                    f"{stop['html']}")
            if target.evaluate("el => el === document.activeElement"):
                return presses
        raise AssertionError(f"{limit} presses of Tab never reached {target}")

    # the main menu: folded behind its button on a phone ---------------------------------

    @property
    def menu(self):
        return self.page.locator("nav.main-nav details.main-menu")

    def open_menu(self):
        """On a phone, press the menu's button if the menu is folded; returns the menu."""
        menu = self.menu
        if self.variant.is_phone and not menu.evaluate("el => el.open"):
            menu.locator("summary").click()
            expect(menu.locator(".main-menu-body")).to_be_visible()
        return menu

    def menu_link(self, name: str):
        """A link of the main menu, opening the menu first on a phone."""
        return self.open_menu().get_by_role("link", name=name, exact=True)

    def login(self, username: str, password: str) -> None:
        """Log in with the keyboard; an English reader picks English first unless the
        browser remembers the choice (the `lang` cookie survives logging out)."""
        page = self.page
        page.goto("/login")
        if self.variant.lang == "en" and page.evaluate(
                "() => document.documentElement.lang") != "en":
            self.check(language=False)  # in Chinese until English is picked
            with page.expect_navigation():
                page.locator(".lang-switch a[hreflang=en]").click()
        self.check()
        page.get_by_label(self.t("User name")).fill(username)
        page.get_by_label(self.t("Password")).fill(password)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        if "/login" in page.url:
            raise AssertionError(f"{username} could not log in: "
                                 f"{page.locator('main').inner_text()[:300]}")

    def logout(self) -> None:
        """Log out from the menu; the login page that follows keeps the chosen language
        (the page checks include <html lang> and untranslated text)."""
        with self.page.expect_navigation():
            self.open_menu().get_by_role("button", name=self.t("Log out")).click()
        assert "/login" in self.page.url, self.page.url
        expect(self.page.locator("main .alert")).to_contain_text(self.t("You have logged out."))
        self.check()

    def flash(self) -> str:
        return " ".join(self.page.locator("main .alert").all_inner_texts())

    def close(self) -> list[str]:
        """Close the context; returns everything found during the journey."""
        found = list(self.checks.problems)
        unchecked = [p for p in dict.fromkeys(self.visited) if p not in self.checks.checked]
        if unchecked and "unchecked" not in SKIP:
            found.append(f"[unchecked] pages shown but never given the page checks: {unchecked}")
        found += [f"[console] {e}" for e in self.console_errors]
        found += [f"[external request] {u}" for u in self.external_requests]
        found += [f"[missing asset] {u}" for u in self.failed_assets]
        self.context.close()
        return found
