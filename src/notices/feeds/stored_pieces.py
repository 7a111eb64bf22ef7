"""Pieces of feeds rendered by one process, kept in the database for the next process that needs them.

A notice's calendar events cost close to a millisecond to render (icalendar writes every property
through its own types and folds each line a character at a time), and an Atom or RSS entry a
fifth of that (feedgen, lxml), so a process that has rendered none of a 1,000-entry feed yet (a
new replica, a restarted worker, `feed export`) would spend most of a second on a calendar. Such a
process reads the pieces any process rendered before, in one query per few hundred, and stores
those it had to render itself.

A piece is stored under the SHA-256 of its in-memory key (feeds.fragments: format, notice uid,
version and time of change, language, and what `now` changes in it) and of a fingerprint of
everything else its bytes depend on: the settings (less the secrets, which shape no output), the
code that renders and the message catalogues, the versions of the libraries that render, the Python
version and the time-zone data. So a stored piece is never stale: any change looks for another
key, and rows no longer looked for leave with the purge job after KEPT.

Storing is a cache fill, never a write the reader waits on or fails by: a database that refuses
it (read-only, locked too long) costs only the rendering time it would have saved.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import logging
import secrets
import sys
import zoneinfo
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from notices.core.config import Settings
from notices.core.db import Database, affected_rows, fill_cache_table, one_of
from notices.core.models import RenderedPiece, table_of
from notices.core.resources import locale_dir
from notices.notice.markup import renderer_fingerprint

log = logging.getLogger(__name__)

# Pieces of open-ended notices change with the calendar's horizon every day: kept briefly.
KEPT = timedelta(days=7)
# A piece larger than this (a notice with a megabyte of text) is rendered each time, not stored.
MAX_PIECE_BYTES = 1024 * 1024
# Settings kept out of the fingerprint: those that may hold a password, and those for running the
# service that no renderer reads, so that a scheduler and web processes configured differently in
# these (an export folder, a log format) still share their pieces. A test checks that none of
# them is named in the code that renders.
SECRET_SETTINGS = frozenset({"secret_key", "secret_key_source", "database_url", "smtp_url"})
UNRENDERED_SETTINGS = SECRET_SETTINGS | frozenset(
    {
        "mail_dir",
        "mail_from_name",
        "alert_validity",
        "digest_validity",
        "skip_empty_digests",
        "reminder_leads",
        "send_batch_size",
        "smtp_connections",
        "lease_seconds",
        "send_interval_seconds",
        "confirm_within",
        "signup_limit_per_address",
        "signup_limit_per_ip",
        "feed_max_age",
        "feed_change_check_seconds",
        "feed_export_dir",
        "safety_tick_seconds",
        "change_poll_seconds",
        "misfire_grace_seconds",
        "leader_poll_seconds",
        "scheduler_max_failures",
        "scheduler_retry_max_seconds",
        "scheduler_stale_after_seconds",
        "log_format",
        "daily_digest_at",
        "weekly_digest_at",
        "trusted_proxies",
        "map_tile_url",
        "map_attribution",
        "hooks_allow_http",
        "hooks_allow_private_networks",
        "hooks_validity",
        "hooks_disable_after",
        "hooks_secret_overlap",
        "hooks_connect_timeout",
        "hooks_read_timeout",
        "hooks_concurrency",
        "hooks_send_interval_seconds",
        "attachments_max_bytes",
    }
)
# The libraries whose output is in a piece (besides the standard library, see _code_fingerprint);
# a test checks that every library the rendering packages import is here or known not to render.
RENDERING_LIBRARIES = (
    "babel",
    "cmarkgfm",
    "feedgen",
    "geojson-pydantic",
    "icalendar",
    "jinja2",
    "lxml",
    "markupsafe",
    "nh3",
    "pydantic",
    "python-dateutil",
    "shapely",
    "tzdata",
)
_PACKAGE_DIR = Path(__file__).resolve().parent.parent
# The code a piece can come from: the feeds and what they may import (the layers below them in
# pyproject.toml's import-linter contract, which `make lint` checks). A release that changes only
# the web app, mail or the command line keeps the pieces stored before it.
RENDERING_PACKAGES = ("feeds", "notice", "people", "core")


@dataclass(frozen=True)
class Codec:
    """How a kind of piece is stored: its bytes and what else it carries (as JSON), and back."""

    encode: Callable[[Any], tuple[bytes, str]]
    decode: Callable[[bytes, str], Any]


# Pieces that are bytes and nothing else (Atom and RSS entries).
BYTES = Codec(encode=lambda piece: (piece, ""), decode=lambda content, meta: content)


def key_of(fingerprint: str, piece_key: Hashable) -> str:
    """The key a piece is stored under: its in-memory key (whose repr is the same in every
    process: strings, numbers, datetimes) under the fingerprint of the settings and the code."""
    return hashlib.sha256(f"{fingerprint}\0{piece_key!r}".encode("utf-8", "surrogatepass")).hexdigest()


# The last Settings fingerprinted and its fingerprint (a process has one Settings; tests vary
# them): the repr of every setting, location geometries included, costs more than looking up the
# pieces of a feed. Held, not merely its id, so that no other object can be taken for it.
_last_fingerprint: tuple[Settings, str] | None = None


def fingerprint(settings: Settings) -> str:
    """Everything besides the notice that a piece's bytes depend on, as one string."""
    global _last_fingerprint
    last = _last_fingerprint
    if last is not None and last[0] is settings:
        return last[1]
    shown = [(field.name, getattr(settings, field.name)) for field in dataclasses.fields(settings)]
    described = repr([(name, value) for name, value in shown if name not in UNRENDERED_SETTINGS])
    found = hashlib.sha256(f"{_code_fingerprint()}\0{described}".encode("utf-8", "surrogatepass")).hexdigest()
    _last_fingerprint = (settings, found)
    return found


@functools.cache
def _code_fingerprint() -> str:
    """The code that renders: the modules of RENDERING_PACKAGES and the message catalogues, the
    rendering libraries' versions, the Python version (html.parser, zoneinfo) and the version of the
    system's zone data (which zoneinfo prefers to the tzdata package). Read once per process (a few ms)."""
    digest = hashlib.sha256()
    # libxml2 serialises Atom and RSS (through lxml, which may be built against the system's copy).
    digest.update(f"{sys.version}\0{renderer_fingerprint()}\0{etree.LIBXML_VERSION}\0".encode())
    for name in (*RENDERING_LIBRARIES, "notices"):
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{name}=={version}\0".encode())
    for folder in zoneinfo.TZPATH:
        digest.update(_first_line(Path(folder) / "tzdata.zi"))
    sources = [file for folder in RENDERING_PACKAGES for file in sorted((_PACKAGE_DIR / folder).rglob("*.py"))]
    if not sources:
        # Installed without its sources (compiled files only): nothing to tell one release from
        # the next, so this process shares no piece with any other.
        log.warning("no source files under %s: rendered feed pieces are not shared between processes", _PACKAGE_DIR)
        return secrets.token_hex(32)
    files = [
        *((_PACKAGE_DIR, file) for file in sources),
        *((locale_dir(), file) for file in sorted(locale_dir().rglob("*.mo"))),
    ]
    for root, file in files:
        digest.update(str(file.relative_to(root)).encode() + b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()


def _first_line(path: Path) -> bytes:
    """tzdata.zi begins with its version ("# version 2025b"); nothing when there is no such file."""
    try:
        with path.open("rb") as file:
            return file.readline()
    except OSError:
        return b""


def load(session: Session, settings: Settings, piece_keys: Iterable[Hashable]) -> dict[Hashable, tuple[bytes, str]]:
    """The stored pieces of `piece_keys` that there are: in-memory key -> (bytes, meta)."""
    found: dict[Hashable, tuple[bytes, str]] = {}
    piece_keys = list(piece_keys)
    if not piece_keys:  # a process that has kept every piece asks for none
        return found
    prints = fingerprint(settings)
    by_key = {key_of(prints, piece_key): piece_key for piece_key in piece_keys}
    for wanted in one_of(session, RenderedPiece.key, list(by_key)):
        rows = session.execute(
            select(RenderedPiece.key, RenderedPiece.content, RenderedPiece.content_sha256, RenderedPiece.meta).where(
                wanted
            )
        )
        for key, content, content_sha256, meta in rows:
            content = bytes(content)  # PostgreSQL's driver gives a memoryview
            if hashlib.sha256(content).hexdigest() != content_sha256:
                log.warning("stored feed piece %s is damaged; rendering it again", key)
                continue
            found[by_key[key]] = (content, meta)
    return found


def save(db: Database, settings: Settings, pieces: Mapping[Hashable, tuple[bytes, str]], *, now: datetime) -> int:
    """Store `pieces` (in-memory key -> (bytes, meta)); how many, 0 when the database refused."""
    if not pieces:
        return 0
    prints = fingerprint(settings)
    values = [
        {
            "key": key_of(prints, piece_key),
            "content": content,
            "content_sha256": hashlib.sha256(content).hexdigest(),
            "meta": meta,
            "created_at": now,
        }
        for piece_key, (content, meta) in pieces.items()
        if len(content) <= MAX_PIECE_BYTES
    ]
    if not values:
        return 0
    stored = fill_cache_table(db, table_of(RenderedPiece), values, what="rendered feed pieces", now=now)
    return len(values) if stored else 0


def purge(session: Session, *, before: datetime) -> int:
    """Drop the pieces stored before `before` (how many); one still in use is stored again."""
    return affected_rows(session, delete(RenderedPiece).where(RenderedPiece.created_at < before))
