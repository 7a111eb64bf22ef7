"""STAND-IN until feature-hooks-formats lands its payloads.py (Standard Webhooks, Slack, Teams bodies).

Same shape as the contract: HookEvent and render(kind, event, language, settings) -> (body, content type).
Replaced wholesale at the merge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notices.core.config import Settings


@dataclass(frozen=True)
class HookEvent:
    event_id: str
    type: str
    occurred_at: datetime
    notice: dict[str, Any]
    url: str


def render(kind: str, event: HookEvent, language: str, settings: Settings) -> tuple[bytes, str]:
    body = {
        "type": event.type,
        "timestamp": event.occurred_at.isoformat(),
        "data": {"id": event.event_id, "notice": event.notice, "url": event.url},
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), "application/json"
