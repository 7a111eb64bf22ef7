"""Notice bodies rendered from Markdown, kept in the database for the next process that needs them.

Rendering a body (Markdown, then the sanitiser) costs about a millisecond: most of the time a
feed of a thousand entries takes to render in a process that has rendered none of them yet (a
new replica, a restarted worker, `feed export`). Such a process reads the bodies that any
process rendered before, in one query, and stores those it had to render itself.

A body is stored under the SHA-256 of everything its HTML depends on: the text (in the language
shown, fallback marker included), the site's URL that its links are resolved against, and the
renderer's fingerprint (library versions and sanitiser rules). So a stored body is never stale:
a change to any of these looks for another key, and rows no longer looked for leave with the
purge job after KEPT (one still needed is then rendered and stored again).

Storing is a cache fill, never a write the reader waits on or fails by: a database that refuses
it (read-only, locked too long) costs only the rendering time it would have saved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from notices.core.db import Database, affected_rows, fill_cache_table, one_of
from notices.core.models import RenderedBody, table_of
from notices.notice.markup import RenderableNotice, renderer_fingerprint

KEPT = timedelta(days=30)


def key_of(view: RenderableNotice) -> str:
    """The key a view's body is stored under."""
    digest = hashlib.sha256()
    for part in (renderer_fingerprint(), view.base_url, view.body):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")  # no two different triples give the same bytes
    return digest.hexdigest()


def fill(session: Session, views: Sequence[RenderableNotice]) -> list[RenderableNotice]:
    """Give each view not yet rendered its stored body; returns those whose body is not stored."""
    by_key: dict[str, list[RenderableNotice]] = {}  # several notices can share a body ("", a template's)
    for view in views:
        if not view.body_rendered:
            by_key.setdefault(key_of(view), []).append(view)
    found: dict[str, str] = {}
    for wanted in one_of(session, RenderedBody.key, list(by_key)):
        found.update(session.execute(select(RenderedBody.key, RenderedBody.html).where(wanted)).all())
    unstored = []
    for key, sharing in by_key.items():
        for view in sharing:
            if key in found:
                view.take_body_html(found[key])
            else:
                unstored.append(view)
    return unstored


def save(db: Database, views: Iterable[RenderableNotice], *, now: datetime) -> int:
    """Store the bodies of those of `views` that were rendered since `fill` (how many)."""
    rows = {key_of(view): view.body_html for view in views if view.body_rendered}
    if not rows:
        return 0
    values = [{"key": key, "html": html, "created_at": now} for key, html in rows.items()]
    stored = fill_cache_table(db, table_of(RenderedBody), values, what="rendered notice bodies", now=now)
    return len(rows) if stored else 0


def purge(session: Session, *, before: datetime) -> int:
    """Drop the bodies stored before `before` (how many); one still in use is stored again."""
    return affected_rows(session, delete(RenderedBody).where(RenderedBody.created_at < before))
