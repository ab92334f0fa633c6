"""Roll-up commands: `flask --app wsgi import-findings FILE` and `flask --app wsgi snapshot`.

Each runs in one transaction: it commits once at the end, or changes nothing."""
from pathlib import Path

import click
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Inspection, User
from tracker.services import clock, findings_import, rollup, sheets
from tracker.services.errors import DomainError


def _fail(error: DomainError) -> click.ClickException:
    details = "; ".join(f"{name}: {' '.join(str(m) for m in messages)}"
                        for name, messages in error.fields.items())
    return click.ClickException(f"{error.message} {details}".strip())


@click.command("import-findings")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--inspection", "inspection_id", required=True, type=int,
              help="Id of the inspection the problems belong to.")
@click.option("--user", "username", required=True,
              help="User name of the office account the import is done as (audited).")
@click.option("--dry-run", is_flag=True, help="Check and report, write nothing.")
def import_findings_command(path: Path, inspection_id: int, username: str, dry_run: bool):
    """Import a problem list (Excel .xlsx or CSV in UTF-8/GB18030) into an inspection:
    all rows or none; importing the same file again changes nothing."""
    actor = db.session.scalar(select(User).where(User.username == username))
    if actor is None or not actor.is_active:
        raise click.ClickException(f"no active user named {username!r}")
    if db.session.get(Inspection, inspection_id) is None:
        raise click.ClickException(f"no inspection with id {inspection_id}")
    data = path.read_bytes()
    with click.progressbar(length=max(1, sheets.estimate_rows(data, path.name)),
                           label="reading", show_pos=True) as bar:
        seen = {"rows": 0}

        def advance(rows: int) -> None:
            bar.update(rows - seen["rows"])
            seen["rows"] = rows
        try:
            preview = findings_import.preview(actor, inspection_id, data, path.name, advance)
        except DomainError as error:
            db.session.rollback()
            raise _fail(error) from None
    if preview.problems:
        db.session.rollback()
        for problem in preview.problems.items:
            column = next((c.header for c in findings_import.COLUMNS
                           if c.key == problem.column), problem.column or "")
            where = f"row {problem.row}" + (f", {column}" if column else "")
            click.echo(f"{where}: {problem.message}", err=True)
        raise click.ClickException(f"{len(preview.problems.items)} problems; nothing imported")
    if dry_run:
        db.session.rollback()
        click.echo("dry run: {created} created, {updated} updated, {unchanged} unchanged"
                   .format(**preview.counts))
        return
    try:
        counts = findings_import.apply(actor, preview)
    except DomainError as error:
        db.session.rollback()
        raise _fail(error) from None
    db.session.commit()
    click.echo("imported: {created} created, {updated} updated, {unchanged} unchanged"
               .format(**counts))


@click.command("snapshot")
def snapshot_command():
    """Record today's roll-up counts per scope unit (safe to repeat the same day)."""
    today = clock.today()
    written = rollup.take_snapshot(today)
    db.session.commit()
    click.echo(f"snapshot of {today.isoformat()}: {written} scope units")


COMMANDS = (import_findings_command, snapshot_command)
