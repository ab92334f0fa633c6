"""Commands for administrators: `flask --app wsgi <command>`."""
import click
from flask import Flask
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Role, Unit
from tracker.services import accounts, units
from tracker.services.errors import DomainError


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
    unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
    scope = db.session.scalar(select(Unit).where(Unit.code == scope_code)) if scope_code else None
    if unit is None:
        raise click.ClickException(f"no unit with code {unit_code!r}")
    try:
        user, one_time = accounts.create_user(None, accounts.UserDraft(
            username=username, full_name=full_name, role=Role(role), unit_id=unit.id,
            scope_unit_id=scope.id if scope else None))
    except DomainError as error:
        raise click.ClickException(f"{error.message} {error.fields}")
    db.session.commit()
    click.echo(f"created {user.username}; one-time password: {one_time}")


@click.command("create-unit")
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--kind", required=True, type=click.Choice([k.value for k in units.UnitKind]))
@click.option("--parent", "parent_code", help="Code of the parent unit; none for a root.")
def create_unit_command(code, name, kind, parent_code):
    """Create a unit (the root of a new installation has no parent)."""
    parent = None
    if parent_code:
        parent = db.session.scalar(select(Unit).where(Unit.code == parent_code))
        if parent is None:
            raise click.ClickException(f"no unit with code {parent_code!r}")
    try:
        unit = units.create_unit(None, units.UnitDraft(code=code, name=name, kind=units.UnitKind(kind),
                                                       parent_id=parent.id if parent else None))
    except DomainError as error:
        raise click.ClickException(f"{error.message} {error.fields}")
    db.session.commit()
    click.echo(f"created unit {unit.code} {unit.name}")


def init_app(app: Flask) -> None:
    for command in (create_user_command, create_unit_command):
        app.cli.add_command(command)
