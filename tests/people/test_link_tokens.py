"""Link tokens: LinkSigner signs with signers made once, not through the serializer's dumps(), and
must make exactly the tokens dumps() makes."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from notices.core.states import LinkPurpose
from notices.mail.message import unsubscribe_mailto
from notices.people.link_tokens import InvalidToken, LinkSigner

SECRET = "a secret for the tests only"


@pytest.mark.parametrize("purpose", list(LinkPurpose))
@pytest.mark.parametrize(("subscriber_id", "generation"), [(1, 1), (7, 3), (123456789, 42), (2**40, 0), (-5, 2)])
def test_a_token_is_the_one_itsdangerous_makes(purpose, subscriber_id, generation):
    token = LinkSigner(SECRET).sign(purpose, subscriber_id, generation)
    serializer = URLSafeTimedSerializer(SECRET, salt=f"notices.{purpose}")
    payload, signed_at = serializer.loads(token, return_timestamp=True)
    assert payload == [subscriber_id, generation]

    class SignedThen(TimestampSigner):
        # itsdangerous's clock, set to the second the token was signed in.
        def get_timestamp(self) -> int:
            return int(signed_at.timestamp())

    same_time = URLSafeTimedSerializer(SECRET, salt=f"notices.{purpose}", signer=SignedThen)
    assert token == same_time.dumps([subscriber_id, generation])


def test_a_token_for_one_purpose_or_secret_does_not_verify_for_another():
    token = LinkSigner(SECRET).sign(LinkPurpose.UNSUBSCRIBE, 5, 1)
    assert LinkSigner(SECRET).verify(LinkPurpose.UNSUBSCRIBE, token) == (5, 1)
    with pytest.raises(InvalidToken):
        LinkSigner(SECRET).verify(LinkPurpose.MANAGE, token)
    with pytest.raises(InvalidToken):
        LinkSigner("another secret").verify(LinkPurpose.UNSUBSCRIBE, token)


def test_an_unknown_purpose_is_refused():
    with pytest.raises(ValueError, match="unknown token purpose"):
        LinkSigner(SECRET).sign("everything", 5, 1)


@pytest.mark.parametrize("token", [LinkSigner(SECRET).sign(LinkPurpose.UNSUBSCRIBE, 5, 1), "a b/c?d&é"])
def test_the_unsubscribe_mailto_carries_the_token_quoted(settings, token):
    assert unsubscribe_mailto(settings, token) == f"mailto:{settings.mail_from}?subject={quote('unsubscribe ' + token)}"
