"""A ticket's light, timing and status badge, as every ticket table and the ticket page
show them: the office's words, and nothing a value holds is taken for HTML."""
from types import SimpleNamespace

import flask_babel
import pytest

from tracker.models import TicketStatus
from tracker.views.tickets import Timing
from tracker.views.ui import ticket_light, ticket_status, ticket_timing


@pytest.fixture
def chinese(app):
    with app.test_request_context("/?lang=zh_CN"):
        flask_babel.refresh()
        yield


@pytest.mark.parametrize("timing, html", [
    (Timing("overdue", 3), '<span class="text-danger fw-semibold">逾期3天</span>'),
    (Timing("due_today", 0), '<span class="text-warning-emphasis fw-semibold">今天到期</span>'),
    (Timing("left", 12), "剩余12天"),
    (Timing("waited", 5), '<span class="text-body-secondary">已等待5天</span>'),
    (Timing("none"), '<span class="text-body-secondary">—</span>'),
])
def test_timing_reads_as_the_office_writes_it(chinese, timing, html):
    assert str(ticket_timing(timing)) == html


def test_a_closed_ticket_shows_finished_whatever_its_light(chinese):
    assert str(ticket_light("red", is_open=False)) == \
        '<span class="badge text-bg-secondary">已办结</span>'
    assert "text-bg-danger" in ticket_light("red") and "逾期" in ticket_light("red")


def test_a_declined_ticket_says_it_awaits_reassignment(chinese):
    declined = SimpleNamespace(status=TicketStatus.ASSIGNED, is_declined=True)
    html = str(ticket_status(declined))
    assert html.startswith('<span class="badge rounded-pill status-badge status-assigned">')
    assert html.endswith(' <span class="badge text-bg-dark">已拒签，待重新交办</span>')


def test_values_put_into_the_words_are_escaped(chinese):
    assert str(ticket_timing(Timing("left", "<b>"))) == "剩余&lt;b&gt;天"


def test_a_badge_composed_once_speaks_the_language_of_each_request(app):
    """Badges are kept by value and locale: one composed in Chinese is never shown to a
    request in English, nor the other way round."""
    shown = {}
    for lang in ("zh_CN", "en", "zh_CN", "en"):
        with app.test_request_context(f"/?lang={lang}"):
            flask_babel.refresh()
            app.preprocess_request()
            shown.setdefault(lang, set()).add(str(ticket_light("red")) + str(
                ticket_timing(Timing("overdue", 4))))
    assert shown["zh_CN"] == {'<span class="badge text-bg-danger light-badge">● 逾期</span>'
                              '<span class="text-danger fw-semibold">逾期4天</span>'}
    assert shown["en"] == {'<span class="badge text-bg-danger light-badge">● Overdue</span>'
                           '<span class="text-danger fw-semibold">4 days overdue</span>'}
