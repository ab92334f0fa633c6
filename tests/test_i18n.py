"""Both catalogs are complete, and no template shows text that bypasses them."""
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import flask_babel
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "tracker" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def _not_hidden(directory: str) -> bool:
    """The folders `make messages` reads (scripts/sync_catalogs.py): all but hidden ones.
    Babel's default would also skip those starting with "_", such as templates/_partials."""
    return not Path(directory).name.startswith(".")


@cache
def source_msgids() -> frozenset[str]:
    ids = set()
    for sub, method in (("tracker", "python"), ("templates", "jinja2")):
        pattern = "**.py" if method == "python" else "**.html"
        for _file, _line, message, _comments, _ctx in extract_from_dir(
                ROOT / sub, method_map=[(pattern, method)], keywords=KEYWORDS,
                directory_filter=_not_hidden):
            ids.add(message[0] if isinstance(message, tuple) else message)
    return frozenset(ids)


def catalog(locale: str):
    with (CATALOGS / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_catalog_has_every_message_of_the_sources(locale):
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog(locale) if m.id}
    missing = sorted(source_msgids() - translated)
    assert missing == [], f"run `make messages` and translate: {missing[:20]}"


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_message_of_the_catalog_is_written_out_in_the_sources(locale):
    """A message the extractor cannot see (translated through a variable) is dropped from
    the catalog by the next `make messages`, and then shows in English."""
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog(locale) if m.id}
    unseen = sorted(translated - source_msgids())
    assert unseen == [], f"translated, but not found by `make messages`: {unseen[:20]}"


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_catalog_has_no_empty_translation(locale):
    empty = [m.id for m in catalog(locale) if m.id and not (
        m.string if isinstance(m.string, str) else all(m.string))]
    assert empty == []


def test_chinese_catalog_is_chinese():
    untranslated = [m.id for m in catalog("zh") if m.id and isinstance(m.string, str)
                    and re.search(r"[A-Za-z]{3,}", m.id) and m.string == m.id]
    assert untranslated == []


class _TextCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code", "pre"):
            self._skip += 1
        for name, value in attrs:
            if name in ("title", "placeholder", "aria-label", "alt") and value:
                self.texts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code", "pre") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.texts.append(data)


JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)
WORDY = re.compile(r"[A-Za-z]{2,}|[\u4e00-\u9fff]")


@pytest.mark.parametrize("template", sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "templates").rglob("*.html")))
def test_template_holds_no_bare_text(template):
    source = JINJA.sub(" ", (ROOT / template).read_text(encoding="utf-8"))
    collector = _TextCollector()
    collector.feed(source)
    bare = [t.strip() for t in collector.texts if WORDY.search(t)]
    assert bare == []


def test_pages_speak_chinese_by_default_and_english_when_chosen(client):
    assert "登录" in client.get("/login").get_data(as_text=True)
    assert "Log in" in client.get("/login?lang=en").get_data(as_text=True)


def _html_lang(response) -> str:
    found = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    return found.group(1) if found else ""


def test_the_chosen_language_is_kept_in_a_long_lived_cookie_of_its_own(client, app):
    response = client.get("/login?lang=en")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("lang="))
    assert cookie.startswith("lang=en;")
    assert "Max-Age=31536000" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # Without the session (expired, cleared), the cookie alone still says English.
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    flask_babel.refresh()
    assert _html_lang(client.get("/login")) == "en"


def test_logging_out_keeps_the_chosen_language_on_the_login_page(client, world, login):
    login("unit_k1")
    client.get("/my?lang=en")
    flask_babel.refresh()
    response = client.post("/logout", follow_redirects=True)
    assert _html_lang(response) == "en"
    assert "You have logged out." in response.get_data(as_text=True)
    assert "Log in" in response.get_data(as_text=True)
    flask_babel.refresh()
    assert _html_lang(client.get("/login")) == "en"
    # Chinese chosen back: the next logout keeps Chinese.
    login("unit_k1")
    client.get("/my?lang=zh_CN")
    flask_babel.refresh()
    assert _html_lang(client.post("/logout", follow_redirects=True)) == "zh-CN"


def test_a_language_cookie_of_another_value_is_ignored(client):
    client.set_cookie("lang", "fr")
    assert _html_lang(client.get("/login")) == "zh-CN"


def test_labels_are_translated_into_the_language_in_force_when_shown(app):
    # The label tables are built once at import; each label must still follow the
    # request's language, and a notification rendered for a user of another language.
    from tracker.models import Severity, TicketStatus
    from tracker.services import workflow
    from tracker.views import dashboard, ui

    with app.test_request_context("/?lang=zh_CN"):
        flask_babel.refresh()
        chinese = (workflow.status_label(TicketStatus.IN_PROGRESS),
                   ui.severity_label(Severity.SERIOUS), dashboard.light_label("red"))
        with flask_babel.force_locale("en"):
            english = (workflow.status_label(TicketStatus.IN_PROGRESS),
                       ui.severity_label(Severity.SERIOUS), dashboard.light_label("red"))
    assert chinese == ("整改中", "较重", "逾期")
    assert english == ("in progress", "Serious", "Overdue")


def test_an_unknown_action_is_shown_as_it_is(app):
    from tracker.services import workflow

    with app.test_request_context("/"):
        assert workflow.action_label("submit") == "提交销号申请"
        assert workflow.action_label("no-such-action") == "no-such-action"


def test_messages_rendered_in_bulk_speak_the_language_asked_for_and_then_the_requests(app):
    # `rendering` looks the translations up once for many messages: inside it, the words
    # and dates are those of its language; after it, those of the request again.
    from datetime import date

    from tracker import i18n

    with app.test_request_context("/?lang=zh_CN"):
        flask_babel.refresh()
        with i18n.rendering("en"):
            english = (i18n.gettext("Overdue"), i18n.gettext("%(n)s other units", n=3),
                       i18n.fmt_date(date(2026, 11, 21)))
        chinese = (i18n.gettext("Overdue"), i18n.gettext("%(n)s other units", n=3),
                   i18n.fmt_date(date(2026, 11, 21)))
        others = flask_babel.gettext("%(n)s other units", n=3)
    assert english == ("Overdue", "3 other units", "Nov 21, 2026")
    assert chinese == ("逾期", others, "2026年11月21日")
    assert others != english[1]
