"""Signed tokens for links in emails (itsdangerous): unguessable, verified, purpose-bound.

A token names a subscriber and the generation of their links; bumping
Subscriber.token_generation revokes every link sent before.
"""

from __future__ import annotations

import json
from datetime import timedelta

from itsdangerous import BadData, SignatureExpired, Signer, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode

from notices.core.errors import NoticesError
from notices.core.states import LinkPurpose

PURPOSES = tuple(LinkPurpose)


class InvalidToken(NoticesError):
    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


class LinkSigner:
    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("no secret key to sign links with")
        # The salt keeps a token for one purpose from working for another.
        # Keyed by purpose; a plain string from a URL finds its LinkPurpose (a StrEnum) too.
        self._serializers: dict[str, URLSafeTimedSerializer] = {
            purpose: URLSafeTimedSerializer(secret_key, salt=f"notices.{purpose}") for purpose in PURPOSES
        }
        # A serializer makes a new signer (and keys a new HMAC) for every token: one per purpose
        # here signs them all alike (tests/people/test_link_tokens.py compares with dumps()).
        self._signers: dict[str, Signer] = {
            purpose: serializer.make_signer() for purpose, serializer in self._serializers.items()
        }

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        if purpose not in self._serializers:
            raise ValueError(f"unknown token purpose {purpose!r}")
        return self._serializers[purpose]

    def sign(self, purpose: str, subscriber_id: int, generation: int) -> str:
        # What the serializer's dumps() makes, less its attempt to compress the payload: a pair of
        # numbers never comes out shorter, and the attempt (a zlib stream set up for every link, two
        # links in every email) cost more than the signing itself. loads() reads either form.
        self._serializer(purpose)  # refuses an unknown purpose
        payload = base64_encode(json.dumps([subscriber_id, generation], separators=(",", ":")))
        return self._signers[purpose].sign(payload).decode()

    def verify(self, purpose: str, token: str, *, max_age: timedelta | None = None) -> tuple[int, int]:
        """(subscriber id, generation) from a token, or InvalidToken."""
        try:
            subscriber_id, generation = self._serializer(purpose).loads(
                token, max_age=int(max_age.total_seconds()) if max_age else None
            )
        except SignatureExpired:
            raise InvalidToken("this link has expired", expired=True) from None
        except (BadData, TypeError, ValueError):
            raise InvalidToken("this link is not valid") from None
        if not isinstance(subscriber_id, int) or not isinstance(generation, int):
            raise InvalidToken("this link is not valid")
        return subscriber_id, generation
