"""Commands for administrators: `flask --app wsgi <command>`.

Each command runs in one transaction: it commits once at the end, or changes nothing."""
import click
from flask import Flask, current_app
from flask_migrate import upgrade
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Role, Unit, User
from tracker.services import accounts, demo, units
from tracker.services.errors import DomainError
from tracker import scheduler
from tracker.evidence_cli import check_evidence_command
from tracker import rollup_cli
from tracker import security_cli


def _refuse(error: DomainError) -> click.ClickException:
    """A service's refusal as a command-line error: the message, then each field's problems."""
    details = "; ".join(f"{name}: {' '.join(str(m) for m in messages)}"
                        for name, messages in error.fields.items())
    return click.ClickException(f"{error.message} {details}".strip())


def _unit(code: str) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise click.ClickException(f"no unit with code {code!r}")
    return unit


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user named {username!r} (see `flask list-users`)")
    return user


# --- the database -----------------------------------------------------------------------

@click.command("init-db")
def init_db_command():
    """Create or upgrade the database schema to the latest migration.

    Safe to repeat: a database that is already up to date is left as it is. Run it after
    every upgrade of the application, before starting it."""
    upgrade()
    click.echo("database schema is up to date")


@click.command("load-demo")
@click.option("--if-empty", is_flag=True,
              help="Do nothing (and succeed) when the database already holds data.")
def load_demo_command(if_empty):
    """Load the demo world: units, accounts, inspections drawn from real self-evaluation
    reports, their findings and tickets in every state, with dates relative to today.

    Only an empty database is filled: one that holds any unit or user is refused, so real
    data is never mixed with demo data. Never loaded when TRACKER_ENV=production. Every
    demo account's password is printed at the end."""
    production = current_app.config.get("ENV_NAME") == "production"
    if if_empty and production:
        click.echo("This is a production installation: demo data not loaded.")
        return
    if if_empty and not demo.database_is_empty():
        click.echo("The database already holds data: demo data not loaded.")
        return
    try:
        report = demo.load_demo(production=production)
    except demo.DemoRefused as error:
        db.session.rollback()
        raise click.ClickException(str(error))
    except DomainError as error:
        db.session.rollback()
        raise _refuse(error)
    db.session.commit()
    _print_report(report)


def _print_report(report: demo.LoadReport) -> None:
    status = report.by_status
    click.echo(f"Demo data loaded; its dates are relative to {report.today.isoformat()}.")
    click.echo(f"  {report.units} units, {len(report.accounts)} accounts, "
               f"{report.inspections} inspections, {report.findings} findings, "
               f"{report.tickets} tickets")
    click.echo("  tickets: " + ", ".join(
        f"{name} {status.get(name, 0)}" for name in (
            "assigned", "in_progress", "submitted", "verified", "returned", "closed",
            "long_term", "cancelled")))
    click.echo(f"  declined {report.declined}, overdue {report.overdue}, "
               f"near-due {report.near_due}, closed late {report.closed_late}, "
               f"extension requests pending {report.extensions_pending}")
    click.echo(f"Accounts (password for all: {demo.DEMO_PASSWORD}):")
    for account in report.accounts:
        scope = f"  scope: {account.scope}" if account.scope else ""
        click.echo(f"  {account.username:<15} {account.role:<11} {account.full_name}  "
                   f"{account.unit}{scope}")


# --- users ------------------------------------------------------------------------------

@click.command("create-user")
@click.option("--username", required=True, help="Login name.")
@click.option("--name", "full_name", required=True, help="Full name shown in the pages.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default="admin",
              show_default=True)
@click.option("--unit", "unit_code", required=True, help="Code of the user's unit.")
@click.option("--scope", "scope_code", help="Code of the scope unit (office and supervisor).")
def create_user_command(username, full_name, role, unit_code, scope_code):
    """Create a user and print a one-time password, to be changed at first login.

    This is how the first administrator of a production installation is made."""
    unit = _unit(unit_code)
    scope = _unit(scope_code) if scope_code else None
    try:
        user, one_time = accounts.create_user(None, accounts.UserDraft(
            username=username, full_name=full_name, role=Role(role), unit_id=unit.id,
            scope_unit_id=scope.id if scope else None))
    except DomainError as error:
        db.session.rollback()
        raise _refuse(error)
    db.session.commit()
    click.echo(f"created {user.username}; one-time password: {one_time}")


@click.command("reset-password")
@click.argument("username")
def reset_password_command(username):
    """Give USERNAME a new one-time password and print it.

    The old password stops working and every session of the user ends; the user must
    choose a new password at the next login."""
    user = _user(username)
    try:
        one_time = accounts.reset_password(None, user.id)
    except DomainError as error:
        db.session.rollback()
        raise _refuse(error)
    db.session.commit()
    click.echo(f"password of {user.username} reset; one-time password: {one_time}")


def _set_active(username: str, active: bool) -> None:
    user = _user(username)
    try:
        accounts.set_active(None, user.id, active)
    except DomainError as error:
        db.session.rollback()
        raise _refuse(error)
    db.session.commit()
    click.echo(f"{user.username} is now {'active' if active else 'deactivated'}")


@click.command("deactivate-user")
@click.argument("username")
def deactivate_user_command(username):
    """Stop USERNAME from logging in and end all of their sessions and API use.

    The account and everything it did stay in the records; `activate-user` undoes this."""
    _set_active(username, False)


@click.command("activate-user")
@click.argument("username")
def activate_user_command(username):
    """Let a deactivated USERNAME log in again (with the password they had)."""
    _set_active(username, True)


@click.command("list-users")
@click.option("--role", type=click.Choice([r.value for r in Role]), help="Only this role.")
@click.option("--unit", "unit_code", help="Only users of this unit (its code).")
def list_users_command(role, unit_code):
    """List the accounts: user name, role, state, full name, unit and scope.

    The state is "active", "inactive", or "active, must change password" for accounts
    with a one-time password not yet replaced."""
    statement = select(User).order_by(User.username)
    if role:
        statement = statement.where(User.role == Role(role))
    if unit_code:
        statement = statement.where(User.unit_id == _unit(unit_code).id)
    users = list(db.session.scalars(statement))
    for user in users:
        state = "active" if user.is_active_user else "inactive"
        if user.must_change_password:
            state += ", must change password"
        scope = f"  scope: {user.scope_unit.code} {user.scope_unit.name}" if user.scope_unit else ""
        click.echo(f"{user.username:<20} {user.role.value:<11} {state:<30} {user.full_name}  "
                   f"{user.unit.code} {user.unit.name}{scope}")
    click.echo(f"{len(users)} users")


# --- units ------------------------------------------------------------------------------

@click.command("create-unit")
@click.option("--code", required=True, help="Unique code, e.g. the administrative code 620602.")
@click.option("--name", required=True, help="Name shown in the pages, e.g. 凉州区.")
@click.option("--kind", required=True, type=click.Choice([k.value for k in units.UnitKind]))
@click.option("--parent", "parent_code", help="Code of the parent unit; none for a root.")
def create_unit_command(code, name, kind, parent_code):
    """Create a unit (the root of a new installation has no parent)."""
    parent = _unit(parent_code) if parent_code else None
    try:
        unit = units.create_unit(None, units.UnitDraft(code=code, name=name, kind=units.UnitKind(kind),
                                                       parent_id=parent.id if parent else None))
    except DomainError as error:
        db.session.rollback()
        raise _refuse(error)
    db.session.commit()
    click.echo(f"created unit {unit.code} {unit.name}")


COMMANDS = (
    init_db_command, load_demo_command, create_user_command, reset_password_command,
    deactivate_user_command, activate_user_command, list_users_command, create_unit_command,
)


def init_app(app: Flask) -> None:
    for command in COMMANDS + (check_evidence_command,):
        app.cli.add_command(command)
    for command in scheduler.COMMANDS:  # reminders: `scheduler`, `run-reminders`
        app.cli.add_command(command)
    for command in rollup_cli.COMMANDS:  # roll-up: `import-findings`, `snapshot`
        app.cli.add_command(command)
    for command in security_cli.COMMANDS:  # `verify-audit`, `backup DIR`, `restore DIR`
        app.cli.add_command(command)
