"""`notices hook ...`: outbound webhooks, Slack and Teams channels."""

from __future__ import annotations

from datetime import timedelta

import click

from notices.cli.common import author, choice_of, echo_counts, echo_json, migrated_context
from notices.core.config import LANGUAGES, SEVERITIES
from notices.hooks import sender, store
from notices.hooks.kinds import ENDPOINT_KINDS, HOOK_EVENTS
from notices.runtime import jobs as job_functions


def _listed(values: tuple[str, ...]) -> list[str]:
    """Repeated options, each of which may also be "a,b"."""
    return [part for value in values for part in value.split(",") if part.strip()]


@click.group()
def hook() -> None:
    """Outbound integrations: signed webhooks, Slack and Microsoft Teams channels."""


@hook.command("add")
@click.argument("url")
@click.option("--kind", type=choice_of(ENDPOINT_KINDS), default="webhook", show_default=True)
@click.option("--category", "categories", multiple=True, help="Only these categories; repeat or separate with commas.")
@click.option("--location", "locations", multiple=True, help="Only these locations; repeat or separate with commas.")
@click.option("--severity", help=f"Minimum severity: {', '.join(SEVERITIES)}.")
@click.option("--events", help=f"Comma-separated, from {','.join(HOOK_EVENTS)} (default: all).")
@click.option("--language", type=click.Choice(LANGUAGES), default=None, help="Language of Slack and Teams messages.")
@click.option("--json", "as_json", is_flag=True)
def add(url, kind, categories, locations, severity, events, language, as_json) -> None:
    """Add an endpoint; prints its signing secret once (it is never shown again)."""
    ctx = migrated_context()
    raw = {
        "url": url,
        "kind": kind,
        "categories": _listed(categories),
        "locations": _listed(locations),
        "severity": severity,
        "events": events,
        "language": language,
    }
    endpoint_input = store.parse_endpoint(raw, ctx.settings)
    with ctx.db.writing() as session, session.begin():
        endpoint, secret = store.add_endpoint(session, endpoint_input, now=ctx.clock.now(), actor=author())
        data = store.endpoint_data(endpoint)
    if as_json:
        echo_json({**data, "secret": secret})
        return
    click.echo(f"hook {data['id']} added: {data['kind']} {data['url']}")
    click.echo(f"signing secret (shown only now; keep it with the receiver): {secret}")


@hook.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_hooks(as_json: bool) -> None:
    """Every endpoint with its filters and state (never its secret)."""
    ctx = migrated_context()
    with ctx.db.session() as session:
        found = [store.endpoint_data(endpoint) for endpoint in store.list_endpoints(session)]
    if as_json:
        echo_json(found)
        return
    if not found:
        click.echo("no hooks; add one with `notices hook add URL --kind webhook|slack|teams`")
    for data in found:
        state = "enabled" if data["enabled"] else f"DISABLED ({data['disabled_reason']})"
        filters = ", ".join(
            part
            for part in (
                "category " + ",".join(data["categories"]) if data["categories"] else "",
                "location " + ",".join(data["locations"]) if data["locations"] else "",
                f"severity >= {data['min_severity']}" if data["min_severity"] else "",
            )
            if part
        )
        click.echo(
            f"{data['id']}  {data['kind']}  {state}  {data['url']}\n"
            f"    events {','.join(data['events'])}; {filters or 'all notices'}; language {data['language']}"
            + (f"; failing since {data['failing_since']}" if data["failing_since"] else "")
        )


@hook.command("test")
@click.argument("endpoint_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def test(endpoint_id: int, as_json: bool) -> None:
    """Send a test event now and show the receiver's answer (exit 1 if it was not a success)."""
    ctx = migrated_context()
    delivery = sender.send_test(ctx, endpoint_id, now=ctx.clock.now())
    data = store.delivery_data(delivery, ctx.settings.timezone)
    if as_json:
        echo_json(data)
    else:
        answer = f"HTTP {data['response_code']}" if data["response_code"] is not None else data["last_error"]
        click.echo(f"{data['status']}: {answer} {data['response_excerpt']}".rstrip())
    if data["status"] != "sent":
        raise SystemExit(1)


@hook.command("remove")
@click.argument("endpoint_id", type=int)
def remove(endpoint_id: int) -> None:
    """Delete an endpoint, its queue and its log."""
    ctx = migrated_context()
    with ctx.db.writing() as session, session.begin():
        store.remove_endpoint(session, endpoint_id, now=ctx.clock.now(), actor=author())
    click.echo(f"hook {endpoint_id} removed")


@hook.command("log")
@click.argument("endpoint_id", type=int)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def log(endpoint_id: int, limit: int, as_json: bool) -> None:
    """The latest deliveries: status, attempts, last response code and the start of its body."""
    ctx = migrated_context()
    with ctx.db.session() as session:
        found = [
            store.delivery_data(delivery, ctx.settings.timezone)
            for delivery in store.delivery_log(session, endpoint_id, limit=limit)
        ]
    if as_json:
        echo_json(found)
        return
    if not found:
        click.echo(f"hook {endpoint_id} has no deliveries yet")
    for data in found:
        code = data["response_code"] if data["response_code"] is not None else "-"
        detail = data["response_excerpt"] or data["last_error"]
        click.echo(
            f"{data['created_at']}  {data['type']}  {data['status']}  attempts {data['attempts']}  "
            f"HTTP {code}  {detail}".rstrip()
        )


@hook.command("rotate")
@click.argument("endpoint_id", type=int)
@click.option(
    "--overlap-hours",
    type=click.FloatRange(0, 24 * 30),
    default=None,
    help="How long the old secret keeps signing too ([hooks] secret_overlap_hours by default).",
)
def rotate(endpoint_id: int, overlap_hours: float | None) -> None:
    """Make a new signing secret; both sign until the overlap ends. Prints the new one once."""
    ctx = migrated_context()
    overlap = ctx.settings.hooks_secret_overlap if overlap_hours is None else timedelta(hours=overlap_hours)
    with ctx.db.writing() as session, session.begin():
        _, secret = store.rotate_secret(session, endpoint_id, overlap=overlap, now=ctx.clock.now(), actor=author())
    click.echo(f"new signing secret (shown only now): {secret}")
    click.echo(f"the old secret signs too until {ctx.clock.now() + overlap:%Y-%m-%d %H:%M} UTC")


@hook.command("enable")
@click.argument("endpoint_id", type=int)
def enable(endpoint_id: int) -> None:
    """Turn an endpoint on again (after it was disabled for failing)."""
    _set_enabled(endpoint_id, True)


@hook.command("disable")
@click.argument("endpoint_id", type=int)
def disable(endpoint_id: int) -> None:
    """Stop sending to an endpoint; what is queued waits (and expires)."""
    _set_enabled(endpoint_id, False)


def _set_enabled(endpoint_id: int, enabled: bool) -> None:
    ctx = migrated_context()
    with ctx.db.writing() as session, session.begin():
        store.set_enabled(session, endpoint_id, enabled, now=ctx.clock.now(), actor=author())
    click.echo(f"hook {endpoint_id} {'enabled' if enabled else 'disabled'}")


@hook.command("send")
@click.option("--json", "as_json", is_flag=True)
def send(as_json: bool) -> None:
    """Send every due delivery now (the scheduler does this on its own)."""
    ctx = migrated_context()
    echo_counts(job_functions.send_hooks(ctx, now=ctx.clock.now()), as_json=as_json)
