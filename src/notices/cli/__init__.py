"""The `notices` command. Every user error is one line on stderr and exit code 2."""

from __future__ import annotations

import sys

import click

from notices.cli import approval_commands  # noqa: F401  (adds submit, approve, ... to `notice`)
from notices.cli.account_commands import token, user
from notices.cli.common import error_line
from notices.cli.hook_commands import hook
from notices.cli.mail_commands import digest, mail, subscriber
from notices.cli.notice_commands import notice
from notices.cli.service_commands import db, demo, feed, health, jobs, scheduler, serve
from notices.cli.template_commands import template
from notices.core import logs
from notices.core.errors import NoticesError, PartialFailure


class NoticesGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NoticesError as error:
            click.echo(f"error: {error_line(error)}", err=True)
            sys.exit(2)
        except PartialFailure as failure:
            # The job did the rest; say what it did and what failed, exit 1 (not a usage error).
            click.echo(
                ", ".join(f"{name}: {count}" for name, count in failure.counts.items() if isinstance(count, int))
            )
            click.echo(f"error: {failure}", err=True)
            sys.exit(1)


@click.group(cls=NoticesGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log what the jobs do.")
@click.version_option(package_name="notices")
@click.pass_context
def cli(click_ctx: click.Context, verbose: bool) -> None:
    """Traffic and site notices, published on time to feeds and email."""
    click_ctx.meta["verbose"] = verbose
    logs.configure(None, verbose=verbose)


for command in (
    notice,
    template,
    subscriber,
    digest,
    mail,
    hook,
    user,
    token,
    db,
    demo,
    feed,
    health,
    jobs,
    scheduler,
    serve,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="notices")
