"""`flask --app wsgi check-evidence`: every stored evidence file against its row."""
from datetime import timedelta

import click
from flask.cli import with_appcontext

from tracker.services import evidence, storage


@click.command("check-evidence")
@click.option("--grace-minutes", default=60, show_default=True, type=click.IntRange(min=0),
              help="A file without a row younger than this is an upload still being "
                   "committed, not an orphan.")
@with_appcontext
def check_evidence_command(grace_minutes: int) -> None:
    """Verify every evidence file: report missing, corrupt (size or SHA-256 differ) and
    orphan files (stored without a row). Exits with status 1 when any is found."""
    backend = storage.get_storage()
    report = evidence.check_integrity(timedelta(minutes=grace_minutes), backend)
    for item in report.missing:
        click.echo(f"MISSING  evidence {item.id} (ticket {item.ticket_id}) "
                   f"{item.original_name!r}: no file at {item.storage_key}")
    for item, detail in report.corrupt:
        click.echo(f"CORRUPT  evidence {item.id} (ticket {item.ticket_id}) "
                   f"{item.original_name!r} at {item.storage_key}: {detail}")
    for stored in report.orphans:
        click.echo(f"ORPHAN   {stored.key} ({stored.size} bytes, "
                   f"modified {stored.modified_at:%Y-%m-%d %H:%M} UTC): no evidence row")
    problems = len(report.missing) + len(report.corrupt) + len(report.orphans)
    click.echo(f"checked {report.checked} files ({report.checked_bytes} bytes) in {backend!r}: "
               f"{len(report.missing)} missing, {len(report.corrupt)} corrupt, "
               f"{len(report.orphans)} orphan")
    if problems:
        raise SystemExit(1)
