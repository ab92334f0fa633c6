"""A ticket's light, timing and status badge, as every ticket table and the ticket page
show them: the office's words, and nothing a value holds is taken for HTML."""
from datetime import date, datetime, timezone
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


# --- a ticket table's rows -----------------------------------------------------------------

#: The row as the ticket table's macro wrote it before `TicketCells` (the reference: Jinja
#: escapes every value it prints).
ROW_TEMPLATE = """{% set t = row.ticket %}{% set href = url_for('tickets.show', ticket_id=t.id) %}\
<td class="tt-no"><a href="{{ href }}">#{{ t.id }}</a></td>\
<td class="ticket-title"><a href="{{ href }}">{{ row.title }}</a>\
<div class="small text-body-secondary">{{ row.inspection_title }}{% if row.document_number %} · {{ row.document_number }}{% endif %}</div></td>\
<td class="tt-lead" data-label="{{ _('Lead unit') }}">{{ row.lead_unit_name }}{% if own_unit_id is not none %}<div class="small text-body-secondary">{{ _('We lead') if t.lead_unit_id == own_unit_id else _('We cooperate') }}</div>{% endif %}</td>\
<td class="tt-coop" data-label="{{ _('Cooperating units') }}">{% if row.cooperating %}{{ row.cooperating|map(attribute='name')|join(list_sep()) }}{% else %}<span class="text-body-secondary">—</span>{% endif %}</td>\
<td class="tt-status">{{ ticket_status(t) }}</td>\
<td class="text-nowrap tt-deadline" data-label="{{ _('Deadline') }}">{{ t.deadline|date }}{% if t.status.value == 'long_term' and t.next_review_on %}<div class="small text-body-secondary">{{ _('Review %(d)s', d=t.next_review_on|date) }}</div>{% endif %}</td>\
<td class="text-nowrap tt-light">{{ ticket_light(row.light, row.is_open) }}<div class="small">{{ ticket_timing(row.timing) }}</div></td>\
<td class="text-nowrap tt-progress" data-label="{{ _('Progress') }}">{{ t.progress_percent }}%</td>"""

ODD = '<b>&"\'x'


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("own_unit_id", [None, 7, 8])
@pytest.mark.parametrize("status, declined, review", [
    (TicketStatus.IN_PROGRESS, False, None),
    (TicketStatus.ASSIGNED, True, None),
    (TicketStatus.LONG_TERM, False, date(2027, 3, 4)),
    (TicketStatus.CLOSED, False, None),
])
def test_a_table_row_is_the_html_its_template_wrote(app, lang, own_unit_id, status, declined,
                                                    review):
    """`TicketCells` writes a row as the macro it replaced did, whatever the names hold:
    every value escaped, in either language."""
    from flask import render_template_string

    from tracker.services.ticket_queries import TableTicket
    from tracker.views.tickets import ListedTicket
    from tracker.views.ui import TicketCells

    ticket = TableTicket(
        id=42, status=status, is_declined=declined, deadline=date(2026, 11, 21),
        next_review_on=review, progress_percent=35, submitted_on=None,
        updated_at=datetime(2026, 11, 1, tzinfo=timezone.utc), lead_unit_id=7,
        title=f"经费{ODD}", inspection_title=f"督导{ODD}", document_number=f"甘{ODD}",
        lead_unit_name=f"教育局{ODD}")
    for cooperating, document in (([], None), ([SimpleNamespace(name=f"财政局{ODD}"),
                                                SimpleNamespace(name="人社局")], "甘〔2026〕1号")):
        row = ListedTicket(ticket, "red", True, False, Timing("overdue", 3), cooperating,
                           ticket.title, ticket.inspection_title, document,
                           ticket.lead_unit_name)
        with app.test_request_context(f"/?lang={lang}"):
            flask_babel.refresh()
            app.preprocess_request()
            expected = render_template_string(ROW_TEMPLATE, row=row, own_unit_id=own_unit_id)
            assert str(TicketCells(own_unit_id)(row)) == expected
            assert "<b>" not in expected
