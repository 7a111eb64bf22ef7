"""Every email is a subject / text / HTML triple from templates/email/ (gettext), made into bytes here.

Only checked text reaches a header: user text is flattened to one line
without control or bidi characters, addresses are normalised before they get
here, and links are our own signed URLs. Every header is folded by the email
package except List-Unsubscribe, which we write ourselves (see below).

Thousands of recipients of a digest get the same content: MessageTemplate
renders and encodes it once and builds each recipient's headers apart, so
personalising never searches the content for a marker that a notice's text
could also contain.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

import css_inline
from jinja2 import Environment, Template

from notices.core.config import Settings
from notices.core.safe_text import strip_unsafe
from notices.notice.templating import gettext_functions

# RFC 2045 6.7: quoted-printable lines of at most 76 characters; RFC 2047 2: an
# encoded word of at most 75. The email package folds headers to
# max_line_length including the leading space, so 76 keeps both, and every
# header line it folds stays within RFC 5322's 78. CRLF line ends as SMTP
# wants them (smtplib sends bytes as they are).
_HEADER_LINE = 76
MAIL_POLICY = policy.SMTP.clone(max_line_length=_HEADER_LINE)
_MAX_LINE = 998  # RFC 5322 2.1.1: octets a line may have before the CRLF, in any part
_LINE_LIMIT = 990  # a little less, so a body line may take a recipient's link (see MessageTemplate)
_WRAP_AT = 800
_INLINER = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)

SUBJECT_LIMIT = 200
# Control characters and line breaks become a space; what the output filter removes from any
# text (bidi controls, which reverse or re-embed the text after them, lone surrogates, which no
# encoding can carry, noncharacters: core.safe_text) is dropped.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# What a URL in a header may hold: printable ASCII, no space, no angle brackets.
_HEADER_URL = re.compile(r"[!-;=?-~]+")


def header_text(value: str, *, limit: int | None = SUBJECT_LIMIT) -> str:
    """Text safe for a mail header: one line, no control or bidi characters, at most `limit` characters."""
    flat = " ".join(strip_unsafe(_CONTROL.sub(" ", value)).split())
    return flat if limit is None or len(flat) <= limit else shorten(flat, limit)


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters: cut at a space where one is near, and say so with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    cut = cut if cut > limit * 0.7 else limit - 1
    return text[:cut].rstrip() + "…"


def body_text(value: str) -> str:
    """Rendered text or HTML without the characters no part of a message may carry: what the output
    filter removes from any text (NUL and other controls, among them U+0085, which the email
    package takes for a line break; bidi controls; noncharacters)."""
    return strip_unsafe(value)


@dataclass(frozen=True)
class Links:
    manage_url: str
    unsubscribe_url: str
    unsubscribe_mailto: str


# Shown where a real message has the reader's own links: the console's preview.
PLACEHOLDER_LINKS = Links(
    manage_url="NOTICES-PLACEHOLDER-MANAGE-URL",
    unsubscribe_url="NOTICES-PLACEHOLDER-UNSUBSCRIBE-URL",
    unsubscribe_mailto="NOTICES-PLACEHOLDER-UNSUBSCRIBE-MAILTO",
)


def stand_in_links() -> Links:
    """Links to render shared content with, each holding a fresh nonce no notice text can contain."""
    nonce = secrets.token_hex(16)
    return Links(
        manage_url=f"https://{nonce}.invalid/manage",
        unsubscribe_url=f"https://{nonce}.invalid/unsubscribe",
        unsubscribe_mailto=f"mailto:{nonce}@invalid?subject=unsubscribe",
    )


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def render_mail(env: Environment, template: str, language: str, context: Mapping[str, Any]) -> RenderedMail:
    """The subject, text and HTML of templates/email/<template>.*, their interface texts in `language`."""
    base = f"email/{template}"
    context = {**context, **gettext_functions(language)}
    subject = _subject_line(env.get_template(f"{base}.subject.txt"), context)
    text = env.get_template(f"{base}.txt").render(**context)
    # Mail clients ignore <style> blocks more often than not: inline the CSS.
    html = _INLINER.inline(env.get_template(f"{base}.html").render(**context))
    return RenderedMail(subject=subject, text=body_text(text.strip()) + "\n", html=body_text(html))


def _subject_line(template: Template, context: Mapping[str, Any]) -> str:
    """The subject line; about a notice, the notice's title is `title` in the template.

    A subject too long for SUBJECT_LIMIT loses the end of a long expected end first, then the end
    of the title, not the end of the line: "(from Fri 14 Nov 16:00)" says when, the reason to open
    it. The message says both in full.
    """
    notice = context.get("notice")
    if notice is None:
        return header_text(template.render(**context))

    def subject_with(title: str, shown: Any) -> str:
        return header_text(template.render(**{**context, "notice": shown}, title=title), limit=None)

    title, shown = header_text(notice.title), notice
    subject = subject_with(title, shown)
    expected = getattr(notice, "expected_end", "")
    if len(subject) > SUBJECT_LIMIT and isinstance(expected, str) and len(expected) > _EXPECTED_END_KEPT:
        # "approximately the third quarter of 2027, depending on the weather and ...": its start says it.
        room = max(len(expected) - (len(subject) - SUBJECT_LIMIT), _EXPECTED_END_KEPT)
        shown = _WithExpectedEnd(notice, shorten(expected, room))
        subject = subject_with(title, shown)
    if len(subject) > SUBJECT_LIMIT:
        room = max(len(title) - (len(subject) - SUBJECT_LIMIT), _TITLE_KEPT)
        subject = subject_with(shorten(title, room), shown)
    return shorten(subject, SUBJECT_LIMIT)


# What a subject line keeps at least of a long expected end and of a long title (characters).
_EXPECTED_END_KEPT = 40
_TITLE_KEPT = 20


class _WithExpectedEnd:
    """A notice (a row, a translation of one) as the subject line shows it: with a shorter expected end."""

    def __init__(self, notice: Any, expected_end: str) -> None:
        self._notice = notice
        self.expected_end = expected_end

    def __getattr__(self, name: str) -> Any:
        return getattr(self._notice, name)


def unsubscribe_mailto(settings: Settings, token: str) -> str:
    return f"mailto:{settings.mail_from}?subject={quote('unsubscribe ' + token)}"


def _wrapped(text: str) -> str:
    """Break lines longer than _WRAP_AT octets at a space (HTML and plain text read the same)."""
    lines = []
    for line in text.splitlines():
        while len(line) > _WRAP_AT // 4:  # a shorter line cannot reach _WRAP_AT octets
            # Octets, not characters, count for SMTP: Ä is two of them.
            fits = len(line[:_WRAP_AT].encode()[:_WRAP_AT].decode(errors="ignore"))
            cut = line.rfind(" ", 0, fits) if fits < len(line) else -1
            if cut <= 0:
                break  # short enough, or one enormous word: left for quoted-printable below
            lines.append(line[:cut])
            line = line[cut + 1 :]
        lines.append(line)
    return "\n".join(lines) + "\n"


def _cte(text: str) -> str:
    # 8bit keeps .eml files readable, is several times cheaper to encode than
    # quoted-printable, and lets recipients share one encoded body (see
    # MessageTemplate); QP only for a line no space could break.
    return "8bit" if all(len(line.encode()) <= _LINE_LIMIT for line in text.splitlines()) else "quoted-printable"


def _header(name: str, value: str | Address) -> bytes:
    """One header field, parsed, checked and folded by the email package (RFC 2047 words where needed)."""
    folded = MAIL_POLICY.fold_binary(*MAIL_POLICY.header_store_parse(name, value))
    empty_first = f"{name}:\r\n ".encode()
    if folded.startswith(empty_first):
        # A value that fits on a line of its own goes to the next line whole,
        # leaving "Subject:" alone on the first (and Python's own parser then
        # reads a leading space). Fill the first line up to a space instead:
        # unfolding gives the same text, encoded words never hold a space.
        line, end, rest = folded[len(empty_first) :].partition(b"\r\n")
        cut = line.rfind(b" ", 0, _HEADER_LINE - len(name) - 1)
        if cut > 0:
            folded = b"%s: %s\r\n %s%s%s" % (name.encode(), line[:cut], line[cut + 1 :], end, rest)
    return folded


# What the email package writes back unchanged when it fits on one line: an address of two
# dot-atoms (RFC 5322 3.4.1, nothing to quote) and our own Message-IDs. Those are written
# directly: the package's header parser, run for every recipient, costs more than sending.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOMAIN = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_PLAIN_ADDRESS = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@{_DOMAIN}")
_PLAIN_MESSAGE_ID = re.compile(rf"<[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*@{_DOMAIN}>")


def _to(address: str) -> bytes:
    if _PLAIN_ADDRESS.fullmatch(address) and len(address) + 4 <= _HEADER_LINE:
        return b"To: %s\r\n" % address.encode("ascii")
    local, _, domain = address.partition("@")
    return _header("To", Address(username=local, domain=domain))


def _message_id(identifier: str) -> bytes:
    if _PLAIN_MESSAGE_ID.fullmatch(identifier) and len(identifier) + 12 <= _HEADER_LINE:
        return b"Message-ID: %s\r\n" % identifier.encode("ascii")
    return _header("Message-ID", identifier)


def _subject(subject: str) -> bytes:
    """The Subject field: words folded at spaces, or RFC 2047 encoded words throughout.

    Encoded words for any non-ASCII text, a word too long to fold, or text
    that would itself read as an encoded word. email.header.Header rather
    than the email package's newer folder, which drops the space between
    two encoded words ("€ Straße" arrives as "€Straße").
    """
    plain = subject.isascii() and "=?" not in subject and all(len(word) <= 66 for word in subject.split(" "))
    folded = Header(subject, "us-ascii" if plain else "utf-8", maxlinelen=_HEADER_LINE, header_name="Subject").encode(
        linesep="\r\n"
    )
    return f"Subject: {folded}\r\n".encode("ascii")


def _list_unsubscribe(links: Links) -> bytes:
    # RFC 2369 and RFC 8058: one-click unsubscribe with a POST to our URL, or
    # a mail. Folded between the URLs but never inside one, and never as an
    # RFC 2047 encoded word (what the email package makes of a long URL),
    # which no mail client can use as a link.
    urls = (links.unsubscribe_url, links.unsubscribe_mailto)
    if not all(_HEADER_URL.fullmatch(url) for url in urls):
        raise ValueError(f"not a header-safe URL: {urls!r}")
    return f"List-Unsubscribe: <{urls[0]}>,\r\n <{urls[1]}>\r\n".encode("ascii")


class NotShareable(Exception):
    """This content cannot be shared by its recipients as encoded: render the message for one."""


@dataclass(frozen=True)
class OutgoingMail:
    """A message ready for the wire."""

    data: bytes
    message_id: str
    recipient: str

    @property
    def eight_bit(self) -> bool:
        return not self.data.isascii()


@dataclass(frozen=True)
class MessageTemplate:
    """A message without its recipient: the headers everyone shares and the encoded MIME body.

    Recipients' own headers (To, Message-ID, List-Unsubscribe) are built for
    each of them. Their links inside the body were rendered as stand-ins
    (stand_in_links(): a nonce drawn per build, which no stored text can
    hold) and are filled in by position. That is only safe where the body
    is 8bit, which holds its text as is; a quoted-printable body, a stand-in
    that did not come through whole, or a link too long for its line raise
    NotShareable, and that message is rendered for its recipient alone.
    """

    head: bytes
    segments: tuple[bytes, ...]  # the body, cut where a recipient's link goes
    slots: tuple[str, ...]  # the Links field that goes after each segment but the last
    link_lines: tuple[tuple[int, tuple[str, ...]], ...]  # octets of each body line with links, and its links
    stand_ins: Links | None

    @classmethod
    def build(
        cls, *, settings: Settings, rendered: RenderedMail, date: datetime, bulk: bool, stand_ins: Links | None = None
    ) -> MessageTemplate:
        """Encode `rendered`; `stand_ins`: the links it was rendered with, to fill in per recipient."""
        local, _, domain = settings.mail_from.partition("@")
        head = [
            _header(
                "From",
                Address(display_name=header_text(settings.mail_from_name, limit=80), username=local, domain=domain),
            ),
            _subject(header_text(rendered.subject)),
            _header("Date", format_datetime(date, usegmt=True)),
            _header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            _header("List-ID", f"{header_text(settings.site_name, limit=60)} <notices.{domain}>"),
            _header("Auto-Submitted", "auto-generated"),
            _header("X-Auto-Response-Suppress", "OOF, AutoReply"),
        ]
        if bulk:
            head.append(_header("Precedence", "bulk"))
        text, html = _wrapped(rendered.text), _wrapped(rendered.html)
        encodings = _cte(text), _cte(html)
        body = EmailMessage(policy=MAIL_POLICY)
        body.set_content(text, cte=encodings[0])
        body.add_alternative(html, subtype="html", cte=encodings[1])
        data = body.as_bytes()  # MIME-Version, Content-Type, a blank line and the parts
        if stand_ins is None:
            return cls(b"".join(head), (data,), (), (), None)
        if encodings != ("8bit", "8bit"):
            raise NotShareable("a part needs quoted-printable")
        return cls(b"".join(head), *_cut(data, text + html, stand_ins), stand_ins)

    def personalise(self, *, to: str, message_id: str, links: Links) -> OutgoingMail:
        if self.stand_ins is not None:
            growth = {name: len(getattr(links, name)) - len(getattr(self.stand_ins, name)) for name in _LINK_FIELDS}
            if any(octets + sum(growth[name] for name in names) > _MAX_LINE for octets, names in self.link_lines):
                raise NotShareable("a link does not fit on its line")
        parts = [
            self.head,
            _to(to),
            _message_id(message_id),
            _list_unsubscribe(links),
            self.segments[0],
        ]
        for name, segment in zip(self.slots, self.segments[1:], strict=True):
            parts += (_ascii_url(getattr(links, name)), segment)
        return OutgoingMail(data=b"".join(parts), message_id=message_id, recipient=to)


_LINK_FIELDS = tuple(field.name for field in fields(Links))


def _ascii_url(url: str) -> bytes:
    if not _HEADER_URL.fullmatch(url):
        raise ValueError(f"not a URL to put in a message: {url!r}")
    return url.encode("ascii")


def _cut(
    data: bytes, rendered: str, stand_ins: Links
) -> tuple[tuple[bytes, ...], tuple[str, ...], tuple[tuple[int, tuple[str, ...]], ...]]:
    """Cut the encoded body at each stand-in link, after checking every one came through whole."""
    by_value = {getattr(stand_ins, name).encode(): name for name in _LINK_FIELDS}
    nonce = stand_ins.manage_url.removeprefix("https://").partition(".")[0].encode()
    expected = sum(rendered.count(value.decode()) for value in by_value)
    found = sum(data.count(value) for value in by_value)
    if found != expected or data.count(nonce) != found:
        raise NotShareable("a recipient's link did not survive encoding")
    pieces = re.split(b"(" + b"|".join(re.escape(value) for value in by_value) + b")", data)
    link_lines = tuple(
        (len(line), tuple(by_value[value] for value in by_value for _ in range(line.count(value))))
        for line in data.split(b"\r\n")
        if nonce in line
    )
    return tuple(pieces[0::2]), tuple(by_value[value] for value in pieces[1::2]), link_lines


def make_message(
    *,
    settings: Settings,
    rendered: RenderedMail,
    to: str,
    message_id: str,
    links: Links,
    date: datetime,
    bulk: bool = False,
) -> OutgoingMail:
    """One message for one recipient, rendered with their own links."""
    template = MessageTemplate.build(settings=settings, rendered=rendered, date=date, bulk=bulk)
    return template.personalise(to=to, message_id=message_id, links=links)
