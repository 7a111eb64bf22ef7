"""`notices subscriber ...`, `notices digest run`, `notices mail ...`."""

from __future__ import annotations

from datetime import datetime

import click

from notices.cli.common import UserError, choice_of, echo_counts, echo_json, migrated_context
from notices.cli.progress import progress
from notices.core.config import LANGUAGES
from notices.core.context import AppContext
from notices.core.models import Subscriber
from notices.core.states import DIGEST_FREQUENCIES, Frequency, SubscriberState
from notices.mail import outbox, subscriptions
from notices.notice.times import isoformat_site
from notices.people.addresses import normalise_email
from notices.runtime import jobs as job_functions


def subscriber_data(subscriber: Subscriber, zone) -> dict:
    return {
        "email": subscriber.email,
        "state": subscriber.state,
        "frequency": subscriber.frequency,
        "categories": list(subscriber.categories or ()),
        "locations": list(subscriber.locations or ()),
        "min_severity": subscriber.min_severity,
        "language": subscriber.language,
        "created_at": isoformat_site(subscriber.created_at, zone),
        "confirmed_at": isoformat_site(subscriber.confirmed_at, zone) if subscriber.confirmed_at else None,
    }


@click.group()
def subscriber() -> None:
    """Email subscribers."""


@subscriber.command("add")
@click.argument("email")
@click.option("--frequency", type=choice_of(subscriptions.FREQUENCIES), default=str(Frequency.DAILY), show_default=True)
@click.option("--category", "categories", multiple=True, help="Only these categories; repeat for several.")
@click.option("--location", "locations", multiple=True, help="Only these locations; repeat for several.")
@click.option("--severity", help="Minimum severity: info, minor, major or critical.")
@click.option("--language", type=click.Choice(LANGUAGES), default=None)
@click.option(
    "--confirm", "send_confirmation", is_flag=True, help="Send the opt-in email instead of confirming at once."
)
@click.option("--json", "as_json", is_flag=True)
def add(email, frequency, categories, locations, severity, language, send_confirmation, as_json) -> None:
    """Add (or update) a subscriber: an operator import, confirmed at once unless --confirm."""
    ctx = migrated_context()
    now = ctx.clock.now()
    raw = {
        "frequency": frequency,
        "categories": list(categories),
        "locations": list(locations),
        "severity": severity,
        "language": language,
    }
    address = normalise_email(email)
    preferences = subscriptions.parse_preferences(raw, ctx.settings)
    with ctx.db.writing() as session, session.begin():
        added = subscriptions.add_by_operator(
            session,
            email=address,
            preferences=preferences,
            send_confirmation=send_confirmation,
            now=now,
            settings=ctx.settings,
        )
        data = subscriber_data(added, ctx.settings.timezone)
    if send_confirmation:
        job_functions.send_pending(ctx, now=now)
    if as_json:
        echo_json(data)
    else:
        click.echo(
            f"{data['email']}: {data['state']}, {data['frequency']}"
            + (" (confirmation email sent)" if send_confirmation else "")
        )


@subscriber.command("list")
@click.option("--state", type=choice_of(SubscriberState))
@click.option("--json", "as_json", is_flag=True)
def list_(state: str | None, as_json: bool) -> None:
    """List subscribers."""
    ctx = migrated_context()
    with ctx.db.session() as session:
        rows = [
            subscriber_data(item, ctx.settings.timezone)
            for item in subscriptions.list_subscribers(session, state=state)
        ]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no subscribers")
    for row in rows:
        filters = ", ".join(row["categories"] + row["locations"]) or "everything"
        if row["min_severity"]:
            filters += f" (>= {row['min_severity']})"
        click.echo(f"{row['email']:40} {row['state']:12} {row['frequency']:9} {row['language']}  {filters}")


@subscriber.command("remove")
@click.argument("email")
def remove(email: str) -> None:
    """Unsubscribe an address (kept as unsubscribed, so it is not mailed again by mistake)."""
    ctx = migrated_context()
    address = normalise_email(email)
    with ctx.db.writing() as session, session.begin():
        found = subscriptions.find(session, address)
        if found is None:
            raise UserError(f"EMAIL: no subscriber {address}")
        changed = subscriptions.unsubscribe(session, found, now=ctx.clock.now())
    click.echo(f"{address}: {'unsubscribed' if changed else 'was not subscribed'}")


@click.group()
def digest() -> None:
    """Daily and weekly digests."""


@digest.command("run")
@click.option("--frequency", type=choice_of(DIGEST_FREQUENCIES), required=True)
@click.option("--dry-run", is_flag=True, help="Print who would get what; enqueue and send nothing.")
@click.option("--json", "as_json", is_flag=True)
def digest_run(frequency: str, dry_run: bool, as_json: bool) -> None:
    """Enqueue the digest of the latest period and send it (a second run sends nothing new)."""
    ctx = migrated_context()
    now = ctx.clock.now()
    with ctx.db.session() as session:
        subscribers = subscriptions.confirmed_count(session, frequency)
    with progress(f"{frequency} digests", subscribers, plain=as_json) as advance:
        counts = job_functions.enqueue_digests(ctx, now=now, frequency=frequency, dry_run=dry_run, on_progress=advance)
    if dry_run:
        with ctx.db.session() as session:
            emails = subscriptions.emails_by_id(session, [subscriber_id for subscriber_id, _ in counts["planned"]])
        planned = [
            {
                "email": emails[subscriber_id],
                "new": len(s.new),
                "changed": len(s.changed),
                "starting": len(s.starting),
                "ending": len(s.ending),
                "active": len(s.active),
            }
            for subscriber_id, s in counts["planned"]
        ]
        if as_json:
            echo_json({"period": counts["period"], "would_send": planned, "nothing_new": counts["empty"]})
            return
        click.echo(
            f"{frequency} digest for {counts['period']}: {len(planned)} would be sent, "
            f"{counts['empty']} subscribers have nothing new"
        )
        for item in planned:
            click.echo(
                f"  {item['email']}: {item['new']} new, {item['changed']} changed, "
                f"{item['starting']} starting, {item['ending']} ending, {item['active']} still active"
            )
        return
    sent = _send_with_progress(ctx, now, plain=as_json)
    result = {
        "period": counts["period"],
        "enqueued": counts["enqueued"],
        "already_enqueued": counts["already"],
        "nothing_new": counts["empty"],
        **sent,
    }
    if as_json:
        echo_json(result)
    else:
        click.echo(
            f"{frequency} digest for {counts['period']}: {counts['enqueued']} enqueued "
            f"({counts['already']} already, {counts['empty']} with nothing new); "
            f"sent {sent['sent']}, retry {sent['retry']}, failed {sent['failed']}, expired {sent['expired']}"
        )


def _send_with_progress(ctx: AppContext, now: datetime, *, plain: bool) -> dict[str, int]:
    with ctx.db.session() as session:
        due = outbox.due_count(session, now=now)
    if not due:
        return job_functions.send_pending(ctx, now=now)
    with progress("sending", due, plain=plain) as advance:
        return job_functions.send_pending(ctx, now=now, on_progress=advance)


@click.group()
def mail() -> None:
    """The outbox."""


@mail.command("send-pending")
@click.option("--json", "as_json", is_flag=True)
def send_pending(as_json: bool) -> None:
    """Send every delivery that is due now (what the scheduler does every few seconds)."""
    ctx = migrated_context()
    echo_counts(_send_with_progress(ctx, ctx.clock.now(), plain=as_json), as_json=as_json)


@mail.command("status")
@click.option("--json", "as_json", is_flag=True)
def status(as_json: bool) -> None:
    """Deliveries per status."""
    ctx = migrated_context()
    with ctx.db.session() as session:
        counts = outbox.status_counts(session)
    if as_json:
        echo_json(counts)
    else:
        for name, count in counts.items():
            click.echo(f"{name:8} {count}")
