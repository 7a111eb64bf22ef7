"""Helpers shared by the CLI commands: the context, output, error lines."""

from __future__ import annotations

import getpass
import json
import logging
import os

import click

from notices.core import db as database
from notices.core import logs
from notices.core.clock import clock_from_environment
from notices.core.config import load_settings
from notices.core.context import AppContext
from notices.core.errors import InvalidField, NoticesError
from notices.core.i18n import SOURCE_LANGUAGE

log = logging.getLogger("notices")


# Field names (of notices, subscribers, users) -> the option or argument a CLI user typed,
# so an error names what they can change: "--starts: ..." rather than "starts_at: ...".
OPTION_FOR_FIELD = {
    "title": "--title",
    "summary": "--summary",
    "body": "--body",
    "category": "--category",
    "categories": "--category",
    "severity": "--severity",
    "locations": "--location",
    "location_detail": "--location-detail",
    "starts_at": "--starts",
    "ends_at": "--ends",
    "expected_end": "--expected-end",
    "publish_at": "--publish-at",
    "recurrence": "--recurrence",
    "occurrence_minutes": "--occurrence-minutes",
    "skip": "--skip",
    "draft": "--draft",
    "note": "--note",
    "reason": "--reason",
    "frequency": "--frequency",
    "language": "--language",
    "role": "--role",
    "email": "EMAIL",
    "password": "password",
    "url": "URL",
    "kind": "--kind",
    "events": "--events",
}


def error_line(error: NoticesError) -> str:
    """The one line a user sees for an error, in the site's language: an invalid field names the option to change."""
    language = _site_language()
    if isinstance(error, InvalidField):
        return f"{OPTION_FOR_FIELD.get(error.field, error.field)}: {error.problem_in(language)}"
    return error.message_in(language) or str(error)


def _site_language() -> str:
    """The site's language when this invocation has its settings; English (the message ids) before that."""
    click_ctx = click.get_current_context(silent=True)
    root = click_ctx.find_root() if click_ctx is not None else None
    context = root.obj if root is not None else None
    return context.settings.language if isinstance(context, AppContext) else SOURCE_LANGUAGE


def choice_of(values) -> click.Choice:
    """A click option choice of the values (not the names) of StrEnum members or plain strings."""
    return click.Choice([str(value) for value in values])


class UserError(NoticesError):
    """A problem the user can fix; shown as one line, exit code 2."""


def app_context() -> AppContext:
    """The AppContext of this invocation, built once from settings (tests pass their own as obj)."""
    root = click.get_current_context().find_root()
    if root.obj is None:
        settings = load_settings()
        logs.configure(settings, verbose=root.meta.get("verbose", False))
        root.obj = AppContext.from_settings(settings, clock_from_environment(os.environ))
    return root.obj


def migrated_context() -> AppContext:
    """The context, refusing to go on with a database that has no schema yet."""
    ctx = app_context()
    revision = database.current_revision(ctx.db.engine)
    if revision is None:
        raise UserError("the database has no tables yet; run `notices db upgrade` first")
    if revision != database.head_revision():
        raise UserError(
            f"the database schema is at {revision}, this version needs {database.head_revision()}; "
            "run `notices db upgrade` first"
        )
    ctx.require_secret_key()
    return ctx


def announce_secret_key(ctx: AppContext) -> None:
    """Say where the signing key comes from: links break if processes disagree on it."""
    if ctx.settings.secret_key_source == "database":
        log.warning(
            "NOTICES_SECRET_KEY is not set: links and forms are signed with the key stored in the "
            "database, shared by every process that uses it"
        )


def author() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def echo_json(data) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def echo_counts(counts: dict, *, as_json: bool) -> None:
    """A job's counts: JSON, or one line like 'sent: 3, retry: 0'."""
    if as_json:
        echo_json(counts)
    else:
        click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))
