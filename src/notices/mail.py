"""Every email is a subject / text / HTML triple from templates/email/<language>/, built by make_message.

Only checked text reaches a header: the subject is flattened to one line
without control characters, addresses are normalised before they get here,
and links are our own signed URLs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import quote

import css_inline
from jinja2 import Environment

from notices.config import Settings

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# CRLF line ends as SMTP wants them (smtplib sends bytes as they are), and
# headers folded only past 998 octets: a long List-Unsubscribe URL must stay
# a plain <URL>, never an RFC 2047 encoded word that mail clients cannot use.
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)
_LINE_LIMIT = 990  # octets a body line may have (SMTP allows 998 before the CRLF)
_WRAP_AT = 800
_INLINER = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


def header_text(value: str, *, limit: int = 200) -> str:
    """Text safe for a mail header: one line, no control characters, bounded length."""
    flat = " ".join(_CONTROL.sub(" ", value).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Links:
    manage_url: str
    unsubscribe_url: str
    unsubscribe_mailto: str


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def render_mail(env: Environment, template: str, language: str, context: dict) -> RenderedMail:
    base = f"email/{language}/{template}"
    subject = env.get_template(f"{base}.subject.txt").render(**context)
    text = env.get_template(f"{base}.txt").render(**context)
    # Mail clients ignore <style> blocks more often than not: inline the CSS.
    html = _INLINER.inline(env.get_template(f"{base}.html").render(**context))
    return RenderedMail(subject=header_text(subject), text=text.strip() + "\n", html=html)


def unsubscribe_mailto(settings: Settings, token: str) -> str:
    return f"mailto:{settings.mail_from}?subject={quote('unsubscribe ' + token)}"


def _wrapped(text: str) -> str:
    """Break lines longer than SMTP allows at a space (HTML and plain text read the same)."""
    lines = []
    for line in text.splitlines():
        while len(line) > _WRAP_AT:
            cut = line.rfind(" ", 0, _WRAP_AT)
            if cut <= 0:
                break  # one enormous word: left for quoted-printable below
            lines.append(line[:cut])
            line = line[cut + 1:]
        lines.append(line)
    return "\n".join(lines) + "\n"


def _cte(text: str) -> str:
    # 8bit keeps .eml files readable and is several times cheaper to encode
    # than quoted-printable; QP only for a line no space could break.
    return "8bit" if all(len(line.encode()) <= _LINE_LIMIT for line in text.splitlines()) else "quoted-printable"


def make_message(
    *, settings: Settings, rendered: RenderedMail, to: str, message_id: str, links: Links, date: datetime,
    bulk: bool = False,
) -> EmailMessage:
    message = EmailMessage(policy=MAIL_POLICY)
    local, _, domain = settings.mail_from.partition("@")
    message["From"] = Address(display_name=header_text(settings.mail_from_name, limit=80), username=local, domain=domain)
    to_local, _, to_domain = to.partition("@")
    message["To"] = Address(username=to_local, domain=to_domain)
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(date, usegmt=True)
    message["Message-ID"] = message_id
    # RFC 2369 and RFC 8058: one-click unsubscribe with a POST to our URL.
    message["List-Unsubscribe"] = f"<{links.unsubscribe_url}>, <{links.unsubscribe_mailto}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["List-ID"] = f"{header_text(settings.site_name, limit=60)} <notices.{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    if bulk:
        message["Precedence"] = "bulk"
    text, html = _wrapped(rendered.text), _wrapped(rendered.html)
    message.set_content(text, cte=_cte(text))
    message.add_alternative(html, subtype="html", cte=_cte(html))
    return message


@dataclass(frozen=True)
class OutgoingMail:
    """A message ready for the wire."""

    data: bytes
    message_id: str
    recipient: str

    @property
    def eight_bit(self) -> bool:
        return not self.data.isascii()


PLACEHOLDER_TO = "notices-placeholder-to@placeholder.invalid"
PLACEHOLDER_MESSAGE_ID = "<notices-placeholder-message-id@placeholder.invalid>"
PLACEHOLDER_LINKS = Links(
    manage_url="NOTICES-PLACEHOLDER-MANAGE-URL",
    unsubscribe_url="NOTICES-PLACEHOLDER-UNSUBSCRIBE-URL",
    unsubscribe_mailto="NOTICES-PLACEHOLDER-UNSUBSCRIBE-MAILTO",
)


@dataclass(frozen=True)
class MessageTemplate:
    """One make_message() output shared by every recipient of the same content.

    Built once with placeholders for what differs per recipient (address,
    Message-ID, their signed links), then filled in per message. Placeholders
    survive serialisation intact: headers are not folded below 998 octets
    and 8bit bodies are not re-wrapped. What is filled in is ours: a
    normalised address, our Message-ID, our signed URLs.
    """

    data: bytes

    @classmethod
    def build(cls, *, settings: Settings, rendered: RenderedMail, date: datetime, bulk: bool) -> MessageTemplate:
        message = make_message(settings=settings, rendered=rendered, to=PLACEHOLDER_TO, message_id=PLACEHOLDER_MESSAGE_ID,
                               links=PLACEHOLDER_LINKS, date=date, bulk=bulk)
        data = message.as_bytes()
        if data.count(PLACEHOLDER_TO.encode()) != 1 or data.count(PLACEHOLDER_MESSAGE_ID.encode()) != 1:
            raise ValueError("a placeholder did not survive serialisation")
        return cls(data)

    def personalise(self, *, to: str, message_id: str, links: Links) -> OutgoingMail:
        data = self.data.replace(PLACEHOLDER_TO.encode(), to.encode("ascii"))
        data = data.replace(PLACEHOLDER_MESSAGE_ID.encode(), message_id.encode("ascii"))
        for placeholder, value in ((PLACEHOLDER_LINKS.manage_url, links.manage_url),
                                   (PLACEHOLDER_LINKS.unsubscribe_url, links.unsubscribe_url),
                                   (PLACEHOLDER_LINKS.unsubscribe_mailto, links.unsubscribe_mailto)):
            data = data.replace(placeholder.encode(), value.encode("ascii"))
        return OutgoingMail(data=data, message_id=message_id, recipient=to)
