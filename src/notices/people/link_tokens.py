"""Signed tokens for links in emails (itsdangerous): unguessable, verified, purpose-bound.

A token names a subscriber and the generation of their links; bumping
Subscriber.token_generation revokes every link sent before.
"""

from __future__ import annotations

import hmac
import json
from datetime import timedelta

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, int_to_bytes
from itsdangerous.signer import HMACAlgorithm

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
        # A serializer makes a new signer for every token, which derives its key and keys an HMAC
        # again each time. Here that is done once per purpose, and each token's HMAC is a copy of
        # the keyed one: the same bytes as the serializer's dumps() (tests/people/test_link_tokens.py).
        self._signers: dict[str, TimestampSigner] = {}
        self._keyed: dict[str, hmac.HMAC] = {}
        for purpose, serializer in self._serializers.items():
            signer = serializer.make_signer()
            if not isinstance(signer, TimestampSigner) or not isinstance(signer.algorithm, HMACAlgorithm):
                raise TypeError(f"links are signed with itsdangerous's timestamped HMAC, not {signer!r}")
            self._signers[purpose] = signer
            self._keyed[purpose] = hmac.new(signer.derive_key(), digestmod=signer.algorithm.digest_method)

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        if purpose not in self._serializers:
            raise ValueError(f"unknown token purpose {purpose!r}")
        return self._serializers[purpose]

    def sign(self, purpose: str, subscriber_id: int, generation: int) -> str:
        # What the serializer's dumps() makes, less its attempt to compress the payload: a pair of
        # numbers never comes out shorter, and the attempt (a zlib stream set up for every link, two
        # links in every email) cost more than the signing itself. loads() reads either form.
        self._serializer(purpose)  # refuses an unknown purpose
        signer = self._signers[purpose]
        payload = base64_encode(_json_pair(subscriber_id, generation))
        # TimestampSigner.sign: the payload, its timestamp, and their HMAC, each base64 and joined by ".".
        value = payload + signer.sep + base64_encode(int_to_bytes(signer.get_timestamp()))
        mac = self._keyed[purpose].copy()
        mac.update(value)
        return (value + signer.sep + base64_encode(mac.digest())).decode()

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


def _json_pair(first: int, second: int) -> str:
    """json.dumps([first, second], separators=(",", ":")), written directly for two plain ints."""
    if type(first) is int and type(second) is int:  # not bool, whose JSON is true / false
        return f"[{first},{second}]"
    return json.dumps([first, second], separators=(",", ":"))
