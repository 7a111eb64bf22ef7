"""Small explicit factories for tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from notices.core.context import AppContext
from notices.core.models import Notice
from notices.notice import store
from notices.notice.validation import parse_changes, parse_new_notice


def add_notice(ctx: AppContext, *, now: datetime | None = None, **overrides) -> Notice:
    """A valid published notice starting in an hour and ending in a day, unless told otherwise."""
    now = now or ctx.clock.now()
    raw = {
        "title": "Plesmanlaan closed",
        "category": "road-closure",
        "severity": "major",
        "locations": ["plesmanlaan"],
        "starts_at": now + timedelta(hours=1),
        "ends_at": now + timedelta(days=1),
    }
    raw.update(overrides)
    if isinstance(overrides.get("starts_at"), datetime) and "ends_at" not in overrides:
        raw["ends_at"] = overrides["starts_at"] + timedelta(days=1)
    raw = {key: value for key, value in raw.items() if value is not None}
    fields = parse_new_notice(raw, settings=ctx.settings, now=now)
    with ctx.db.session() as session, session.begin():
        return store.create_notice(session, fields, now=now, author="test")


def edit_notice(ctx: AppContext, uid: str, *, note: str = "edit", **changes) -> None:
    """A manager's change to the notice `uid` (its version bumped, an updated or rescheduled event)."""
    now = ctx.clock.now()
    with ctx.db.writing() as session, session.begin():
        notice = store.get_notice(session, uid, for_update=True)
        fields = parse_changes(changes, current=store.fields_of(notice), settings=ctx.settings, now=now)
        store.update_notice(session, notice, fields, note=note, now=now, author="test")


def reload(ctx: AppContext, uid: str) -> Notice:
    with ctx.db.session() as session:
        return store.get_notice(session, uid, with_history=True)


def write_as_old_row(ctx: AppContext, notice: Notice, **columns) -> None:
    """Set the notice's columns straight in its row, as data from before input was checked (or a
    hand-made SQL fix) holds them: nothing cleans or checks them on the way in."""
    with ctx.db.writing() as session, session.begin():
        session.execute(update(Notice).where(Notice.id == notice.id).values(**columns))


def write_old_row_text(ctx: AppContext, notice: Notice, hostile: str) -> None:
    """`hostile` amid the notice's one-line texts, as an old row may hold them (write_as_old_row):
    'Plesmanlaan {hostile} closed', 'Follow {hostile} the diversion.', 'Q3 {hostile} 2027' (the
    expected end), 'north {hostile} gate' (the location detail)."""
    write_as_old_row(
        ctx,
        notice,
        title=f"Plesmanlaan {hostile} closed",
        summary=f"Follow {hostile} the diversion.",
        expected_end=f"Q3 {hostile} 2027",
        location_detail=f"north {hostile} gate",
    )


def add_subscriber(ctx: AppContext, email: str = "tenant@example.org", *, state: str = "confirmed", **preferences):
    """A subscriber added the way an operator import does (confirmed unless told otherwise)."""
    from notices.mail import subscriptions
    from notices.people.addresses import normalise_email

    prefs = subscriptions.parse_preferences({"frequency": "immediate", **preferences}, ctx.settings)
    with ctx.db.writing() as session, session.begin():
        subscriber = subscriptions.add_by_operator(
            session,
            email=normalise_email(email),
            preferences=prefs,
            send_confirmation=state == "pending",
            now=ctx.clock.now(),
            settings=ctx.settings,
        )
        session.flush()
        return subscriber.id


def add_user(
    ctx: AppContext,
    email: str = "manager@example.org",
    *,
    role: str = "manager",
    password: str = "correct horse battery",
) -> str:
    from notices.people import accounts

    with ctx.db.writing() as session, session.begin():
        accounts.create_user(session, email=email, password=password, role=role, now=ctx.clock.now())
    return password


def add_token(ctx: AppContext, email: str) -> str:
    from notices.people import accounts

    with ctx.db.writing() as session, session.begin():
        user = accounts.find_user(session, email)
        assert user is not None, f"no user {email}: add it first"
        return accounts.create_token(session, user, name="test", now=ctx.clock.now())
