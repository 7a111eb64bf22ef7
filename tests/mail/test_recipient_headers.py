"""Each recipient's To and Message-ID are written directly when plain: byte for byte what the email package writes."""

from email.headerregistry import Address

from hypothesis import given
from hypothesis import strategies as st

from notices.mail.message import _header, _message_id, _to

ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-"
# Anything an address might hold, plain or not: dots anywhere, quotes, spaces, specials, non-ASCII.
LOCAL = st.text(alphabet=ATEXT + '."(),:;<>@[\\] éü', min_size=1, max_size=90)
DOMAIN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-.", min_size=1, max_size=40)


def by_the_email_package_to(address: str) -> bytes:
    local, _, domain = address.partition("@")
    return _header("To", Address(username=local, domain=domain))


@given(LOCAL, DOMAIN)
def test_the_to_header_is_what_the_email_package_writes(local, domain):
    address = f"{local}@{domain}"
    try:
        expected = by_the_email_package_to(address)
    except Exception as error:  # what it cannot write, ours must not write either
        try:
            written = _to(address)
        except Exception as ours:
            assert type(ours) is type(error)
            return
        raise AssertionError(f"{address!r} written as {written!r}; the email package raised {error!r}") from None
    assert _to(address) == expected


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.", min_size=1, max_size=70), DOMAIN)
def test_the_message_id_header_is_what_the_email_package_writes(left, domain):
    identifier = f"<{left}@{domain}>"
    assert _message_id(identifier) == _header("Message-ID", identifier)


def test_ordinary_addresses_and_our_message_ids_take_the_direct_way():
    assert _to("tenant1@example.org") == b"To: tenant1@example.org\r\n"
    assert _to("o'neil+notices@sub.example.org") == b"To: o'neil+notices@sub.example.org\r\n"
    identifier = "<notices.123.0123456789abcdef@example.org>"
    assert _message_id(identifier) == f"Message-ID: {identifier}\r\n".encode()
