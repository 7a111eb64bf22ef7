"""Running the service: serve, scheduler, db, jobs and demo data."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from notices.cli.common import (
    UserError,
    announce_secret_key,
    app_context,
    echo_counts,
    echo_json,
    migrated_context,
)
from notices.cli.progress import progress
from notices.core import change_signal, logs
from notices.core import db as database
from notices.core.states import Role
from notices.feeds.export import exported_files
from notices.people import accounts
from notices.runtime import jobs as job_functions
from notices.runtime.demo import (
    DEMO_ADMIN,
    has_notices,
    load_demo,
    load_demo_subscribers,
    load_demo_templates,
)
from notices.runtime.health import scheduler_health


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-scheduler", is_flag=True, help="Serve only; run `notices scheduler` elsewhere.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Web worker processes (the scheduler still runs once, in the parent).",
)
@click.option("--access-log/--no-access-log", default=True, show_default=True)
def serve(host: str, port: int, no_scheduler: bool, workers: int, access_log: bool) -> None:
    """Serve the web site, feeds and API (with the scheduler in process unless --no-scheduler)."""
    import uvicorn

    click.get_current_context().find_root().meta["verbose"] = True  # a service logs what it does

    from notices.runtime.scheduler import LeaderElectedScheduler
    from notices.web import create_app

    ctx = migrated_context()
    announce_secret_key(ctx)
    shown = f"http://{host}:{port}"
    click.echo(f"{ctx.settings.site_name} on {shown}/  (base URL {ctx.settings.base_url})")
    click.echo(f"  feeds: {shown}/feeds/notices.atom  {shown}/feeds/notices.rss  {shown}/feeds/events.atom")
    click.echo(f"  calendar: {shown}/calendar/notices.ics   health: {shown}/healthz   API docs: {shown}/docs")
    click.echo(f"  scheduler: {'not in this process' if no_scheduler else 'running in this process'}")
    proxies = list(ctx.settings.trusted_proxies)
    click.echo(f"  X-Forwarded-For believed from: {', '.join(proxies) or 'nobody'}  ([web] trusted_proxies)")
    # The client address (rate limits, logs) comes from X-Forwarded-For only when the peer is one
    # of these proxies; from anyone else the header is ignored, so it cannot be forged.
    options: dict[str, Any] = {  # uvicorn.run's keyword arguments
        "host": host,
        "port": port,
        "log_level": "info",
        "access_log": access_log,
        "proxy_headers": True,
        "forwarded_allow_ips": proxies,
        # httptools' parser, answering cached feed requests without the ASGI round trip.
        "http": "notices.web.feeds.http_protocol:FeedHttpProtocol",
        "log_config": logs.logging_config(ctx.settings, verbose=True),
    }
    if workers == 1:
        uvicorn.run(create_app(ctx.settings, run_scheduler=not no_scheduler, ctx=ctx), **options)
        return
    # Workers build their own app from the same environment; the jobs run
    # here, once, so N workers do not mean N schedulers.
    scheduler = None if no_scheduler else LeaderElectedScheduler(ctx)
    listener = change_signal.listener_for(ctx.settings.database_url) if scheduler else None
    if scheduler:
        scheduler.start()
        if listener is not None:  # each worker's app has its own for its feeds
            listener.subscribe(scheduler.heard)
            listener.start()
    try:
        uvicorn.run("notices.web.asgi:app_from_environment", factory=True, workers=workers, **options)
    finally:
        if listener is not None:
            listener.stop()
        if scheduler:
            scheduler.shutdown()


@click.command()
def scheduler() -> None:
    """Run the scheduled jobs until SIGTERM or SIGINT (one leader among several schedulers)."""
    from notices.runtime.scheduler import run_until_signalled

    click.get_current_context().find_root().meta["verbose"] = True  # a service logs what it does

    ctx = migrated_context()
    announce_secret_key(ctx)
    run_until_signalled(ctx, on_ready=lambda: click.echo("scheduler running; stop with Ctrl+C or SIGTERM"))


@click.command()
@click.option("--json", "as_json", is_flag=True)
def health(as_json: bool) -> None:
    """Is publishing working? What /healthz says; exit 1 unless it is (for health checks of scheduler containers)."""
    ctx = migrated_context()
    try:
        with ctx.db.session() as session:
            report = scheduler_health(session, settings=ctx.settings, now=ctx.clock.now())
    except SQLAlchemyError as error:
        if as_json:
            echo_json({"status": "error", "database": "unreachable"})
        else:
            click.echo(f"database: unreachable ({type(error).__name__})")
        sys.exit(1)
    if as_json:
        echo_json({"status": "ok" if report.ok else "error", "database": "ok", **report.as_dict()})
    else:
        ago = report.last_run_seconds_ago
        click.echo(f"scheduler: {report.state}" + (f" (last run {ago:.0f} s ago)" if ago is not None else ""))
        for job, problem in report.failing_jobs.items():
            click.echo(f"  failing: {job}: {problem}")
    if not report.ok:
        sys.exit(1)


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest version (safe to repeat)."""
    ctx = app_context()
    database.upgrade(ctx.db.engine)
    click.echo(f"database at revision {database.current_revision(ctx.db.engine)}")
    if not ctx.settings.secret_key:
        click.echo(
            "NOTICES_SECRET_KEY is not set: links are signed with the key stored in the database "
            "(shared by every process that uses it; set NOTICES_SECRET_KEY to manage it yourself)"
        )


@click.group()
def jobs() -> None:
    """Run a scheduled job once, now (what the scheduler does at the right time)."""


@jobs.command("record-transitions")
@click.option("--json", "as_json", is_flag=True)
def record_transitions(as_json: bool) -> None:
    """Record the published/started/ended events that are due."""
    ctx = migrated_context()
    echo_counts(job_functions.record_transitions(ctx, now=ctx.clock.now()), as_json=as_json)


@jobs.command("enqueue-alerts")
@click.option("--json", "as_json", is_flag=True)
def enqueue_alerts(as_json: bool) -> None:
    """Turn new lifecycle events into alerts, and enqueue due reminders (send with `mail send-pending`)."""
    ctx = migrated_context()
    echo_counts(job_functions.enqueue_alerts(ctx, now=ctx.clock.now()), as_json=as_json)


@jobs.command("purge")
@click.option("--json", "as_json", is_flag=True)
def purge(as_json: bool) -> None:
    """Forget unconfirmed sign-ups past their deadline and old rate-limit counters."""
    ctx = migrated_context()
    echo_counts(job_functions.purge(ctx, now=ctx.clock.now()), as_json=as_json)


@click.group()
def feed() -> None:
    """Static copies of the feeds, and the feeds rendered ahead of readers."""


@feed.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def feed_export(directory: Path, as_json: bool) -> None:
    """Write the unfiltered feeds under DIRECTORY (feeds/notices.atom, ..., calendar/notices.ics),
    each other language beside them (feeds/notices.nl.atom, ..., calendar/notices.nl.ics).

    Files are replaced atomically and only when their content changes. Set
    NOTICES_FEED_EXPORT_DIR to have the scheduler keep them current.
    """
    ctx = migrated_context()
    try:
        with progress("exporting feeds", len(exported_files(ctx.settings)), plain=as_json) as advance:
            exported = job_functions.export_feeds(ctx, now=ctx.clock.now(), directory=directory, on_progress=advance)
        counts = {"written": exported["written"], "unchanged": exported["unchanged"]}
    except OSError as error:
        raise UserError(f"{directory}: cannot write there ({error.strerror})") from None
    if as_json:
        echo_json(counts)
    else:
        click.echo(f"{directory}: {counts['written']} written, {counts['unchanged']} unchanged")


@feed.command("prepare")
@click.option("--json", "as_json", is_flag=True)
def feed_prepare(as_json: bool) -> None:
    """Render the notices feeds (Atom, RSS, calendar) and the events feeds (Atom, RSS) in every
    language now, storing their entries and events for every web process: after a release, before
    readers come.

    The scheduler does the same after each write and boundary; this is for a deploy step.
    """
    ctx = migrated_context()
    counts = job_functions.prepare_feeds(ctx, now=ctx.clock.now())
    if as_json:
        echo_json({"feeds": counts["feeds"]})
    else:
        click.echo(f"{counts['feeds']} feeds rendered; their entries and events are stored")


@click.command()
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has notices.")
def demo(if_empty: bool) -> None:
    """Load demo notices (the Plesmanlaan closures and friends) relative to now."""
    ctx = migrated_context()
    now = ctx.clock.now()
    with ctx.db.session() as session, session.begin():
        if if_empty and has_notices(session):
            click.echo("database already has notices; demo data not loaded")
            return
        created = load_demo(session, ctx.settings, now)
        subscribers = load_demo_subscribers(session, ctx.settings, now)
        added_templates = load_demo_templates(session, ctx.settings, now)
        admin_password = None
        if accounts.find_user(session, DEMO_ADMIN) is None:
            admin_password = secrets.token_urlsafe(12)
            accounts.create_user(session, email=DEMO_ADMIN, password=admin_password, role=Role.ADMIN, now=now)
    click.echo(
        f"loaded {len(created)} demo notices, {added_templates} demo templates and {subscribers} demo subscribers"
    )
    if admin_password:
        click.echo(
            f"console login (shown once): {ctx.settings.absolute_url('/admin')}  {DEMO_ADMIN} / {admin_password}"
        )
