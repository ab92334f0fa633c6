"""Commands for the record and its safety: `verify-audit`, `backup DIR`, `restore DIR`,
`prune-login-attempts`."""
from datetime import timedelta
from pathlib import Path

import click

from tracker.extensions import db
from tracker.services import audit, backup


@click.command("verify-audit")
def verify_audit_command():
    """Check the audit trail's hash chain from the first event to the last.

    Exits with status 1 and names the events when any event was changed or removed, or
    the chain's head does not match the last event. Prints the head hash: write it down
    (or send it elsewhere) to detect later a rewrite of the whole chain."""
    result = audit.verify(db.session.connection())
    db.session.rollback()
    if result.ok:
        click.echo(f"audit trail intact: {result.events} events; head {result.head_hash}")
        return
    for problem in result.problems:
        click.echo(problem, err=True)
    raise click.ClickException(f"audit trail damaged: {len(result.problems)} problem(s) in "
                               f"{result.events} events")


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def backup_command(directory: Path):
    """Write a consistent copy of the database and every evidence file to DIRECTORY
    (which must not exist or be empty), with a SHA-256 manifest of every file.

    SQLite: the online backup API; PostgreSQL: pg_dump; MariaDB: mysqldump. The database
    is copied first, then the files, so every file a copied row names is in the backup."""
    try:
        manifest = backup.create_backup(directory)
    except backup.BackupError as error:
        raise click.ClickException(str(error))
    click.echo(f"backup written to {directory}: database ({manifest['database']['format']}), "
               f"{len(manifest['files'])} evidence files, "
               f"{sum(manifest['row_counts'].values())} rows")


@click.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(directory: Path):
    """Rebuild this installation from a backup in DIRECTORY.

    The database must be new and empty (create it first; nothing is overwritten) and so
    must the evidence storage. Every file's SHA-256 is checked against the manifest before
    anything is written, and the row counts and the audit chain after."""
    try:
        report = backup.restore_backup(directory)
    except backup.BackupError as error:
        raise click.ClickException(str(error))
    click.echo(f"restored from {directory}: {report['rows']} rows, {report['files']} "
               f"evidence files; audit trail intact ({report['audit_events']} events)")


@click.command("prune-login-attempts")
@click.option("--keep-minutes", type=click.IntRange(min=1), default=None,
              help="Keep this many minutes of attempts (never less than the throttling "
                   "window of 15 minutes, which is also the default).")
def prune_login_attempts_command(keep_minutes: int | None):
    """Delete login attempts that no longer count for throttling (the scheduler does
    this every 15 minutes; use this from cron where no scheduler runs)."""
    from tracker.auth import prune_login_attempts

    keep = timedelta(minutes=keep_minutes) if keep_minutes else None
    removed = prune_login_attempts(keep=keep)
    db.session.commit()
    click.echo(f"{removed} old login attempts removed")


COMMANDS = (verify_audit_command, backup_command, restore_command,
            prune_login_attempts_command)


def init_app(app) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
