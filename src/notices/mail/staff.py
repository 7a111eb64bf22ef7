"""Emails to the editorial staff about approvals: something waits, or was approved or returned.

Staff are users, not subscribers, so the subscriber outbox (with its unsubscribe links)
does not apply: like the admins' hook email, these go straight through the mailer once
the transition is committed. A mail that cannot be sent is logged; the transition stands
and the console's queue still shows what waits.
"""

from __future__ import annotations

import logging
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from notices.core.context import AppContext
from notices.mail.message import MAIL_POLICY, OutgoingMail, header_text, render_mail
from notices.mail.transports import mailer_from_settings
from notices.notice.approval import Notification
from notices.notice.templating import make_environment
from notices.notice.wording import Words

log = logging.getLogger(__name__)


def notify(ctx: AppContext, note: Notification | None, *, now: datetime) -> int:
    """Send `note` to its recipients (staff emails; a shell operator has none); how many were sent."""
    if note is None:
        return 0
    recipients = [address for address in note.recipients if "@" in address]
    if not recipients:
        return 0
    settings = ctx.settings
    words = Words.of_site(settings)
    rendered = render_mail(
        make_environment(settings),
        "approval",
        settings.language,  # staff have no language of their own: the site's
        {
            "note": note,
            "notice": note,  # the subject shortens the title, not the rest of the line
            "words": words,
            "site_url": settings.absolute_url("/"),
            "review_url": settings.absolute_url(f"/admin/notices/{note.uid}"),
        },
    )
    domain = settings.mail_from.partition("@")[2] or "localhost"
    sent = 0
    try:
        with (ctx.mailer or mailer_from_settings(settings)).connection() as connection:
            for address in recipients:
                message = EmailMessage(policy=MAIL_POLICY)
                message["From"] = settings.mail_from
                message["To"] = address
                message["Subject"] = header_text(rendered.subject)
                message["Date"] = format_datetime(now)
                message["Message-ID"] = make_msgid("approval", domain=domain)
                message["Auto-Submitted"] = "auto-generated"
                message.set_content(rendered.text)
                message.add_alternative(rendered.html, subtype="html")
                connection.send(
                    OutgoingMail(message.as_bytes(), message["Message-ID"], address), sender=settings.mail_from
                )
                sent += 1
    except Exception:  # the transition is committed either way; the console queue shows it
        log.exception("could not email the staff about notice %s (%s)", note.uid, note.kind)
    return sent
