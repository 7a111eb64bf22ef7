"""Email addresses as people type them, in one canonical spelling (subscribers and manager accounts)."""

from __future__ import annotations

import re
from typing import Any

from notices.core.errors import InvalidField

_LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+$")
_DOMAIN_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def normalise_email(text: Any) -> str:
    """A deliverable-looking address in one canonical spelling, or InvalidField('email')."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidField("email", "is required")
    text = text.strip()
    if any(character in text for character in '\r\n\t <>",;()') or text.count("@") != 1:
        raise InvalidField("email", f"{text[:80]!r} is not an email address")
    local, domain = text.rsplit("@", 1)
    try:
        # Non-ASCII domains become their ASCII (punycode) form: safe in headers.
        domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidField("email", f"the domain {domain[:80]!r} is not valid") from None
    labels = domain.split(".")
    if not _LOCAL.match(local) or len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise InvalidField("email", f"{text[:80]!r} is not an email address")
    address = f"{local.lower()}@{domain}"
    if len(address) > 254:
        raise InvalidField("email", "is longer than 254 characters")
    return address
