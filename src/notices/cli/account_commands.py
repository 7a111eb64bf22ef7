"""`notices user add` and `notices token create`: console accounts and API tokens."""

from __future__ import annotations

from pathlib import Path

import click

from notices.cli.common import UserError, author, choice_of, migrated_context
from notices.people import accounts, audit


@click.group()
def user() -> None:
    """Console users (facility managers and admins)."""


@user.command("add")
@click.argument("email")
@click.option(
    "--role",
    type=choice_of(accounts.ROLES),
    required=True,
    help="editor: writes and submits notices; approver: approves them; manager: both (not their own); "
    "admin: everything, users and tokens too.",
)
@click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the password from this file instead of prompting.",
)
def add(email: str, role: str, password_file: Path | None) -> None:
    """Add a user; the password is prompted for (twice) unless --password-file is given."""
    ctx = migrated_context()
    if password_file is not None:
        password = password_file.read_text(encoding="utf-8").rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    now = ctx.clock.now()
    with ctx.db.writing() as session, session.begin():
        created = accounts.create_user(session, email=email, password=password, role=role, now=now)
        audit.record(session, actor=author(), action="user.create", target=created.email, detail=role, now=now)
        address = created.email
    click.echo(f"{address}: {role}")


@click.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option("--user", "email", required=True, help="The user the token acts for.")
@click.option("--name", default="", help="What the token is for, e.g. 'intranet import'.")
def create(email: str, name: str) -> None:
    """Print a new API token (shown once; only its hash is stored)."""
    ctx = migrated_context()
    now = ctx.clock.now()
    with ctx.db.writing() as session, session.begin():
        found = accounts.find_user(session, email.strip().lower())
        if found is None:
            raise UserError(f"--user: no user {email}")
        raw = accounts.create_token(session, found, name=name, now=now)
        audit.record(session, actor=author(), action="token.create", target=found.email, detail=name, now=now)
    click.echo(raw)
