"""`notices notice ...`: add, list, show, update, publish, cancel, import notices; attach and detach files."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click
import yaml
from sqlalchemy.orm import Session

from notices.cli.acting import acting, as_option
from notices.cli.common import UserError, author, choice_of, echo_json, migrated_context
from notices.cli.progress import progress
from notices.core.config import LANGUAGES, Settings
from notices.core.context import AppContext
from notices.core.errors import InvalidField
from notices.core.models import Notice
from notices.hooks import enqueue as hook_queue
from notices.mail import staff
from notices.notice import approval, lifecycle, series_changes, store, templates_store
from notices.notice.attachments import links
from notices.notice.attachments import service as attachment_service
from notices.notice.attachments.blobstore import open_store
from notices.notice.languages import TEXT_FIELDS
from notices.notice.lifecycle import Status
from notices.notice.presenters import notice_data
from notices.notice.validation import parse_changes, parse_new_notice, parse_time
from notices.notice.wording import LISTING, Words
from notices.people.roles import Actor


def notice_options(function):
    """The options shared by `add` and `update` (all optional for update)."""
    options = [
        click.option("--title"),
        click.option("--summary"),
        click.option("--body", help="GitHub-flavoured Markdown."),
        click.option(
            "--body-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Read the Markdown body from a file ('-' is not supported).",
        ),
        click.option("--category"),
        click.option("--severity", help="info, minor, major or critical."),
        click.option("--location", "locations", multiple=True, help="A location key; repeat for several."),
        click.option("--location-detail", help="Free text, e.g. 'between Sylviusweg and Einsteinweg'."),
        click.option("--starts", help="When it takes effect: ISO 8601, site wall time, 'now' or '+10m'."),
        click.option("--ends", help="When it ends (same forms); leave out for 'until further notice'."),
        click.option("--expected-end", help="Free text such as 'approximately Q3 2027'."),
        click.option("--publish-at", help="When it is announced (default: now)."),
        click.option(
            "--recurrence",
            metavar="RRULE",
            help="Make it a series: an RFC 5545 rule such as 'FREQ=WEEKLY;BYDAY=TU;COUNT=10', in site wall "
            "time from --starts (the first occurrence); '' (update) makes it a single notice again.",
        ),
        click.option("--occurrence-minutes", type=str, help="How long each occurrence of a series lasts, in minutes."),
        click.option("--duration", help="The same as --occurrence-minutes, as 2h, 90m or 1h30m."),
        click.option(
            "--geometry",
            "geometry_file",
            metavar="FILE",
            help="GeoJSON file with where it applies (the closed segment, a diversion); '-' reads standard "
            "input; '' (update) removes it.",
        ),
    ]
    # The text options above are the site's default language; --title-nl and the like give another
    # (one of [site] languages; in an update, '' removes that language's text of the field).
    for language in LANGUAGES:
        for field in TEXT_FIELDS:
            flag = field.replace("_", "-")
            options.append(click.option(f"--{flag}-{language}", f"{field}_{language}", help=f"--{flag} in {language}."))
    for option in reversed(options):
        function = option(function)
    return function


def _raw_fields(
    settings: Settings,
    *,
    title,
    summary,
    body,
    body_file,
    category,
    severity,
    locations,
    location_detail,
    starts,
    ends,
    expected_end,
    publish_at,
    geometry_file,
    recurrence=None,
    occurrence_minutes=None,
    duration=None,
    **per_language: str | None,
) -> dict:
    if body is not None and body_file is not None:
        raise UserError("--body and --body-file: give one of them, not both")
    if body_file is not None:
        try:
            body = body_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UserError(f"--body-file: cannot read {body_file} ({error})") from None
    raw = {
        "geometry": _read_geometry(geometry_file),
        "title": title,
        "summary": summary,
        "body": body,
        "category": category,
        "severity": severity,
        "locations": list(locations) if locations else None,
        "location_detail": location_detail,
        "starts_at": starts,
        "ends_at": ends,
        "expected_end": expected_end,
        "publish_at": publish_at,
        "recurrence": recurrence,
        "occurrence_minutes": _minutes(occurrence_minutes, duration),
    }
    for field in TEXT_FIELDS:
        texts = {
            language: per_language[f"{field}_{language}"]
            for language in LANGUAGES
            if per_language.get(f"{field}_{language}") is not None
        }
        if not texts:
            continue
        flag = field.replace("_", "-")
        if settings.language in texts and raw[field] is not None:
            raise UserError(f"--{flag} and --{flag}-{settings.language}: give one of them, not both")
        if raw[field] is not None:
            texts[settings.language] = raw[field]
        raw[field] = texts  # {"en": ..., "nl": ...}: validation names the field and language
    return {key: value for key, value in raw.items() if value is not None}


_DURATION = re.compile(r"^(?:(\d{1,3})h)?(?:(\d{1,5})m)?$")


def _minutes(occurrence_minutes: str | None, duration: str | None) -> str | None:
    """--occurrence-minutes as given, or --duration (2h, 90m, 1h30m) in minutes."""
    if duration is None:
        return occurrence_minutes
    if occurrence_minutes is not None:
        raise UserError("--occurrence-minutes and --duration: give one of them, not both")
    match = _DURATION.match(duration.strip().lower())
    if not duration.strip() or match is None or not any(match.groups()):
        raise UserError(f"--duration: {duration!r} is not a duration like 2h, 90m or 1h30m")
    hours, minutes = (int(part or 0) for part in match.groups())
    return str(hours * 60 + minutes)


def _read_geometry(name: str | None) -> str | None:
    """The GeoJSON text of --geometry FILE ('-': standard input; '': none, to remove it)."""
    if name is None or name == "":
        return name
    try:
        with click.open_file(name, encoding="utf-8") as handle:  # "-" is standard input
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"--geometry: cannot read {name} ({error})") from None


def _print_notice(notice, ctx, *, as_json: bool, with_history: bool = False) -> None:
    now = ctx.clock.now()
    zone = ctx.settings.timezone
    settings = ctx.settings
    if as_json:
        echo_json(notice_data(notice, zone=zone, now=now, settings=settings, with_history=with_history))
        return
    data = notice_data(notice, zone=zone, now=now, settings=settings, with_history=with_history)
    for key in (
        "uid",
        "status",
        "title",
        "category",
        "severity",
        "locations",
        "publish_at",
        "starts_at",
        "ends_at",
        "expected_end",
        "version",
    ):
        value = data[key]
        if isinstance(value, list):
            value = ", ".join(value)
        click.echo(f"{key + ':':14} {value if value not in (None, '') else '-'}")
    for language, texts in data["languages"].items():
        if language == settings.language:
            continue
        shown = {field: text for field, text in texts.items() if text}
        if not shown:
            click.echo(f"{language + ':':14} - (no text of its own: readers get the {settings.language} text)")
        for field, text in shown.items():
            if field == "body":
                text = f"({len(text)} characters; --json shows it)"
            click.echo(f"{field + '.' + language + ':':14} {text}")
    if data.get("geometry"):
        roles = [feature["properties"]["role"] for feature in data["geometry"]["features"]]
        click.echo(f"{'geometry:':14} {', '.join(roles)} (GeoJSON: --json)")
    if data.get("cancelled_at"):
        click.echo(f"{'cancelled:':14} {data['cancelled_at']} ({data['cancel_reason']})")
    if data["recurrence"]:
        _print_series(data)
    if with_history:
        click.echo("events:")
        for event in data["events"] or [{"kind": "(none yet)", "occurred_at": "", "version": "", "occurrence": ""}]:
            version = f"v{event['version']}" if event["version"] else ""
            about = f" occurrence {event['occurrence']}" if event.get("occurrence") else ""
            click.echo(f"  {event['kind']:12} {event['occurred_at']} {version}{about}")


def _print_series(data: dict) -> None:
    """A series' rule, its coming occurrences (with the ids that cancel-occurrence and
    move-occurrence take) and its exceptions, times in site time."""
    click.echo(f"{'recurrence:':14} {data['recurrence']}, {data['occurrence_minutes']} minutes each")
    click.echo("occurrences:" if data["upcoming_occurrences"] else "occurrences:   none to come")
    for occurrence in data["upcoming_occurrences"]:
        moved = " (moved)" if occurrence["moved"] else ""
        click.echo(f"  {occurrence['id']}  {occurrence['starts_at']} → {occurrence['ends_at']}{moved}")
    for occurrence in data["exceptions"]:
        if occurrence["cancelled"]:
            reason = f": {occurrence['reason']}" if occurrence["reason"] else ""
            click.echo(f"  {occurrence['id']}  {occurrence['original_start']} cancelled{reason}")
        elif occurrence["moved"]:
            click.echo(f"  {occurrence['id']}  {occurrence['original_start']} moved to {occurrence['starts_at']}")


@click.group()
def notice() -> None:
    """Add, list, show, update, publish, cancel and import notices."""


@notice.command("add")
@notice_options
@click.option(
    "--skip",
    "skipped",
    multiple=True,
    metavar="DATE",
    help="A series: leave out the occurrence on this local date (2026-12-08) or with this id; repeat for several.",
)
@click.option("--draft", is_flag=True, help="Save without publishing.")
@click.option(
    "--template",
    "template_name",
    metavar="NAME",
    help="Start from this template (name or id): its fields, under the options given here.",
)
@as_option
@click.option("--json", "as_json", is_flag=True, help="Print the new notice as JSON.")
def add(
    skipped: tuple[str, ...], draft: bool, template_name: str | None, as_email: str | None, as_json: bool, **options
) -> None:
    """Add a notice; it is published now unless --publish-at or --draft says otherwise
    (or, --as a user, submitted for approval when its severity needs it). With --recurrence
    and --occurrence-minutes (or --duration) it is a series: --starts is its first occurrence."""
    ctx = migrated_context()
    raw = _raw_fields(ctx.settings, **options)
    if draft:
        raw["draft"] = True
    if skipped:
        raw["skip"] = list(skipped)
    now = ctx.clock.now()
    if template_name is not None:
        with ctx.db.session() as session:
            try:
                found = templates_store.get_template(session, template_name)
            except templates_store.TemplateNotFound as error:
                raise UserError(f"--template: {error}") from None
            raw = templates_store.with_defaults(found, raw, ctx.settings)
    fields = parse_new_notice(raw, settings=ctx.settings, now=now)
    with ctx.db.session() as session, session.begin():
        created, waiting = approval.create(
            session, fields, actor=acting(session, as_email), settings=ctx.settings, now=now
        )
    staff.notify(ctx, waiting, now=now)
    _print_notice(created, ctx, as_json=as_json)


@notice.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=choice_of(Status),
    help="Only notices with this status; repeat for several. Default: upcoming and active.",
)
@click.option("--all", "show_all", is_flag=True, help="Every notice, whatever its status.")
@click.option("--json", "as_json", is_flag=True)
def list_(statuses: tuple[str, ...], show_all: bool, as_json: bool) -> None:
    """List notices, soonest start first."""
    ctx = migrated_context()
    now = ctx.clock.now()
    wanted = None if show_all else {Status(value) for value in statuses} or set(lifecycle.VISIBLE_STATUSES)
    with ctx.db.session() as session:
        notices = store.list_notices(session, now, wanted)
    zone = ctx.settings.timezone
    if as_json:
        echo_json([notice_data(item, zone=zone, now=now, settings=ctx.settings) for item in notices])
        return
    if not notices:
        click.echo("no notices")
    words = Words.of_site(ctx.settings)
    for item in notices:
        starts = words.time(item.starts_at, LISTING)
        ends = words.time(item.ends_at, LISTING) if item.ends_at else "until further notice"
        click.echo(
            f"{item.uid[:8]}  {lifecycle.status_at(item, now):9}  {starts} → {ends:20}  {item.category:13} {item.title}"
        )


@notice.command("show")
@click.argument("uid")
@click.option("--json", "as_json", is_flag=True)
def show(uid: str, as_json: bool) -> None:
    """Show one notice with its derived status and the lifecycle events recorded so far."""
    ctx = migrated_context()
    with ctx.db.session() as session:
        found = store.get_notice(session, uid, with_history=True)
        _print_notice(found, ctx, as_json=as_json, with_history=True)


@notice.command("update")
@click.argument("uid")
@notice_options
@click.option("--note", required=True, help="What changed and why, e.g. 'closure extended to 12 December'.")
@click.option("--minor", is_flag=True, help="A text-only correction: not held for approval (audited).")
@as_option
@click.option("--json", "as_json", is_flag=True)
def update(uid: str, note: str, minor: bool, as_email: str | None, as_json: bool, **options) -> None:
    """Change a notice. `--ends ''` makes it open-ended."""
    ctx = migrated_context()
    raw = _raw_fields(ctx.settings, **options)
    if not raw:
        raise UserError("nothing to change: give at least one field option")
    if not note.strip():
        raise UserError("--note: describe the change")
    now = ctx.clock.now()
    with ctx.db.writing() as session, session.begin():
        found = store.get_notice(session, uid, for_update=True)
        fields = parse_changes(raw, current=store.fields_of(found), settings=ctx.settings, now=now)
        waiting = approval.update(
            session,
            found,
            fields,
            note=note.strip(),
            minor=minor,
            actor=acting(session, as_email),
            settings=ctx.settings,
            now=now,
        )
        hook_queue.enqueue_new_events(session, settings=ctx.settings, now=now)  # with the event, in its transaction
    staff.notify(ctx, waiting, now=now)
    if waiting is not None:
        click.echo("the change waits for approval; the published version stays as it is", err=True)
    _print_notice(found, ctx, as_json=as_json)


@notice.command("publish")
@click.argument("uid")
@click.option("--at", "publish_at", default="now", show_default=True, help="When to announce it.")
@as_option
@click.option("--json", "as_json", is_flag=True)
def publish(uid: str, publish_at: str, as_email: str | None, as_json: bool) -> None:
    """Publish a draft now, or schedule it with --at."""
    ctx = migrated_context()
    now = ctx.clock.now()
    with ctx.db.writing() as session, session.begin():
        found = store.get_notice(session, uid, for_update=True)
        if found.publish_at is not None and found.publish_at <= now:
            raise UserError("the notice is already published")
        try:
            fields = parse_changes(
                {"publish_at": publish_at}, current=store.fields_of(found), settings=ctx.settings, now=now
            )
        except InvalidField as error:  # the time was given as --at here
            raise UserError(f"--at: {error.problem}") from None
        waiting = approval.update(
            session,
            found,
            fields,
            note="published",
            minor=False,
            actor=acting(session, as_email),
            settings=ctx.settings,
            now=now,
        )
    staff.notify(ctx, waiting, now=now)
    if waiting is not None:
        click.echo("submitted for approval: it is published once an approver approves it", err=True)
    _print_notice(found, ctx, as_json=as_json)


@notice.command("cancel")
@click.argument("uid")
@click.option("--reason", required=True, help="Shown to readers, e.g. 'works postponed to spring'.")
@click.option(
    "--occurrence",
    "occurrence_id",
    metavar="ID",
    help="Cancel only this occurrence of a series (its id, as `notice show` lists them); the series goes on.",
)
@as_option
@click.option("--json", "as_json", is_flag=True)
def cancel(uid: str, reason: str, occurrence_id: str | None, as_email: str | None, as_json: bool) -> None:
    """Cancel a notice; it leaves the feeds and keeps its history and reason.
    With --occurrence, cancel one occurrence of a series (a schedule change: --as a user, it may
    wait for approval)."""
    ctx = migrated_context()
    if not reason.strip():
        raise UserError("--reason: give a reason for readers")
    if occurrence_id is not None:
        _change_occurrence(
            ctx,
            uid,
            lambda session, found, actor, now: series_changes.cancel_occurrence(
                session, found, occurrence_id, reason=reason, actor=actor, settings=ctx.settings, now=now
            ),
            waiting="the cancellation waits for approval; the occurrence stays on until then",
            as_email=as_email,
            as_json=as_json,
        )
        return
    now = ctx.clock.now()
    with ctx.db.writing() as session, session.begin():
        actor = acting(session, as_email)
        actor.require_writer()  # an approver reviews notices, and may not cancel one (as in the console and the API)
        found = store.get_notice(session, uid, for_update=True)
        store.cancel_notice(session, found, reason=reason.strip(), now=now, author=actor.label)
        hook_queue.enqueue_new_events(session, settings=ctx.settings, now=now)
    _print_notice(found, ctx, as_json=as_json)


@notice.command("move-occurrence")
@click.argument("uid")
@click.argument("occurrence_id", metavar="OCCURRENCE")
@click.option("--starts", required=True, help="Its new start: ISO 8601, site wall time, 'now' or '+10m'.")
@click.option("--ends", help="Its new end (default: it keeps its length).")
@click.option("--note", required=True, help="What changed and why; shown to readers.")
@as_option
@click.option("--json", "as_json", is_flag=True)
def move_occurrence(
    uid: str, occurrence_id: str, starts: str, ends: str | None, note: str, as_email: str | None, as_json: bool
) -> None:
    """Move one occurrence of a series to another time (the others stay where the rule puts them)."""
    ctx = migrated_context()
    if not note.strip():
        raise UserError("--note: describe the change")

    def move(session, found, actor, now):
        starts_at = parse_time(starts, "starts_at", settings=ctx.settings, now=now)
        ends_at = None if ends is None else parse_time(ends, "ends_at", settings=ctx.settings, now=now)
        return series_changes.move_occurrence(
            session,
            found,
            occurrence_id,
            starts_at=starts_at,
            ends_at=ends_at,
            note=note,
            actor=actor,
            settings=ctx.settings,
            now=now,
        )

    _change_occurrence(
        ctx,
        uid,
        move,
        waiting="the move waits for approval; the occurrence stays where it is until then",
        as_email=as_email,
        as_json=as_json,
    )


def _change_occurrence(
    ctx: AppContext,
    uid: str,
    change: Callable[[Session, Notice, Actor, datetime], approval.Notification | None],
    *,
    waiting: str,
    as_email: str | None,
    as_json: bool,
) -> None:
    """Change one occurrence of the series `uid` (notice.series_changes), with its hook deliveries in
    the same transaction; then tell the approvers if it is held, and print the notice."""
    now = ctx.clock.now()
    with ctx.db.writing() as session, session.begin():
        found = store.get_notice(session, uid, for_update=True)
        notification = change(session, found, acting(session, as_email), now)
        hook_queue.enqueue_new_events(session, settings=ctx.settings, now=now)
    staff.notify(ctx, notification, now=now)
    if notification is not None:
        click.echo(waiting, err=True)
    _print_notice(found, ctx, as_json=as_json)


def read_import_file(path: Path) -> list[dict]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: cannot read the file ({error})") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise UserError(
            f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'} ({error})".replace("\n", " ")
        ) from None
    if isinstance(data, dict) and isinstance(data.get("notices"), list):
        data = data["notices"]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise UserError(f"{path}: expected a list of notices (mappings), or a mapping with a 'notices' list")
    return data


@notice.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def import_(file: Path, as_json: bool) -> None:
    """Import notices from a YAML or JSON list: all of them, or none if any is invalid."""
    ctx = migrated_context()
    now = ctx.clock.now()
    items = read_import_file(file)
    validated = []
    for position, item in enumerate(items, start=1):
        try:
            validated.append(parse_new_notice(item, settings=ctx.settings, now=now))
        except InvalidField as error:
            raise UserError(f"{file}: notice {position}: {error}") from None
    created = []
    with progress("importing", len(validated), plain=as_json) as advance, ctx.db.session() as session, session.begin():
        for fields in validated:
            created.append(store.create_notice(session, fields, now=now, author=author()))
            advance(1)
    if as_json:
        echo_json([notice_data(item, zone=ctx.settings.timezone, now=now, settings=ctx.settings) for item in created])
    else:
        click.echo(f"imported {len(created)} notice{'s' if len(created) != 1 else ''}")


@notice.command("attach")
@click.argument("uid")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--title", default="", help="What the file shows (an image's alternative text).")
@click.option("--json", "as_json", is_flag=True)
def attach(uid: str, file: Path, title: str, as_json: bool) -> None:
    """Attach an image (PNG, JPEG, WebP) or a PDF; images lose their metadata (location, camera)."""
    ctx = migrated_context()
    limit = ctx.settings.attachments_max_bytes
    try:
        with file.open("rb") as handle:
            data = handle.read(limit + 1)  # one byte past the limit tells a file that is too large
    except OSError as error:
        raise UserError(f"FILE: cannot read {file} ({error.strerror})") from None
    if len(data) > limit:
        raise UserError(f"FILE: {file} is larger than {limit} bytes ([attachments] max_bytes)")
    now = ctx.clock.now()
    with ctx.db.writing() as session, session.begin():
        found = store.get_notice(session, uid, for_update=True)
        attachment, created = attachment_service.attach(
            session,
            open_store(ctx.settings),
            found,
            data=data,
            filename=file.name,
            title=title,
            actor=author(),
            now=now,
        )
        shown = links.shown(attachment)
        url = ctx.settings.absolute_url(shown.path)
        if as_json:
            echo_json({"id": shown.id, "filename": shown.filename, "url": url, "size": shown.size, "new": created})
        else:
            click.echo(
                f"{shown.id}\t{shown.filename}\t{shown.size} bytes\t{url}" + ("" if created else "\t(already attached)")
            )


@notice.command("detach")
@click.argument("uid")
@click.argument("attachment_id", type=int)
def detach(uid: str, attachment_id: int) -> None:
    """Remove an attachment (its id from `notice attach` or `notice show --json`)."""
    ctx = migrated_context()
    with ctx.db.writing() as session, session.begin():
        found = store.get_notice(session, uid, for_update=True)
        removed = attachment_service.detach(session, found, attachment_id, actor=author(), now=ctx.clock.now())
        click.echo(f"removed {removed.filename}")
