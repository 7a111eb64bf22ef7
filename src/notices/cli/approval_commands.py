"""`notices notice submit|approve|return|publish-now|queue`: the approval workflow from the shell.

`--as EMAIL` acts as that user, with their role (four eyes compares that email). Without it
the shell operator acts: the operator may write and submit, and writes made as the operator
are not held for approval (whoever runs the CLI holds the database anyway; the audit log
names them as cli:<login>). Approving, returning and emergency publishing need --as.
"""

from __future__ import annotations

import click

from notices.cli.acting import acting, as_option
from notices.cli.common import echo_json, migrated_context
from notices.cli.notice_commands import notice
from notices.hooks import enqueue as hook_queue
from notices.mail import staff
from notices.notice import approval, store
from notices.notice.validation import parse_changes


def _print_state(session, found, now, *, as_json: bool) -> None:
    data = approval.describe(session, found, now)
    if as_json:
        echo_json({"uid": found.uid, **data})
        return
    line = f"{found.uid[:8]}  {data['state']}  {found.title}"
    review = data.get("review")
    if review and review["decision_comment"]:
        line += f"\n  {review['state']} by {review['decided_by']}: {review['decision_comment']}"
    click.echo(line)


def _run(uid: str, as_email: str | None, as_json: bool, change) -> None:
    ctx = migrated_context()
    now = ctx.clock.now()
    with ctx.db.writing() as session, session.begin():
        found = store.get_notice(session, uid, for_update=True)
        note = change(session, found, acting(session, as_email), ctx, now)
        hook_queue.enqueue_new_events(session, settings=ctx.settings, now=now)
    staff.notify(ctx, note, now=now)
    with ctx.db.session() as session:
        _print_state(session, store.get_notice(session, found.uid), now, as_json=as_json)


@notice.command("submit")
@click.argument("uid")
@click.option("--comment", default="", help="For the approvers.")
@click.option("--publish-at", default="now", show_default=True, help="When to publish once approved.")
@as_option
@click.option("--json", "as_json", is_flag=True)
def submit(uid: str, comment: str, publish_at: str, as_email: str | None, as_json: bool) -> None:
    """Submit a draft for approval."""

    def change(session, found, actor, ctx, now):
        when = None
        if publish_at.strip().lower() != "now":
            current = store.fields_of(found)
            when = parse_changes({"publish_at": publish_at}, current=current, settings=ctx.settings, now=now).publish_at
        return approval.submit(
            session, found, actor=actor, publish_at=when, comment=comment, settings=ctx.settings, now=now
        )

    _run(uid, as_email, as_json, change)


@notice.command("approve")
@click.argument("uid")
@click.option("--comment", default="", help="For the submitter.")
@as_option
@click.option("--json", "as_json", is_flag=True)
def approve(uid: str, comment: str, as_email: str | None, as_json: bool) -> None:
    """Approve someone else's submission: it is published (or scheduled, or the change applied)."""

    def change(session, found, actor, ctx, now):
        return approval.approve(session, found, actor=actor, comment=comment, settings=ctx.settings, now=now)

    _run(uid, as_email, as_json, change)


@notice.command("return")
@click.argument("uid")
@click.option("--comment", required=True, help="What to change; shown to the submitter.")
@as_option
@click.option("--json", "as_json", is_flag=True)
def return_(uid: str, comment: str, as_email: str | None, as_json: bool) -> None:
    """Return a submission to its writer with a comment (a draft again, or the change dropped)."""

    def change(session, found, actor, ctx, now):
        return approval.return_(session, found, actor=actor, comment=comment, now=now)

    _run(uid, as_email, as_json, change)


@notice.command("publish-now")
@click.argument("uid")
@click.option("--reason", required=True, help="Why it cannot wait; highlighted in the audit log.")
@as_option
@click.option("--json", "as_json", is_flag=True)
def publish_now(uid: str, reason: str, as_email: str | None, as_json: bool) -> None:
    """Emergency (admins): publish a draft or apply a waiting change at once, without approval."""

    def change(session, found, actor, ctx, now):
        return approval.publish_in_emergency(session, found, actor=actor, reason=reason, now=now)

    _run(uid, as_email, as_json, change)


@notice.command("queue")
@click.option("--json", "as_json", is_flag=True)
def queue(as_json: bool) -> None:
    """Submissions waiting for approval, oldest first."""
    ctx = migrated_context()
    with ctx.db.session() as session:
        waiting = approval.queue(session)
        rows = [
            {
                "uid": review.notice.uid,
                "title": review.notice.title,
                "severity": review.notice.severity,
                "kind": review.kind,
                "submitted_by": review.submitted_by,
                "submitted_at": review.submitted_at.isoformat(),
            }
            for review in waiting
        ]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("nothing waits for approval")
    for row in rows:
        click.echo(f"{row['uid'][:8]}  {row['kind']:8} {row['severity']:9} {row['submitted_by']:30} {row['title']}")
