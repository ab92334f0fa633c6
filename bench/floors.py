"""The floor of each roll-up: the same numbers as `rollup.summarize`, written as the bare
SQL aggregate a person would type, run in the same session. The benchmark reports the
roll-up's time beside it and checks that both give the same numbers."""
from datetime import date, timedelta

from sqlalchemy import text

from tracker.extensions import db

TICKETS = """
SELECT {key}
  count(*) AS total,
  sum(CASE WHEN status IN ('assigned','in_progress','returned','long_term')
            AND (CASE WHEN status = 'long_term' THEN coalesce(next_review_on, deadline)
                 ELSE deadline END) < :today THEN 1 ELSE 0 END) AS overdue,
  sum(CASE WHEN status IN ('assigned','in_progress','returned','long_term')
            AND (CASE WHEN status = 'long_term' THEN coalesce(next_review_on, deadline)
                 ELSE deadline END) BETWEEN :today AND :near THEN 1 ELSE 0 END) AS near_due,
  sum(CASE WHEN status = 'closed' AND submitted_on > deadline_at_submission
           THEN 1 ELSE 0 END) AS closed_late,
  sum(CASE WHEN status = 'closed' THEN 1 ELSE 0 END) AS closed,
  sum(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled,
  sum(CASE WHEN status NOT IN ('closed','cancelled') AND status <> 'long_term'
            AND timeline <> 'long_term' AND coalesce(planned_completion_on, deadline) <= :dec31
           THEN 1 ELSE 0 END) AS this_year
FROM tickets {where} {group}
"""

FINDINGS = """
SELECT {key}
  count(*) AS found,
  sum(CASE WHEN pf.n_closed > 0 AND pf.n_closed = pf.n - pf.n_cancelled THEN 1 ELSE 0 END)
    AS rectified,
  sum(CASE WHEN pf.n_open > 0 THEN 1 ELSE 0 END) AS in_progress,
  sum(CASE WHEN pf.n_overdue > 0 THEN 1 ELSE 0 END) AS overdue
FROM findings f {join} (
  SELECT finding_id {inner_key},
    count(*) AS n,
    sum(CASE WHEN status = 'closed' THEN 1 ELSE 0 END) AS n_closed,
    sum(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END) AS n_cancelled,
    sum(CASE WHEN status NOT IN ('closed','cancelled') THEN 1 ELSE 0 END) AS n_open,
    sum(CASE WHEN status IN ('assigned','in_progress','returned','long_term')
              AND (CASE WHEN status = 'long_term' THEN coalesce(next_review_on, deadline)
                   ELSE deadline END) < :today THEN 1 ELSE 0 END) AS n_overdue
  FROM tickets {where}
  GROUP BY finding_id {inner_key}
) pf ON pf.finding_id = f.id
{group}
"""

SUBTREE = "lead_unit_id IN (SELECT descendant_id FROM unit_closure WHERE ancestor_id = :unit)"


def _params(today: date, days: int, unit: int | None) -> dict:
    return {"today": today, "near": today + timedelta(days=days),
            "dec31": date(today.year, 12, 31), "unit": unit}


def floor(today: date, days: int, *, unit: int | None = None, by_unit: bool = False):
    """Ticket and finding counts of everything (or of a unit's subtree), optionally per
    lead unit: two statements for the totals, two more for the groups."""
    params = _params(today, days, unit)
    where = f"WHERE {SUBTREE}" if unit is not None else ""
    join = "JOIN" if unit is not None else "LEFT JOIN"
    tickets = db.session.execute(text(TICKETS.format(key="", where=where, group="")),
                                 params).one()
    findings = db.session.execute(text(FINDINGS.format(
        key="", join=join, inner_key="", where=where, group="")), params).one()
    groups = None
    if by_unit:
        ticket_groups = db.session.execute(text(TICKETS.format(
            key="lead_unit_id AS key,", where=where, group="GROUP BY lead_unit_id")),
            params).all()
        finding_groups = db.session.execute(text(FINDINGS.format(
            key="pf.lead_unit_id AS key,", join="JOIN", inner_key=", lead_unit_id",
            where=where, group="GROUP BY pf.lead_unit_id")), params).all()
        groups = (ticket_groups, finding_groups)
    return tickets, findings, groups


def same_numbers(summary, result) -> list[str]:
    """Differences between a summary and its floor (empty when they agree)."""
    tickets, findings, groups = result
    t, f = summary.tickets, summary.findings
    pairs = {
        "total": (t.total, tickets.total), "overdue": (t.overdue, tickets.overdue or 0),
        "near_due": (t.near_due, tickets.near_due or 0),
        "closed_late": (t.closed_late, tickets.closed_late or 0),
        "closed": (t.closed, tickets.closed or 0), "cancelled": (t.cancelled, tickets.cancelled or 0),
        "this_year": (t.planned["this_year"], tickets.this_year or 0),
        "found": (f.found, findings.found), "rectified": (f.rectified, findings.rectified or 0),
        "in_progress": (f.in_progress, findings.in_progress or 0),
        "findings_overdue": (f.overdue, findings.overdue or 0),
    }
    wrong = [f"{k}: {a} vs {b}" for k, (a, b) in pairs.items() if a != b]
    if groups is not None:
        by_key = {row.key: row.total for row in groups[0]}
        ours = {g.key: g.tickets.total for g in summary.groups if g.tickets.total}
        if by_key != ours:
            wrong.append("per-unit ticket totals differ")
    return wrong
