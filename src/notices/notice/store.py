"""Reading and writing notices: every write keeps revisions, events and the data version right."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CompoundSelect, Select, and_, func, or_, select, union_all
from sqlalchemy.orm import Session, lazyload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from notices.core import site_state
from notices.core.db import insert_ignoring_duplicates, one_of
from notices.core.errors import Conflict, NotFound
from notices.core.i18n import lazy_gettext
from notices.core.models import Notice, NoticeAttachment, NoticeEvent, NoticeRevision, table_of
from notices.core.states import EventKind, Phase
from notices.notice import lifecycle, recurrence, series
from notices.notice.lifecycle import NO_FILTERS, Filters, Status
from notices.notice.validation import SCHEDULE_FIELDS, NoticeFields, parse_note
from notices.people import audit


class NoticeNotFound(NotFound):
    pass


class NoticeConflict(Conflict):
    """The change does not fit the notice's state (e.g. cancelling a cancelled notice)."""


PUBLIC_FIELDS = (
    "title",
    "summary",
    "body",
    "category",
    "severity",
    "locations",
    "location_detail",
    "publish_at",
    "starts_at",
    "ends_at",
    "expected_end",
    "geometry",
    # The other languages' text (see notice.languages): revisions and the history carry every language.
    "translations",
    # A series' rule, occurrence length, zone and exceptions (see notice.recurrence).
    "recurrence",
    "occurrence_minutes",
    "recurrence_zone",
    "occurrence_changes",
)


def fields_of(notice: Notice) -> NoticeFields:
    values = {name: getattr(notice, name) for name in PUBLIC_FIELDS}
    values["locations"] = tuple(values["locations"] or ())
    values["translations"] = {language: dict(texts) for language, texts in (values["translations"] or {}).items()}
    values["occurrence_changes"] = {key: dict(change) for key, change in (values["occurrence_changes"] or {}).items()}
    return NoticeFields(**values)


def snapshot(notice: Notice) -> dict[str, object]:
    """The public fields as JSON-ready values (times in UTC ISO 8601)."""
    data: dict[str, object] = {}
    for name in PUBLIC_FIELDS + ("version", "cancel_reason"):
        value = getattr(notice, name)
        data[name] = value.isoformat() if isinstance(value, datetime) else list(value) if name == "locations" else value
    data["cancelled_at"] = notice.cancelled_at.isoformat() if notice.cancelled_at else None
    return data


def create_notice(session: Session, fields: NoticeFields, *, now: datetime, author: str) -> Notice:
    values = fields.as_dict()
    values["locations"] = list(values["locations"])
    notice = Notice(
        uid=str(uuid.uuid4()),
        version=1,
        announced_phase=Phase.NONE,
        cancel_reason="",
        created_at=now,
        created_by=author,
        updated_at=now,
        updated_by=author,
        **values,
    )
    session.add(notice)
    session.flush()
    _add_revision(session, notice, now=now, author=author, note="created")
    audit.record(
        session,
        actor=author,
        action="notice.draft" if notice.publish_at is None else "notice.create",
        target=notice.uid,
        detail=notice.title,
        now=now,
    )
    site_state.bump_data_version(session, now)
    return notice


def update_notice(
    session: Session, notice: Notice, fields: NoticeFields, *, note: str, now: datetime, author: str
) -> Notice:
    """Apply validated fields; bumps the version, keeps a revision, records updated/rescheduled."""
    note = parse_note(note, "note")
    if notice.cancelled_at is not None:
        raise NoticeConflict(lazy_gettext("the notice is cancelled; cancelled notices cannot be changed"))
    before = fields_of(notice)
    if fields == before:
        raise NoticeConflict(lazy_gettext("nothing to change: the given values are the notice's current values"))
    was_public = _is_announced(notice, now)
    values = fields.as_dict()
    values["locations"] = list(values["locations"])
    for name, value in values.items():
        setattr(notice, name, value)
    notice.version += 1
    notice.updated_at, notice.updated_by = now, author
    times_changed = any(getattr(before, name) != getattr(fields, name) for name in SCHEDULE_FIELDS)
    # Where a closure is matters as much as when: a moved segment or a new diversion is announced
    # (and alerted) like new times, not filed as a text edit.
    place_changed = before.geometry != fields.geometry
    # If the new times move the notice back to an earlier phase (an ended
    # closure extended, a start postponed), the job must announce it again.
    current_phase = phase_at(notice, now)
    if _PHASES.index(current_phase) < _PHASES.index(Phase(notice.announced_phase)):
        notice.announced_phase = current_phase
    _add_revision(session, notice, now=now, author=author, note=note)
    audit.record(session, actor=author, action="notice.update", target=notice.uid, detail=note, now=now)
    # A first publication is announced by the job's "published" event instead.
    if was_public:
        one_occurrence = series.occurrence_change(before, fields)
        if one_occurrence is not None:
            # One occurrence cancelled or moved: told once, about that occurrence (its id).
            occurrence, kind = one_occurrence
            # Cancelled while under way: it did start (readers, hooks and calendars were told so),
            # so it ends at the cancellation, as a notice cancelled while active stops being in
            # effect then; a consumer pairing each start with an end is told both. The job never
            # records it: a cancelled occurrence has no boundaries left.
            cut_short = kind == EventKind.CANCELLED and _under_way(before, occurrence, now)
            if cut_short:
                _record_start_if_untold(session, notice, before, occurrence, now)
            _record_event(session, notice, kind, now=now, detail=note, occurrence=occurrence)
            if cut_short:
                _record_event(session, notice, EventKind.ENDED, now=now, occurrence=occurrence)
        else:
            kind = EventKind.RESCHEDULED if times_changed or place_changed else EventKind.UPDATED
            _record_event(session, notice, kind, now=now, detail=note)
    site_state.bump_data_version(session, now)
    return notice


def cancel_notice(session: Session, notice: Notice, *, reason: str, now: datetime, author: str) -> Notice:
    """Cancel; announced (an event, alerts, the event feed) only if the notice was ever announced."""
    reason = parse_note(reason, "reason")
    status = lifecycle.status_at(notice, now)
    if status is Status.CANCELLED:
        raise NoticeConflict(lazy_gettext("the notice is already cancelled"))
    if status is Status.ENDED:
        raise NoticeConflict(lazy_gettext("the notice has already ended; there is nothing to cancel"))
    notice.cancelled_at, notice.cancel_reason = now, reason
    notice.version += 1
    notice.updated_at, notice.updated_by = now, author
    _add_revision(session, notice, now=now, author=author, note=f"cancelled: {reason}")
    audit.record(session, actor=author, action="notice.cancel", target=notice.uid, detail=reason, now=now)
    # A draft or a scheduled notice was never shown to anyone: telling
    # subscribers "Cancelled: ..." would announce something they never heard of.
    if status not in (Status.DRAFT, Status.SCHEDULED):
        _record_event(session, notice, EventKind.CANCELLED, now=now, detail=reason)
    site_state.bump_data_version(session, now)
    return notice


def _under_way(fields: NoticeFields, occurrence_id: str, now: datetime) -> bool:
    occurrence = recurrence.find_occurrence(fields, occurrence_id)
    return occurrence is not None and not occurrence.cancelled and occurrence.starts_at <= now < occurrence.ends_at


def _record_start_if_untold(
    session: Session, notice: Notice, before: NoticeFields, occurrence_id: str, now: datetime
) -> None:
    """The occurrence's started event, if the job has not recorded it yet (it ran late): told now,
    before the cancellation, or never (the job only looks at occurrences after the last told)."""
    told = session.scalar(
        select(NoticeEvent.id).where(
            NoticeEvent.notice_id == notice.id,
            NoticeEvent.kind == EventKind.STARTED,
            NoticeEvent.occurrence == occurrence_id,
        )
    )
    occurrence = recurrence.find_occurrence(before, occurrence_id)
    if told is None and occurrence is not None and before.publish_at is not None:
        started_at = max(occurrence.starts_at, before.publish_at)
        _record_event(session, notice, EventKind.STARTED, now=now, occurred_at=started_at, occurrence=occurrence_id)


def _is_announced(notice: Notice, now: datetime) -> bool:
    return notice.publish_at is not None and notice.publish_at <= now


def _add_revision(session: Session, notice: Notice, *, now: datetime, author: str, note: str) -> None:
    session.add(
        NoticeRevision(
            notice_id=notice.id,
            version=notice.version,
            changed_at=now,
            changed_by=author,
            change_note=note,
            snapshot=snapshot(notice),
        )
    )


def _record_event(
    session: Session,
    notice: Notice,
    kind: str,
    *,
    now: datetime,
    occurred_at: datetime | None = None,
    detail: str = "",
    occurrence: str = "",
) -> bool:
    return insert_ignoring_duplicates(
        session,
        table_of(NoticeEvent),
        {
            "notice_id": notice.id,
            "kind": kind,
            "version": notice.version,
            "occurrence": occurrence,
            "occurred_at": occurred_at or now,
            "recorded_at": now,
            "detail": detail,
        },
    )


# Phases whose start is a lifecycle event, in order.
_PHASES = tuple(Phase)


def phase_at(notice: Notice, now: datetime) -> Phase:
    if notice.publish_at is None or notice.publish_at > now:
        return Phase.NONE
    if notice.ends_at is not None and notice.ends_at <= now:
        return Phase.ENDED
    if recurrence.is_recurring(notice):
        # A series starts and ends per occurrence (their own events); as a whole it is
        # published until its last occurrence has ended.
        return Phase.PUBLISHED
    return Phase.STARTED if notice.starts_at <= now else Phase.PUBLISHED


# The event that announces each phase.
_PHASE_EVENTS = {Phase.PUBLISHED: EventKind.PUBLISHED, Phase.STARTED: EventKind.STARTED, Phase.ENDED: EventKind.ENDED}


def record_due_events(session: Session, notice: Notice, now: datetime) -> list[EventKind]:
    """Record the published/started/ended events due at `now` that are not yet recorded.

    Each event carries the boundary instant as occurred_at, so a catch-up after
    downtime still tells when things happened.
    """
    published = notice.publish_at
    if published is None:
        return []  # a draft: nothing has happened in public (phase_at says NONE)
    if recurrence.is_recurring(notice):
        return _record_due_series_events(session, notice, now)
    target = phase_at(notice, now)
    done = _PHASES.index(Phase(notice.announced_phase))
    recorded = []
    # Nothing happens in public before publication: a notice published after
    # it started "starts" (for readers) when it is published.
    instants = {
        Phase.PUBLISHED: published,
        Phase.STARTED: max(notice.starts_at, published),
        Phase.ENDED: max(notice.ends_at, published) if notice.ends_at else None,
    }
    for phase in _PHASES[done + 1 : _PHASES.index(target) + 1]:
        kind = _PHASE_EVENTS[phase]
        if _record_event(session, notice, kind, now=now, occurred_at=instants[phase]):
            recorded.append(kind)
    if target != notice.announced_phase and _PHASES.index(target) > done:
        notice.announced_phase = target
    return recorded


def _record_due_series_events(session: Session, notice: Notice, now: datetime) -> list[EventKind]:
    """A series: published once (occurrence ""), then each occurrence's started and ended events.

    Only occurrences since publication, or since the last occurrence event recorded, are looked
    at: a catch-up after downtime records the missed ones, never the years before. An occurrence
    under way when the series was published "starts" (for readers) at publication.
    """
    assert notice.publish_at is not None  # drafts return earlier
    published = notice.publish_at
    recorded: list[EventKind] = []
    if notice.announced_phase == Phase.NONE and _record_event(
        session, notice, EventKind.PUBLISHED, now=now, occurred_at=published
    ):
        recorded.append(EventKind.PUBLISHED)
    told = _occurrence_events(session, notice)
    since = max([published, *(instant for _, _, instant in told)])
    done = {(kind, occurrence) for kind, occurrence, _ in told}
    for occurrence in recurrence.occurrences(notice, after=since, before=now + timedelta(microseconds=1)):
        due = [(EventKind.STARTED, max(occurrence.starts_at, published))]
        if occurrence.ends_at <= now:
            due.append((EventKind.ENDED, occurrence.ends_at))
        for kind, instant in due:
            # Once per occurrence, whatever version the series had when it was told.
            if (kind, occurrence.id) in done:
                continue
            if _record_event(session, notice, kind, now=now, occurred_at=instant, occurrence=occurrence.id):
                recorded.append(kind)
    target = phase_at(notice, now)
    if _PHASES.index(target) > _PHASES.index(Phase(notice.announced_phase)):
        notice.announced_phase = target
    return recorded


def _occurrence_events(session: Session, notice: Notice) -> list[tuple[str, str, datetime]]:
    """The started/ended events of the series' latest occurrence told: (kind, occurrence, when)."""
    latest = session.scalar(
        select(func.max(NoticeEvent.occurred_at)).where(
            NoticeEvent.notice_id == notice.id,
            NoticeEvent.occurrence != "",
            NoticeEvent.kind.in_([EventKind.STARTED, EventKind.ENDED]),
        )
    )
    if latest is None:
        return []
    rows = session.execute(
        select(NoticeEvent.kind, NoticeEvent.occurrence, NoticeEvent.occurred_at).where(
            NoticeEvent.notice_id == notice.id,
            NoticeEvent.occurrence != "",
            NoticeEvent.kind.in_([EventKind.STARTED, EventKind.ENDED]),
            # The latest told, and any told since the earliest still under way then.
            NoticeEvent.occurred_at >= latest - timedelta(minutes=recurrence.MAX_OCCURRENCE_MINUTES),
        )
    ).all()
    return [(kind, occurrence, occurred_at) for kind, occurrence, occurred_at in rows]


def notices_due_for_events(session: Session, now: datetime) -> Sequence[Notice]:
    """Published, not cancelled, not yet announced as ended: a small set (see ix_notices_unannounced)."""
    return session.scalars(
        select(Notice)
        .where(Notice.cancelled_at.is_(None), Notice.announced_phase != Phase.ENDED, Notice.publish_at <= now)
        .order_by(Notice.id)
    ).all()


def get_notice(session: Session, uid: str, *, with_history: bool = False, for_update: bool = False) -> Notice:
    """Find a notice by its uid, or by an unambiguous prefix of at least 6 characters.

    for_update=True locks the row until the transaction ends (SELECT ... FOR UPDATE on
    PostgreSQL), for a read that decides a write: two writers of one notice then take turns,
    and the second sees the first one's version instead of both writing the same next one.
    SQLite has no row locks; its writers already hold the database lock (Database.writing).
    """
    uid = uid.strip().lower()
    query = select(Notice)
    if for_update:
        # populate_existing: the values read under the lock win over any copy already in the session.
        query = query.with_for_update().execution_options(populate_existing=True)
    if with_history:
        query = query.options(selectinload(Notice.revisions), selectinload(Notice.events))
    if len(uid) < 36:
        if len(uid) < 6:
            raise NoticeNotFound(f"no notice {uid!r}: give the uid or at least its first 6 characters")
        matches = session.scalars(query.where(Notice.uid.startswith(uid, autoescape=True)).limit(2)).all()
        if len(matches) > 1:
            raise NoticeNotFound(f"{uid!r} matches more than one notice; give more of the uid")
        notice = matches[0] if matches else None
    else:
        notice = session.scalars(query.where(Notice.uid == uid)).first()
    if notice is None:
        raise NoticeNotFound(f"no notice with uid {uid!r}")
    return notice


def find_notice(session: Session, uid: str, *, with_history: bool = False, for_update: bool = False) -> Notice | None:
    """The notice with exactly this uid, or None: web addresses carry whole uids, never prefixes."""
    if len(uid.strip()) != 36:
        return None
    try:
        return get_notice(session, uid, with_history=with_history, for_update=for_update)
    except NoticeNotFound:
        return None


def live_candidates_query(now: datetime) -> Select[Notice]:
    """Notices that may be visible at `now`: not cancelled and not ended.

    Two branches, one per partial index (ends_at in the future / no ends_at),
    so neither database scans ended history, however long it grows.
    """
    return select(Notice).where(Notice.id.in_(_live_ids(now)))


def _live_ids(now: datetime) -> CompoundSelect[tuple[int]]:
    live = Notice.cancelled_at.is_(None)
    ending_later = select(Notice.id).where(live, Notice.ends_at > now)
    open_ended = select(Notice.id).where(live, Notice.ends_at.is_(None))
    return union_all(ending_later, open_ended)


# What tells a copy of a notice read earlier from a changed one: (id, version, updated_at,
# attachment ids); a file is attached without a new version.
NoticeVersion = tuple[int, int, datetime, tuple[int, ...]]


def live_versions(session: Session, now: datetime) -> list[NoticeVersion]:
    """The versions of the notices that may be visible at `now` (those visible_notices reads)."""
    return notice_versions(session, _live_ids(now))


def calendar_versions(session: Session, now: datetime, *, history: timedelta) -> list[NoticeVersion]:
    """The versions of the notices calendar_notices reads."""
    return notice_versions(session, _calendar_ids(now, history))


def notice_versions(session: Session, ids: Select[int] | CompoundSelect[tuple[int]]) -> list[NoticeVersion]:
    """The versions of the notices whose ids `ids` selects: two narrow queries, however many notices there are."""
    files: dict[int, list[int]] = {}
    attached = select(NoticeAttachment.notice_id, NoticeAttachment.id).where(NoticeAttachment.notice_id.in_(ids))
    for notice_id, attachment_id in session.execute(attached.order_by(NoticeAttachment.id)):
        files.setdefault(notice_id, []).append(attachment_id)
    rows = session.execute(select(Notice.id, Notice.version, Notice.updated_at).where(Notice.id.in_(ids)))
    return [
        (notice_id, version, updated_at, tuple(files.get(notice_id, ()))) for notice_id, version, updated_at in rows
    ]


def notices_by_id(session: Session, ids: Sequence[int], *, without_attachments: bool = False) -> list[Notice]:
    """The notices with these ids (any order), read in chunks that every database's parameter limit allows.

    `without_attachments`: the caller knows that these notices have none (notice_versions told
    it): their attachments are not looked for, which spares a query per chunk (most notices have no file).
    """
    found: list[Notice] = []
    query = select(Notice).options(lazyload(Notice.attachments)) if without_attachments else select(Notice)
    for wanted in one_of(session, Notice.id, ids):
        found += session.scalars(query.where(wanted)).all()
    if without_attachments:
        for notice in found:
            set_committed_value(notice, "attachments", [])
    return found


def live_candidates(session: Session, now: datetime) -> Sequence[Notice]:
    return session.scalars(live_candidates_query(now)).all()


def visible_notices(session: Session, now: datetime, filters: Filters = NO_FILTERS) -> list[Notice]:
    return lifecycle.visible(live_candidates(session, now), now, filters)


def list_notices(session: Session, now: datetime, statuses: set[Status] | None = None) -> list[Notice]:
    if statuses and statuses <= lifecycle.VISIBLE_STATUSES | {Status.SCHEDULED, Status.DRAFT}:
        candidates = list(live_candidates(session, now))
        if Status.DRAFT in statuses:
            # A draft stays a draft whatever its times say, also once its end has
            # passed: it is not among the live notices, so look for drafts as such.
            seen = {notice.id for notice in candidates}
            drafts = session.scalars(select(Notice).where(Notice.publish_at.is_(None), Notice.cancelled_at.is_(None)))
            candidates += [notice for notice in drafts if notice.id not in seen]
    else:
        candidates = list(session.scalars(select(Notice)))
    chosen = [n for n in candidates if not statuses or lifecycle.status_at(n, now) in statuses]
    return sorted(chosen, key=lambda notice: (notice.starts_at, notice.id))


def next_boundary_after(session: Session, now: datetime) -> datetime | None:
    """The first instant after `now` at which any notice changes status (three index look-ups)."""
    live = Notice.cancelled_at.is_(None)
    candidates = _each_one(
        session,
        select(func.min(Notice.publish_at)).where(live, Notice.publish_at > now),
        select(func.min(Notice.starts_at)).where(live, Notice.starts_at > now, Notice.publish_at.is_not(None)),
        select(func.min(Notice.ends_at)).where(
            live, Notice.ends_at > now, Notice.ends_at.is_not(None), Notice.publish_at.is_not(None)
        ),
    )
    # A series changes status at each occurrence's start and end, which no column holds:
    # expanded here (live series are few, and each expansion stops at the first one found).
    candidates += [series.next_boundary(notice, now) for notice in live_series(session, now)]
    return min((instant for instant in candidates if instant is not None), default=None)


def live_series(session: Session, now: datetime) -> Sequence[Notice]:
    """Published series that are not cancelled and have not ended (the partial indexes on ends_at)."""
    return session.scalars(
        live_candidates_query(now).where(Notice.recurrence != "", Notice.publish_at.is_not(None)).order_by(Notice.id)
    ).all()


def last_change_at_or_before(session: Session, now: datetime) -> datetime | None:
    """When the public picture last changed: the latest write or passed boundary."""
    live = Notice.cancelled_at.is_(None)
    candidates = _each_one(
        session,
        select(func.max(Notice.updated_at)).where(Notice.updated_at <= now),
        select(func.max(Notice.publish_at)).where(live, Notice.publish_at <= now),
        select(func.max(Notice.starts_at)).where(live, Notice.starts_at <= now),
        select(func.max(Notice.ends_at)).where(live, Notice.ends_at <= now, Notice.ends_at.is_not(None)),
    )
    candidates += [series.last_boundary(notice, now) for notice in live_series(session, now)]
    return max((instant for instant in candidates if instant is not None), default=None)


def _each_one(session: Session, *queries: Select[Any]) -> list[datetime | None]:
    """The one value of each query, asked in one statement: a feed asks these at every render,
    and on a database server each statement is a round trip."""
    return list(session.execute(select(*(query.scalar_subquery() for query in queries))).one())


def calendar_notices(
    session: Session, now: datetime, filters: Filters, *, history: timedelta, with_revisions: bool = False
) -> list[Notice]:
    """Published notices for the calendar: visible ones, plus those ended or cancelled within `history`.
    `with_revisions`: their revisions too, in one more query (for a renderer that reads every
    notice's, which would otherwise load them one notice at a time)."""
    query = select(Notice).where(Notice.id.in_(_calendar_ids(now, history)))
    if with_revisions:
        query = query.options(selectinload(Notice.revisions))
    return in_calendar(session.scalars(query), filters)


def in_calendar(notices: Iterable[Notice], filters: Filters) -> list[Notice]:
    """Those of the notices read by _calendar_ids that `filters` select, in the calendar's order."""
    return sorted((notice for notice in notices if filters.matches(notice)), key=lambda n: (n.starts_at, n.uid))


def _calendar_ids(now: datetime, history: timedelta) -> Select[int]:
    since = now - history
    published = Notice.publish_at <= now
    # Cancelled before it was ever announced: nobody has it in a calendar to remove.
    not_cancelled_or_recent = or_(
        Notice.cancelled_at.is_(None), and_(Notice.cancelled_at > since, Notice.publish_at <= Notice.cancelled_at)
    )
    candidates = union_all(
        select(Notice.id).where(Notice.cancelled_at.is_(None), Notice.ends_at > since),
        select(Notice.id).where(Notice.cancelled_at.is_(None), Notice.ends_at.is_(None)),
        select(Notice.id).where(Notice.cancelled_at > since),
    )
    return select(Notice.id).where(Notice.id.in_(candidates), published, not_cancelled_or_recent)


def recently_ended(session: Session, now: datetime, *, within: timedelta) -> list[Notice]:
    """Notices that ended in the last `within`, most recent first (the partial index on ends_at)."""
    return list(
        session.scalars(
            select(Notice)
            .where(Notice.cancelled_at.is_(None), Notice.ends_at > now - within, Notice.ends_at <= now)
            .order_by(Notice.ends_at.desc())
        )
    )
