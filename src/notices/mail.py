"""Every email is a subject / text / HTML triple from templates/email/<language>/, built by make_message.

Only checked text reaches a header: the subject is flattened to one line
without control characters, addresses are normalised before they get here,
and links are our own signed URLs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email import policy
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
    # Quoted-printable keeps every line under SMTP's 998-octet limit, however
    # long the inlined-CSS HTML lines get.
    message.set_content(rendered.text, cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    return message
