"""Rendered pieces of feeds, kept between renders: a write or a boundary re-renders only what changed.

A feed is a head, its entries and a tail. An entry's bytes depend only on the notice as it is at
one version, the reader's language and the few things `now` changes in it (the phrase in its
title, a calendar's horizon, a map feature's status). Each renderer caches an entry under exactly
those and puts the feed together from its pieces, which gives the same bytes as rendering the
whole document at once (tests/feeds/test_incremental_render.py compares them on random data).

A notice is known by (uid, version, updated_at): every change to a notice row bumps its version
and its updated_at (notice.store), so a changed notice can never be found under its old key.
The renderable views (the Markdown body rendered once) are kept here too, under the same key; a
view new to this process takes its body from those stored in the database (notice.rendered_bodies).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from notices.core.config import Settings
from notices.core.models import Notice, NoticeEvent
from notices.feeds import stored_pieces
from notices.notice import event_queries, lifecycle, rendered_bodies, store
from notices.notice.lifecycle import Filters
from notices.notice.markup import NoticeLike, RenderableNotice, renderable_notice

T = TypeVar("T")
log = logging.getLogger(__name__)

# Enough for a few thousand entries in each format and language; the least recently used go first.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
# What a renderable view or a kept row is counted as besides its text.
_VIEW_OVERHEAD = 2048
_ROW_OVERHEAD = 4096


class Fragments:
    """Per-process store of rendered entries and renderable views, bounded by size, thread-safe
    (feeds render in worker threads, several at once).

    Tied to one Settings: labels, the site's URL and name are in every piece, so other settings
    (a reloaded configuration, a test's variation) start from empty.
    """

    def __init__(self, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._pieces: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._settings: Settings | None = None
        self.hits = 0
        self.misses = 0

    def for_settings(self, settings: Settings) -> Fragments:
        with self._lock:
            if settings is not self._settings:
                self._pieces.clear()
                self._size = 0
                self._settings = settings
        return self

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            found = self._pieces.get(key)
            if found is None:
                self.misses += 1
                return None
            self._pieces.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: Hashable, value: T, size: int) -> T:
        with self._lock:
            old = self._pieces.pop(key, None)
            if old is not None:
                self._size -= old[1]
            self._pieces[key] = (value, size)
            self._size += size
            while self._size > self.max_bytes and len(self._pieces) > 1:
                _, (_, freed) = self._pieces.popitem(last=False)
                self._size -= freed
        return value

    def clear(self) -> None:
        with self._lock:
            self._pieces.clear()
            self._size = 0

    def __len__(self) -> int:
        return len(self._pieces)

    def view(self, notice: NoticeLike, settings: Settings, language: str) -> RenderableNotice:
        """renderable_notice(), kept: its body is rendered from Markdown once per version."""
        key = ("view", *notice_key(notice), language)
        found: RenderableNotice | None = self.get(key)
        if found is None:
            found = renderable_notice(notice, settings, language)
            self.put(key, found, _VIEW_OVERHEAD + 2 * len(found.body))
        return found

    def prepare_views(
        self, session: Session, notices: Iterable[NoticeLike], settings: Settings, language: str
    ) -> list[RenderableNotice]:
        """Keep a view of each notice (the renderers then find it), its body taken from the stored
        bodies in one query where it has none yet; returns the views whose body is not stored:
        rendered during this render, they are worth storing after it (rendered_bodies.save)."""
        views: list[RenderableNotice] = []
        for notice in notices:
            key = ("view", *notice_key(notice), language)
            view: RenderableNotice | None = self.get(key)
            if view is None:
                try:
                    view = renderable_notice(notice, settings, language)
                except Exception:  # noqa: BLE001 - the renderer meets the same fault and reports it (render_each)
                    continue
                self.put(key, view, _VIEW_OVERHEAD + 2 * len(view.body))
            views.append(view)
        # A kept view may not have its body yet (made for an entry's key, see atom.keyed_entries).
        return rendered_bodies.fill(session, views)

    def take_stored(
        self, session: Session, settings: Settings, keys: Iterable[Hashable], codec: stored_pieces.Codec
    ) -> list[Hashable]:
        """Keep each piece of `keys` not kept yet that an earlier process stored (feeds.stored_pieces);
        returns the keys of the pieces not stored either: rendered during this render, they are
        worth storing after it (kept, stored_pieces.save)."""
        with self._lock:
            missing = [key for key in keys if key not in self._pieces]
        taken = set()
        for key, (content, meta) in stored_pieces.load(session, settings, missing).items():
            try:
                piece = codec.decode(content, meta)
            except Exception:  # noqa: BLE001 - a damaged row costs its piece's rendering, never the feed
                log.warning("a stored feed piece could not be read; rendering it again", exc_info=True)
                continue
            self.put(key, piece, len(content))
            taken.add(key)
        return [key for key in missing if key not in taken]

    def prepare_pieces(
        self,
        session: Session,
        settings: Settings,
        language: str,
        keyed: Iterable[tuple[NoticeLike, Hashable]],
        codec: stored_pieces.Codec,
    ) -> tuple[list[Hashable], list[RenderableNotice]]:
        """Before a render: keep the stored pieces of `keyed` (notice, the key of its piece), and
        a view with its stored body of each notice whose piece is kept nowhere. Returns what the
        render then renders, which is worth storing after it: the keys of those pieces
        (kept, stored_pieces.save) and the views whose body is not stored either
        (rendered_bodies.save)."""
        keyed = list(keyed)
        unstored_pieces = self.take_stored(session, settings, [key for _, key in keyed], codec)
        missing = set(unstored_pieces)
        rendered = [notice for notice, key in keyed if key in missing]
        return unstored_pieces, self.prepare_views(session, rendered, settings, language)

    def kept(self, keys: Iterable[Hashable], settings: Settings) -> dict[Hashable, Any]:
        """The pieces of `keys` that are kept (to store them: feeds.stored_pieces), rendered with
        `settings`: none if these fragments started over for other settings meanwhile."""
        with self._lock:
            if settings is not self._settings:
                return {}
            return {key: found[0] for key in keys if (found := self._pieces.get(key)) is not None}

    def visible_notices(self, session: Session, now: datetime, filters: Filters) -> list[Notice]:
        """store.visible_notices(), reading whole only the notices not read before at their version."""
        return lifecycle.visible(self._rows(session, store.live_versions(session, now)), now, filters)

    def calendar_notices(
        self, session: Session, now: datetime, filters: Filters, *, history: timedelta
    ) -> list[Notice]:
        """store.calendar_notices(), reading whole only the notices not read before at their version."""
        return store.in_calendar(self._rows(session, store.calendar_versions(session, now, history=history)), filters)

    def recent_events(
        self, session: Session, now: datetime, filters: Filters, *, history: timedelta
    ) -> list[NoticeEvent]:
        """event_queries.recent_events(), reading whole only the events not read before with their
        notice at its version. An event never changes; its notice does (an entry shows the files it
        has now, and what it said then is one of its revisions), and then its events are read again."""
        # The events first, then their notices' versions: a write in between (a new version, its
        # event left out until the next render) is then read whole at its new version.
        recent = event_queries.recent_event_ids(session, now, history=history)
        versions = {
            notice_id: (version, updated_at, files)
            for notice_id, version, updated_at, files in event_queries.recent_event_versions(
                session, now, history=history
            )
        }
        found: dict[int, NoticeEvent] = {}
        missing: list[int] = []
        for event_id, notice_id in recent:
            kept: NoticeEvent | None = self.get(("event row", event_id, *versions.get(notice_id, ())))
            if kept is None:
                missing.append(event_id)
            else:
                found[event_id] = kept
        for event in event_queries.events_by_id(session, missing):
            # Under the key of what was read: a write between the queries is kept as what it is.
            key = ("event row", event.id, *_version_of(event.notice))
            found[event.id] = self.put(key, event, _ROW_OVERHEAD + len(event.detail) + _notice_size(event.notice))
        events = (found[event_id] for event_id, _ in recent if event_id in found)  # one removed meanwhile is not
        return [event for event in events if filters.matches(event.notice)]

    def _rows(self, session: Session, versions: Iterable[store.NoticeVersion]) -> list[Notice]:
        """The notices of `versions`: kept rows where this process read them at that version,
        the others read whole (and kept).

        Kept rows are those read by an earlier render, detached from their session with every
        attribute a feed reads loaded (attachments and their files are loaded with the notice).
        Reading a thousand rows whole costs more than rendering the one that changed.
        """
        notices: list[Notice] = []
        missing: list[int] = []
        missing_without_files: list[int] = []
        for notice_id, version, updated_at, files in versions:
            kept: Notice | None = self.get(("row", notice_id, version, updated_at, files))
            if kept is not None:
                notices.append(kept)
            else:
                (missing if files else missing_without_files).append(notice_id)
        # A file attached after `versions` was read is then missing from the row, which is kept
        # under the key of what it holds (below): the next render reads it again.
        read = store.notices_by_id(session, missing) + store.notices_by_id(
            session, missing_without_files, without_attachments=True
        )
        for notice in read:
            # Under the key of what was read: a write between the two queries is kept as what it is.
            key = ("row", notice.id, *_version_of(notice))
            notices.append(self.put(key, notice, _ROW_OVERHEAD + 2 * (len(notice.body) + len(notice.summary))))
        return notices


def _version_of(notice: Notice) -> tuple[int, datetime, tuple[int, ...]]:
    """A notice row's (version, updated_at, attachment ids), as store.notice_versions reads them."""
    return notice.version, notice.updated_at, tuple(sorted(attachment.id for attachment in notice.attachments))


def _notice_size(notice: Notice) -> int:
    """What a kept event row holds of its notice, counted against max_bytes: the notice's text and
    that of every revision loaded with it (each a whole copy of the notice at a version). Counted
    for each of the notice's events, though they share it: more than they take, never less."""
    texts = len(notice.body) + len(notice.summary)
    for revision in notice.revisions:
        snapshot = revision.snapshot
        # Anything but a mapping is a damaged row: its event is left out when rendered (render_each),
        # and must not cost the feed here.
        for value in snapshot.values() if isinstance(snapshot, dict) else [snapshot]:
            texts += len(value) if isinstance(value, str) else len(str(value)) if isinstance(value, dict | list) else 0
    return 2 * texts


def notice_key(notice: NoticeLike) -> tuple[str, int, object]:
    """What tells one state of a notice from every other: any change bumps version and updated_at."""
    return (str(notice.uid), notice.version, notice.updated_at)


def view_of(
    fragments: Fragments | None, notice: NoticeLike, settings: Settings, language: str | None
) -> RenderableNotice:
    """The renderable view, from `fragments` when there are some."""
    if fragments is None or language is None:
        return renderable_notice(notice, settings, language)
    return fragments.view(notice, settings, language)
