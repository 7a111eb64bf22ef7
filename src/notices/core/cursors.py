"""Opaque cursors for keyset pagination: the sort key (an instant and a row id) of a page's last row.

base64url of a small JSON list: opaque to clients (they follow `next` links, never build one),
and checked on the way in, because anyone can edit a URL.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from notices.core.errors import InvalidField

PROBLEM = "is not a cursor this server gave out; start again without it and follow the next links"


@dataclass(frozen=True)
class Position:
    """Where a page ended: the sort key of its last row."""

    at: datetime
    id: int


def encode(position: Position) -> str:
    key = [position.at.astimezone(UTC).isoformat(), position.id]
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(text: str, field: str = "cursor") -> Position:
    """The position a cursor names; InvalidField(field) for anything `encode` did not make."""
    if len(text) > 200:
        raise InvalidField(field, PROBLEM)
    try:
        at, row_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
        instant = datetime.fromisoformat(at)
        # 9999-12-31 with a negative offset has no UTC that Python can hold.
        utc = instant.astimezone(UTC) if instant.tzinfo is not None else None
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise InvalidField(field, PROBLEM) from None
    if utc is None or type(row_id) is not int or not 0 < row_id < 2**63:
        raise InvalidField(field, PROBLEM)
    return Position(utc, row_id)
