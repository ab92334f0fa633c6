"""The words of every notification: a subject and a body per kind, in the recipient's
language (Chinese by default), in the style of an office's circular:
"【临期提醒】城关区：经费投入保障政策未完全落实" / "…整改任务将于2026年11月24日到期（还有3天）".

Each function returns (subject, body) and is called under the recipient's locale.
"""
from dataclasses import dataclass
from datetime import date

from flask import current_app
from werkzeug.routing import BuildError

from tracker.i18n import fmt_date
from tracker.i18n import gettext as _
from tracker.models import Ticket, UrgingLevel

SUBJECT_MAX = 300


@dataclass(frozen=True)
class TicketFacts:
    """What every message about a ticket mentions, read once per ticket."""

    ticket_id: int
    title: str
    unit: str
    deadline: date
    next_review_on: date | None
    person: str
    inspection: str
    document_number: str
    is_long_term: bool

    @property
    def names(self) -> dict[str, str]:
        """What every subject names: "【…】{unit}：{title}"."""
        return {"unit": self.unit, "title": self.title}

    @classmethod
    def of(cls, ticket: Ticket) -> "TicketFacts":
        finding = ticket.finding
        return cls(ticket_id=ticket.id, title=finding.title, unit=ticket.lead_unit.name,
                   deadline=ticket.deadline, next_review_on=ticket.next_review_on,
                   person=ticket.responsible_person or "",
                   inspection=finding.inspection.title,
                   document_number=finding.inspection.document_number or "",
                   is_long_term=ticket.status == "long_term")


def ticket_url(ticket_id: int) -> str | None:
    """Absolute link to the ticket page, when the site's public address is configured."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return None
    adapter = current_app.url_map.bind("localhost")
    try:
        path = adapter.build("tickets.show", {"ticket_id": ticket_id})
    except BuildError:
        path = f"/tickets/{ticket_id}"
    return base + path


def centre_url() -> str | None:
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return None
    return base + current_app.url_map.bind("localhost").build("notifications.index", {})


def _subject(text: str) -> str:
    return str(text)[:SUBJECT_MAX]


def _footer(facts: TicketFacts) -> list[str]:
    lines = []
    if facts.person:
        lines.append(_("Responsible person: %(person)s.", person=facts.person))
    if facts.document_number:
        lines.append(_("Source: %(inspection)s (%(number)s).", inspection=facts.inspection,
                       number=facts.document_number))
    else:
        lines.append(_("Source: %(inspection)s.", inspection=facts.inspection))
    url = ticket_url(facts.ticket_id)
    if url:
        lines.append(_("Details: %(url)s", url=url))
    return lines


def _body(*lines: str, facts: TicketFacts | None = None) -> str:
    parts = [line for line in lines if line]
    if facts is not None:
        parts += _footer(facts)
    return "\n".join(parts)


def level_label(level: UrgingLevel | str) -> str:
    return {
        UrgingLevel.GENERAL: _("general urging"),
        UrgingLevel.IMPORTANT: _("key urging"),
        UrgingLevel.LISTED: _("listed urging"),
    }[UrgingLevel(level)]


# --- reminders ------------------------------------------------------------------------

def due_soon(facts: TicketFacts, days_left: int) -> tuple[str, str]:
    if days_left == 0:
        first = _("The rectification task “%(title)s” led by %(unit)s is due today "
                  "(%(deadline)s).", title=facts.title, unit=facts.unit,
                  deadline=fmt_date(facts.deadline))
    else:
        first = _("The rectification task “%(title)s” led by %(unit)s is due on %(deadline)s "
                  "(%(days)s days left).", title=facts.title, unit=facts.unit,
                  deadline=fmt_date(facts.deadline), days=days_left)
    return (_subject(_("[Due soon] %(unit)s: %(title)s", **facts.names)),
            _body(first, _("Please push the rectification forward and apply for sign-off "
                           "in time."), facts=facts))


def review_due(facts: TicketFacts, days_left: int) -> tuple[str, str]:
    first = _("The long-term task “%(title)s” led by %(unit)s has its next review on "
              "%(date)s (%(days)s days left).", title=facts.title, unit=facts.unit,
              date=fmt_date(facts.next_review_on), days=days_left)
    return (_subject(_("[Review due] %(unit)s: %(title)s", **facts.names)),
            _body(first, _("Please report the results of this stage before the review."),
                  facts=facts))


def overdue(facts: TicketFacts, due: date, days: int) -> tuple[str, str]:
    if facts.is_long_term:
        first = _("The review of the long-term task “%(title)s” led by %(unit)s was due on "
                  "%(date)s and is %(days)s days late.", title=facts.title, unit=facts.unit,
                  date=fmt_date(due), days=days)
    else:
        first = _("The rectification task “%(title)s” led by %(unit)s was due on %(deadline)s "
                  "and is %(days)s days overdue.", title=facts.title, unit=facts.unit,
                  deadline=fmt_date(due), days=days)
    return (_subject(_("[Overdue] %(unit)s: %(title)s", **facts.names)),
            _body(first, _("Please complete the rectification at once, or apply for an "
                           "extension with reasons."), facts=facts))


def escalation_supervisor(facts: TicketFacts, due: date, days: int) -> tuple[str, str]:
    first = _("The rectification task “%(title)s” led by %(unit)s, in your scope, was due on "
              "%(deadline)s and is %(days)s days overdue.", title=facts.title,
              unit=facts.unit, deadline=fmt_date(due), days=days)
    return (_subject(_("[Overdue: please urge] %(unit)s: %(title)s", **facts.names)),
            _body(first, _("Please urge the unit to rectify."), facts=facts))


def escalation_office(facts: TicketFacts, due: date, days: int) -> tuple[str, str]:
    first = _("The rectification task “%(title)s” led by %(unit)s, in your scope, was due on "
              "%(deadline)s and is %(days)s days overdue.", title=facts.title,
              unit=facts.unit, deadline=fmt_date(due), days=days)
    return (_subject(_("[Overdue: escalated] %(unit)s: %(title)s", **facts.names)),
            _body(first, _("Consider issuing an urging notice or listing the task for "
                           "supervision."), facts=facts))


def unacknowledged(facts: TicketFacts, assigned_on: date) -> tuple[str, str]:
    first = _("The rectification task “%(title)s” was assigned to %(unit)s on %(date)s and "
              "has not been signed for yet.", title=facts.title, unit=facts.unit,
              date=fmt_date(assigned_on))
    return (_subject(_("[Not signed for] %(unit)s: %(title)s", **facts.names)),
            _body(first, _("Please sign for it, or decline it with reasons if it is not your "
                           "unit's."), facts=facts))


def report_owed(facts: TicketFacts, since: date, due: date) -> tuple[str, str]:
    first = _("No progress has been reported on “%(title)s” led by %(unit)s since %(since)s; "
              "this month's progress report was due on %(date)s.", title=facts.title,
              unit=facts.unit, since=fmt_date(since), date=fmt_date(due))
    return (_subject(_("[Progress report owed] %(unit)s: %(title)s", **facts.names)),
            _body(first, _("Please report the progress."), facts=facts))


def decision_waiting(facts: TicketFacts, since: date, days: int) -> tuple[str, str]:
    first = _("%(unit)s applied on %(date)s for sign-off of “%(title)s”; it has waited "
              "%(days)s days for a decision.", unit=facts.unit, date=fmt_date(since),
              title=facts.title, days=days)
    return (_subject(_("[Waiting for your decision] %(unit)s: %(title)s", **facts.names)),
            _body(first, _("Please verify it."), facts=facts))


def extension_waiting(facts: TicketFacts, asked_on: date, requested: date,
                      days: int) -> tuple[str, str]:
    first = _("%(unit)s asked on %(date)s to extend “%(title)s” to %(requested)s; the request "
              "has waited %(days)s days for a decision.", unit=facts.unit,
              date=fmt_date(asked_on), title=facts.title, requested=fmt_date(requested),
              days=days)
    return (_subject(_("[Extension waiting] %(unit)s: %(title)s", **facts.names)),
            _body(first, _("Please decide the request."), facts=facts))


# --- urging notices -------------------------------------------------------------------

def urging(facts: TicketFacts, issuer: str, level: UrgingLevel, text: str,
           respond_by: date | None) -> tuple[str, str]:
    subject = _("[%(level)s] %(unit)s: %(title)s", level=level_label(level), **facts.names)
    first = _("%(issuer)s issued a notice of %(level)s on “%(title)s” led by %(unit)s: "
              "%(text)s", issuer=issuer, level=level_label(level), title=facts.title,
              unit=facts.unit, text=text)
    if respond_by:
        then = _("Please acknowledge it and report back by %(date)s.",
                 date=fmt_date(respond_by))
    else:
        then = _("Please acknowledge it and report back.")
    return _subject(subject), _body(first, then, facts=facts)


def urging_unacknowledged(facts: TicketFacts, level: UrgingLevel,
                          issued_on: date) -> tuple[str, str]:
    first = _("The notice of %(level)s issued on %(date)s on “%(title)s” has not been "
              "acknowledged by %(unit)s.", level=level_label(level), date=fmt_date(issued_on),
              title=facts.title, unit=facts.unit)
    return (_subject(_("[Urging not acknowledged] %(unit)s: %(title)s", **facts.names)),
            _body(first, _("Please acknowledge it and report back."), facts=facts))


def urging_acknowledged(facts: TicketFacts, response: str | None) -> tuple[str, str]:
    first = _("%(unit)s acknowledged the urging notice on “%(title)s”.", unit=facts.unit,
              title=facts.title)
    reply = _("Reply: %(text)s", text=response) if response else ""
    return (_subject(_("[Urging acknowledged] %(unit)s: %(title)s", **facts.names)),
            _body(first, reply, facts=facts))


# --- news of workflow events ----------------------------------------------------------

def assigned(facts: TicketFacts) -> tuple[str, str]:
    first = _("The rectification task “%(title)s” was assigned to %(unit)s as lead unit; the "
              "deadline is %(deadline)s.", title=facts.title, unit=facts.unit,
              deadline=fmt_date(facts.deadline))
    return (_subject(_("[New task] %(unit)s: %(title)s", **facts.names)),
            _body(first, _("Please sign for it in time."), facts=facts))


def cooperating(facts: TicketFacts, unit: str) -> tuple[str, str]:
    first = _("%(unit)s is a cooperating unit of the rectification task “%(title)s” led by "
              "%(lead)s; the deadline is %(deadline)s.", unit=unit, title=facts.title,
              lead=facts.unit, deadline=fmt_date(facts.deadline))
    return _subject(_("[New task] %(unit)s: %(title)s", **facts.names)), _body(first, facts=facts)


def declined(facts: TicketFacts, reason: str) -> tuple[str, str]:
    first = _("%(unit)s declined the rectification task “%(title)s”. Reason: %(reason)s",
              unit=facts.unit, title=facts.title, reason=reason)
    return (_subject(_("[Declined] %(unit)s: %(title)s", **facts.names)),
            _body(first, _("Please assign it to the right unit."), facts=facts))


def submitted(facts: TicketFacts) -> tuple[str, str]:
    first = _("%(unit)s applied for sign-off of the rectification task “%(title)s”.",
              unit=facts.unit, title=facts.title)
    return (_subject(_("[To verify] %(unit)s: %(title)s", **facts.names)),
            _body(first, _("Please verify it."), facts=facts))


def verified(facts: TicketFacts) -> tuple[str, str]:
    first = _("The rectification task “%(title)s” led by %(unit)s passed the first-level "
              "verification.", title=facts.title, unit=facts.unit)
    return (_subject(_("[To sign off] %(unit)s: %(title)s", **facts.names)),
            _body(first, _("Please sign it off."), facts=facts))


def returned(facts: TicketFacts, reason: str) -> tuple[str, str]:
    first = _("The application for sign-off of “%(title)s” was returned. Reason: %(reason)s",
              title=facts.title, reason=reason)
    return (_subject(_("[Returned] %(unit)s: %(title)s", **facts.names)),
            _body(first, _("Please continue the rectification and apply again."),
                  facts=facts))


def approved(facts: TicketFacts) -> tuple[str, str]:
    first = _("The rectification task “%(title)s” led by %(unit)s was signed off.",
              title=facts.title, unit=facts.unit)
    return _subject(_("[Signed off] %(unit)s: %(title)s", **facts.names)), _body(first, facts=facts)


def long_term(facts: TicketFacts, goal: str) -> tuple[str, str]:
    first = _("The rectification task “%(title)s” is now a long-term task. Stage goal: "
              "%(goal)s. Next review: %(date)s.", title=facts.title, goal=goal,
              date=fmt_date(facts.next_review_on))
    return _subject(_("[Long-term] %(unit)s: %(title)s", **facts.names)), _body(first, facts=facts)


def extension_requested(facts: TicketFacts, current: date, requested: date,
                        reason: str) -> tuple[str, str]:
    first = _("%(unit)s asks to extend “%(title)s” from %(current)s to %(requested)s. "
              "Reason: %(reason)s", unit=facts.unit, title=facts.title,
              current=fmt_date(current), requested=fmt_date(requested), reason=reason)
    return (_subject(_("[Extension request] %(unit)s: %(title)s", **facts.names)),
            _body(first, _("Please decide the request."), facts=facts))


def extension_decided(facts: TicketFacts, approved_: bool, note: str | None) -> tuple[str, str]:
    if approved_:
        subject = _("[Extension approved] %(unit)s: %(title)s", **facts.names)
        first = _("The extension of “%(title)s” was approved; the deadline is now "
                  "%(deadline)s.", title=facts.title, deadline=fmt_date(facts.deadline))
    else:
        subject = _("[Extension refused] %(unit)s: %(title)s", **facts.names)
        first = _("The extension of “%(title)s” was refused; the deadline stays %(deadline)s.",
                  title=facts.title, deadline=fmt_date(facts.deadline))
    note_line = _("Note: %(note)s", note=note) if note else ""
    return _subject(subject), _body(first, note_line, facts=facts)


def deadline_changed(facts: TicketFacts, old: date | None) -> tuple[str, str]:
    if old is not None:
        first = _("The deadline of “%(title)s” was changed from %(old)s to %(new)s.",
                  title=facts.title, old=fmt_date(old), new=fmt_date(facts.deadline))
    else:
        first = _("The deadline of “%(title)s” is now %(new)s.", title=facts.title,
                  new=fmt_date(facts.deadline))
    return (_subject(_("[Deadline changed] %(unit)s: %(title)s", **facts.names)),
            _body(first, facts=facts))


def cancelled(facts: TicketFacts, reason: str) -> tuple[str, str]:
    first = _("The rectification task “%(title)s” was cancelled. Reason: %(reason)s",
              title=facts.title, reason=reason)
    return _subject(_("[Cancelled] %(unit)s: %(title)s", **facts.names)), _body(first, facts=facts)


def reopened(facts: TicketFacts, reason: str) -> tuple[str, str]:
    first = _("The rectification task “%(title)s” was reopened on a follow-up check. Reason: "
              "%(reason)s. New deadline: %(deadline)s.", title=facts.title, reason=reason,
              deadline=fmt_date(facts.deadline))
    return _subject(_("[Reopened] %(unit)s: %(title)s", **facts.names)), _body(first, facts=facts)


# --- digests --------------------------------------------------------------------------

@dataclass(frozen=True)
class DigestLine:
    unit: str
    new_overdue: int
    waiting: int
    closed: int


def weekly_digest(scope: str, start: date, end: date, lines: list[DigestLine],
                  overdue_total: int) -> tuple[str, str]:
    subject = _("[Weekly digest] %(scope)s, %(start)s to %(end)s", scope=scope,
                start=fmt_date(start), end=fmt_date(end))
    totals = DigestLine("", sum(x.new_overdue for x in lines), sum(x.waiting for x in lines),
                        sum(x.closed for x in lines))
    parts = [_("%(scope)s this week (%(start)s to %(end)s): %(overdue)s newly overdue, "
               "%(waiting)s waiting for verification, %(closed)s signed off; %(total)s "
               "overdue in all.", scope=scope, start=fmt_date(start), end=fmt_date(end),
               overdue=totals.new_overdue, waiting=totals.waiting, closed=totals.closed,
               total=overdue_total)]
    for line in lines:
        parts.append(_("%(unit)s: %(overdue)s newly overdue, %(waiting)s waiting for "
                       "verification, %(closed)s signed off.", unit=line.unit,
                       overdue=line.new_overdue, waiting=line.waiting, closed=line.closed))
    url = centre_url()
    if url:
        parts.append(_("Details: %(url)s", url=url))
    return subject[:SUBJECT_MAX], "\n".join(parts)


def daily_digest(day: date, subjects: list[str]) -> tuple[str, str]:
    subject = _("[Daily digest] %(date)s, %(n)s messages", date=fmt_date(day), n=len(subjects))
    parts = [_("Your notifications of %(date)s:", date=fmt_date(day))]
    parts += [f"{i}. {s}" for i, s in enumerate(subjects, 1)]
    url = centre_url()
    if url:
        parts.append(_("Details: %(url)s", url=url))
    return subject[:SUBJECT_MAX], "\n".join(parts)
