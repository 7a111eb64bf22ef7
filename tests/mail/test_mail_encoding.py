"""Line lengths and encodings by the RFCs, checked on the bytes that crossed the wire.

RFC 5322 2.1.1: lines of at most 998 octets, header lines within 78 where
they can be folded; RFC 2045 6.7: quoted-printable lines of at most 76
characters; RFC 2047 2: encoded words of at most 75 characters. Read back
with Python's email package under policy.strict and with SpamAssassin.
"""

import email
import re
import shutil
import subprocess
from datetime import timedelta
from email import policy

import pytest

from tests.factories import add_notice, add_subscriber
from tests.mail_samples import KINDS, LANGUAGES, every_kind, part
from tests.mail_samples import _send as send
from tests.mail_samples import _take as take

LONG = {
    # 198 characters, none ASCII-only words: the subject needs many encoded words.
    "title": "Straße gesloten € " * 11,
    # Words no line can hold: the parts must be quoted-printable.
    "summary": "Schakel gevoelige apparatuur uit vóór 22:00: " + "é" * 1500,
    "body": "Kaart: https://example.org/" + "kaart" * 300 + "\n\nDaarna weer open.",
}
ENCODED_WORD = re.compile(rb"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
LIST_UNSUBSCRIBE = re.compile(r"<https?://[^<>\s]+>, <mailto:[^<>\s]+>")


def send_every_kind(ctx, clock, sink, language):
    kinds = every_kind(ctx, clock, sink, language=language, **LONG)
    assert set(kinds) == set(KINDS)
    return kinds


def header_and_parts(raw: bytes) -> tuple[list[bytes], list[tuple[str, list[bytes]]]]:
    """The header lines, and the encoded lines of each leaf part with its transfer encoding."""
    head, _, _ = raw.partition(b"\r\n\r\n")
    message = email.message_from_bytes(raw, policy=policy.default)
    parts = []
    for leaf in message.walk():
        if not leaf.is_multipart():
            encoded = leaf.get_payload(decode=False)
            assert isinstance(encoded, str)  # a leaf's payload is its encoded text
            parts.append((leaf["Content-Transfer-Encoding"], encoded.encode("utf-8", "surrogateescape").splitlines()))
    return head.split(b"\r\n"), parts


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_kind_parses_under_policy_strict_without_defects(sink_ctx, clock, sink, language):
    for kind, arrived in send_every_kind(sink_ctx, clock, sink, language).items():
        message = email.message_from_bytes(arrived.raw, policy=policy.strict)
        assert message.defects == [], kind
        for leaf in message.walk():
            assert leaf.defects == [], kind
            for name, value in leaf.items():
                assert value.defects == (), (kind, name)
        assert part(message, "plain") and part(message, "html")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_line_keeps_the_rfc_limits(sink_ctx, clock, sink, language):
    for kind, arrived in send_every_kind(sink_ctx, clock, sink, language).items():
        head, parts = header_and_parts(arrived.raw)
        assert max(len(line) for line in arrived.raw.split(b"\r\n")) <= 998, kind
        for line in head:
            # A URL cannot be folded: only List-Unsubscribe's two lines may be longer.
            if not re.match(rb"(List-Unsubscribe: | )<(https?|mailto):", line):
                assert len(line) <= 78, (kind, line)
        for word in ENCODED_WORD.findall(b"\n".join(head)):
            assert len(word) <= 75, (kind, word)
        if kind not in ("confirm", "manage"):  # these hold no notice text, so no long word
            assert [encoding for encoding, _ in parts] == ["quoted-printable", "quoted-printable"], kind
        for encoding, lines in parts:
            if encoding == "quoted-printable":
                assert max(len(line) for line in lines) <= 76, kind


def test_list_unsubscribe_stays_a_plain_list_of_urls(sink_ctx, clock, sink):
    for kind, arrived in send_every_kind(sink_ctx, clock, sink, "nl").items():
        message = email.message_from_bytes(arrived.raw, policy=policy.default)
        assert b"=?" not in arrived.raw.partition(b"\r\n\r\n")[0].split(b"List-Unsubscribe:")[1].split(b"\r\nMIME")[0]
        assert LIST_UNSUBSCRIBE.fullmatch(message["List-Unsubscribe"]), (kind, message["List-Unsubscribe"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_long_subject_shortens_the_title_and_keeps_when(sink_ctx, clock, sink, language):
    kinds = send_every_kind(sink_ctx, clock, sink, language)
    for kind in ("alert:published", "reminder"):
        subject = kinds[kind].message["Subject"]
        assert len(subject) <= 200
        assert re.search(r"\S… \((from|vanaf) \w+ \d+ \w+ \d\d:\d\d\)$", subject), subject


def test_a_long_expected_end_gives_way_in_the_subject_and_the_line_keeps_its_end(sink_ctx, clock, sink):
    add_subscriber(sink_ctx, "tenant@example.org")
    expected = (
        "approximately the third quarter of 2027, depending on the weather and on the delivery of the "
        "prefabricated bridge sections by the supplier; see the website"
    )
    add_notice(
        sink_ctx,
        title="Plesmanlaan closed between Sylviusweg and Einsteinweg for the reconstruction of the bridge",
        starts_at=clock.now() - timedelta(minutes=5),
        ends_at=None,
        expected_end=expected,
    )
    send(sink_ctx, clock)
    messages = [email.message_from_bytes(arrived.raw, policy=policy.strict) for arrived in take(sink)]
    assert messages  # (published and in effect)
    for message in messages:
        subject = message["Subject"]
        assert len(subject) <= 200
        assert "Plesmanlaan closed between Sylviusweg" in subject  # the title keeps more than its first words
        assert "(until further notice, expected approximately the third quarter of 2027" in subject
        assert subject.endswith("…)"), subject  # the expected end is cut, not the line's closing bracket
        assert expected in " ".join(part(message, "plain").split())  # the message says it in full


def spamassassin_rules(messages: list[bytes]) -> list[set[str]]:
    """The rules SpamAssassin's local tests fire on each message (one run over an mbox: rules compile once)."""
    mbox = b"".join(
        b"From notices@example.org Mon Nov 30 09:00:00 2026\n"
        + re.sub(rb"\n(>*From )", rb"\n>\1", raw.replace(b"\r\n", b"\n"))
        + b"\n"
        for raw in messages
    )
    report = subprocess.run(
        ["spamassassin", "--local", "--test-mode", "--mbox"], input=mbox, capture_output=True, check=True
    ).stdout.decode("utf-8", "replace")
    tables = report.split("Content analysis details:")[1:]
    assert len(tables) == len(messages)
    return [
        set(re.findall(r"^\s*-?\d+\.\d+\s+([A-Z][A-Z0-9_]+)", table.split("\n\n", 2)[1], flags=re.MULTILINE))
        for table in tables
    ]


def test_spamassassin_finds_no_long_lines_or_bad_encoding(sink_ctx, clock, sink):
    assert shutil.which("spamassassin"), "Debian's spamassassin is needed: apt-get install spamassassin"
    kinds = send_every_kind(sink_ctx, clock, sink, "nl")
    # Rules about line length, transfer encodings, charsets, MIME structure and headers.
    about_encoding = re.compile(r"LONG|QP|BASE64|ENC|8BIT|CHARSET|MIME|HB_SEP|SUBJ_|HEADER|HEAD_")
    rules = spamassassin_rules([arrived.raw for arrived in kinds.values()])
    assert all("HTML_MESSAGE" in fired for fired in rules)  # the report was read
    fired = {
        kind: sorted(rule for rule in fired if about_encoding.search(rule))
        for kind, fired in zip(kinds, rules, strict=True)
    }
    assert fired == {kind: [] for kind in KINDS}


def test_a_server_without_8bitmime_gets_quoted_printable_with_the_same_headers(sink_ctx, clock, sink):
    from notices.mail.transports import as_seven_bit

    for kind, arrived in send_every_kind(sink_ctx, clock, sink, "nl").items():
        converted = as_seven_bit(arrived.raw)
        assert converted.isascii(), kind
        original_head, converted_head = arrived.raw.partition(b"\r\n\r\n")[0], converted.partition(b"\r\n\r\n")[0]
        assert converted_head == original_head, kind
        head, parts = header_and_parts(converted)
        for encoding, lines in parts:
            assert encoding in ("7bit", "quoted-printable"), kind
            assert max(len(line) for line in lines) <= 76, kind
        message, original = (email.message_from_bytes(raw, policy=policy.default) for raw in (converted, arrived.raw))
        for subtype in ("plain", "html"):
            assert part(message, subtype) == part(original, subtype), kind
