"""What every page of a journey must satisfy, checked in the browser.

- axe-core (vendored) finds no serious or critical violation;
- every form field has a label (or an accessible name from aria-label/-labelledby);
- at phone width nothing scrolls sideways except inside `.table-scroll` (and every page
  loaded at phone width measures itself too: `browser.MEASURE_EVERY_PAGE`);
- at phone width every ticket's status and traffic light (with their words) are on the
  screen without scrolling, also inside a table that scrolls;
- the main menu is folded behind its "Menu" button on a phone and open on a desktop;
- a status shown by colour also has a word (traffic lights, status badges);
- the page is in the chosen language: <html lang>, and no untranslated interface text
  (labels, buttons, column headers, legends, menu links) in the other language.

Console errors, requests leaving 127.0.0.1 and assets answered with an error are watched
by `browser.Session` for the whole journey, which also reports any page shown but never
checked. A check collects problems instead of stopping the journey, so one run reports
everything; the test fails at its end when any was found.
"""
from __future__ import annotations

import os
import re

#: The vendored axe-core (tracker/static/vendor/axe-core/axe.min.js) as the app serves it.
AXE_URL = "/static/vendor/axe-core/axe.min.js"
PHONE_MAX_WIDTH = 480
#: Kinds of problem not to report (a developer's switch while catalogs are being merged,
#: e.g. E2E_SKIP=untranslated); CI leaves it empty.
SKIP = {k.strip() for k in os.environ.get("E2E_SKIP", "").split(",") if k.strip()}

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 4).map(n => n.target.join(' '))}));
}"""

UNLABELLED_FIELDS = """() => {
  const skip = new Set(['hidden', 'submit', 'button', 'reset', 'image']);
  const out = [];
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.tagName === 'INPUT' && skip.has((el.getAttribute('type') || 'text').toLowerCase())) continue;
    const named = (el.labels && Array.from(el.labels).some(l => l.textContent.trim()))
      || (el.getAttribute('aria-label') || '').trim()
      || (el.getAttribute('aria-labelledby') || '').split(/\\s+/).some(id => {
           const ref = id && document.getElementById(id); return ref && ref.textContent.trim(); })
      || (el.getAttribute('title') || '').trim();
    if (!named) out.push(el.outerHTML.slice(0, 160));
  }
  return out;
}"""

SIDEWAYS_SCROLL = """() => {
  const doc = document.documentElement;
  const width = doc.clientWidth;
  if (doc.scrollWidth <= width + 1) return null;
  // The culprits: elements sticking out on the right of a parent that does not.
  const culprits = [];
  for (const el of document.body.querySelectorAll('*')) {
    // A wide table scrolls inside its .table-scroll; something positioned absolutely
    // in it escapes that box unless the box is its containing block.
    const placed = ['absolute', 'fixed'].includes(getComputedStyle(el).position);
    if (el.closest('.table-scroll') && !placed) continue;
    const box = el.getBoundingClientRect();
    const parent = placed ? {right: 0} : el.parentElement.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 1 && parent.right <= width + 1) {
      culprits.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
        + (typeof el.className === 'string' && el.className.trim()
           ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
        + ' right=' + Math.round(box.right) + ' "' + (el.textContent || '').trim().slice(0, 40) + '"');
    }
    if (culprits.length >= 5) break;
  }
  return {scrollWidth: doc.scrollWidth, width, culprits};
}"""

#: At phone width: a status or a traffic light that the reader would have to scroll
#: sideways to see (off the screen, or hidden to the right in a scrolling table).
STATUS_OFF_SCREEN = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('main .status-badge, main .light-badge')) {
    const box = el.getBoundingClientRect();
    if (!box.width) continue;  // not shown (e.g. a folded section)
    let right = width;
    const scroller = el.closest('.table-scroll');
    if (scroller) right = Math.min(right, scroller.getBoundingClientRect().right);
    if (box.left < -1 || box.right > right + 1) {
      const row = el.closest('tr');
      out.push(el.textContent.trim() + ' at x=' + Math.round(box.left) + '..' + Math.round(box.right)
        + (row ? ' in "' + row.textContent.trim().replace(/\\s+/g, ' ').slice(0, 40) + '"' : ''));
    }
    if (out.length >= 5) break;
  }
  return out;
}"""

#: The main menu of a signed-in page: folded behind a visible "Menu" button on a phone,
#: every link shown and no button on a desktop.
MAIN_MENU = """(phone) => {
  const nav = document.querySelector('nav.main-nav');
  if (!nav) return ['no main navigation'];
  const links = Array.from(nav.querySelectorAll('.navbar-nav:not(.lang-switch) .nav-link'));
  if (!links.length) return [];  // signed out: the language switch only
  const menu = nav.querySelector('details.main-menu');
  if (!menu) return ['the menu links are not in a folding menu (details.main-menu)'];
  const button = menu.querySelector(':scope > summary');
  const shown = el => el.checkVisibility();
  const out = [];
  if (phone) {
    if (!button || !shown(button)) out.push('no menu button on a phone');
    if (menu.open) out.push('the menu is open when the page loads');
    else if (links.some(shown)) out.push('menu links shown while the menu is folded');
  } else {
    if (button && shown(button)) out.push('a menu button on a desktop');
    if (!links.every(shown)) out.push('menu links hidden on a desktop');
  }
  return out;
}"""

#: Elements whose colour tells a status: each must also say it in words.
COLOUR_ONLY = """() => {
  const sel = '.light-badge, .status-badge, .badge.text-bg-danger, .badge.text-bg-warning, '
    + '.badge.text-bg-success, [class*="light-red"], [class*="light-yellow"], [class*="light-green"]';
  const out = [];
  for (const el of document.querySelectorAll(sel)) {
    if (el.closest('.notification-bell, .nav-tabs, .nav-pills')) continue;  // counts, not status
    const text = (el.textContent || '').replace(/[\\s●○•\\u25CF]+/g, '');
    // A bare number is a count: fine where a column header or a label names it.
    const named = el.closest('td, a[aria-label], [title]') || el.getAttribute('aria-label');
    if (!text || (/^[\\d+%]+$/.test(text) && !named)) out.push(el.outerHTML.slice(0, 140));
  }
  return out;
}"""

#: Interface text: what the application itself writes, not the data it shows.
INTERFACE_TEXT = """() => {
  const sel = 'label, button, th[scope=col], legend, .nav-link, .btn, .form-label, '
    + '.card-title, caption, .page-link, summary';
  const out = [];
  for (const el of document.querySelectorAll(sel)) {
    if (el.closest('[lang]') && el.closest('[lang]') !== document.documentElement) continue;
    // Data, not interface: options, the user's name, breadcrumbs, notification subjects
    // (written in the language of the moment they were sent).
    if (el.closest('[data-e2e-data], select, .navbar-text, .breadcrumb, .notification-open')) continue;
    if (!el.offsetParent && el.tagName !== 'CAPTION') continue;  // not shown
    let text = (el.innerText || el.textContent || '').trim();
    text = text.replace(/[“"「『][^”"」』]*[”"」』]/g, ' ');  // quoted data (file names)
    if (text) out.push(text.slice(0, 120));
  }
  return out;
}"""

#: Latin words that are the same in Chinese interfaces (formats, brands, units).
LATIN_OK = {
    "excel", "word", "pdf", "zip", "csv", "ofd", "docx", "doc", "xlsx", "xls", "pptx", "ppt",
    "jpg", "jpeg", "png", "txt", "english", "kb", "mb", "gb", "ctrl", "mac", "cmd", "api",
    "url", "http", "https", "id", "no", "ok", "ip", "sms", "webhook", "email", "e-mail",
}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")
CJK = re.compile(r"[\u3400-\u9fff]")


class PageChecks:
    """Runs the checks on a page and keeps what they found."""

    def __init__(self, variant, base_url: str) -> None:
        self.variant = variant
        self.base_url = base_url
        self.problems: list[str] = []
        self.pages_checked = 0
        self.axe_runs = 0
        self.checked: set[str] = set()  # the pages checked (path and query)

    def _add(self, page, kind: str, detail) -> None:
        if kind.split()[0] in SKIP:
            return
        self.problems.append(f"[{kind}] {page.url.removeprefix(self.base_url)}: {detail}")

    def run(self, page, *, axe: bool = True, language: bool = True) -> None:
        """`language=False`: a page shown in the other language on purpose (the login
        page where an English reader picks English)."""
        page.wait_for_load_state("load")
        self.pages_checked += 1
        self.checked.add(page.url.removeprefix(self.base_url).split("#")[0] or "/")
        if language:
            self.language(page)
        self.labels(page)
        self.colour(page)
        if self.variant.width <= PHONE_MAX_WIDTH:
            self.sideways(page)
            self.status_on_screen(page)
        self.main_menu(page)
        if axe:
            self.axe(page)

    def axe(self, page) -> None:
        self.axe_runs += 1
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            # The app serves axe from its vendored copy ('self' for the CSP); an inline
            # copy (add_script_tag(path=...)) would be refused by script-src.
            page.add_script_tag(url=AXE_URL)
        for v in page.evaluate(RUN_AXE):
            self._add(page, "axe " + v["impact"], f"{v['id']}: {v['help']} at {v['nodes']}")

    def labels(self, page) -> None:
        for html in page.evaluate(UNLABELLED_FIELDS):
            self._add(page, "label", f"field without a label: {html}")

    def sideways(self, page) -> None:
        found = page.evaluate(SIDEWAYS_SCROLL)
        if found:
            self._add(page, "sideways scroll",
                      f"page is {found['scrollWidth']}px wide in a {found['width']}px "
                      f"viewport; widest: {found['culprits']}")

    def status_on_screen(self, page) -> None:
        for where in page.evaluate(STATUS_OFF_SCREEN):
            self._add(page, "status off-screen", f"status out of sight at "
                                                 f"{self.variant.width}px: {where}")

    def main_menu(self, page) -> None:
        for problem in page.evaluate(MAIN_MENU, self.variant.width <= PHONE_MAX_WIDTH):
            self._add(page, "menu", problem)

    def colour(self, page) -> None:
        for html in page.evaluate(COLOUR_ONLY):
            self._add(page, "colour only", f"status without a word: {html}")

    def language(self, page) -> None:
        lang = page.evaluate("() => document.documentElement.lang")
        if lang != self.variant.html_lang:
            self._add(page, "language", f"<html lang={lang!r}>, expected "
                                        f"{self.variant.html_lang!r}")
        for text in page.evaluate(INTERFACE_TEXT):
            if self.variant.lang == "en":
                if CJK.search(text):
                    self._add(page, "untranslated", f"Chinese in an English page: {text!r}")
            else:
                words = [w for w in LATIN_WORD.findall(text) if w.lower() not in LATIN_OK]
                if words:
                    self._add(page, "untranslated", f"English in a Chinese page: {text!r}")
