"""The email the admins get when an endpoint is disabled after a long run of failures.

Sent straight through the mailer (admins are users, not subscribers, so the
subscriber outbox does not apply); at most once per disabling, since only the
sender that flipped `enabled` sends it. A mail that cannot be sent is logged:
the endpoint stays disabled and `notices hook list` says why.
"""

from __future__ import annotations

import logging
import urllib.parse
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import select

from notices.core.context import AppContext
from notices.core.models import HookEndpoint, User
from notices.core.states import Role
from notices.mail.message import MAIL_POLICY, OutgoingMail, header_text
from notices.mail.transports import mailer_from_settings

log = logging.getLogger(__name__)


def endpoint_disabled(ctx: AppContext, endpoint: HookEndpoint, *, now: datetime) -> int:
    """Tell every active admin; how many were mailed."""
    settings = ctx.settings
    with ctx.db.session() as session:
        admins = list(session.scalars(select(User.email).where(User.role == Role.ADMIN, User.active.is_(True))))
    if not admins:
        log.warning("hook endpoint %s disabled and there is no admin to tell", endpoint.id)
        return 0
    host = urllib.parse.urlsplit(endpoint.url).hostname or "?"
    subject = header_text(f"{settings.site_name}: integration {endpoint.id} ({endpoint.kind}, {host}) disabled")
    text = (
        f"The {endpoint.kind} integration {endpoint.id} to {host} was disabled at "
        f"{now.astimezone(settings.timezone):%Y-%m-%d %H:%M %Z}: {endpoint.disabled_reason}.\n\n"
        f"Its delivery log: notices hook log {endpoint.id}\n"
        f"Turn it on again once the receiver works: notices hook enable {endpoint.id}\n"
        f"Console: {settings.absolute_url('admin/integrations')}\n"
    )
    domain = settings.mail_from.partition("@")[2] or "localhost"
    sent = 0
    try:
        with (ctx.mailer or mailer_from_settings(settings)).connection() as connection:
            for address in admins:
                message = EmailMessage(policy=MAIL_POLICY)
                message["From"] = settings.mail_from
                message["To"] = address
                message["Subject"] = subject
                message["Date"] = format_datetime(now)
                message["Message-ID"] = make_msgid("hooks", domain=domain)
                message["Auto-Submitted"] = "auto-generated"
                message.set_content(text)
                connection.send(
                    OutgoingMail(message.as_bytes(), message["Message-ID"], address), sender=settings.mail_from
                )
                sent += 1
    except Exception:  # the endpoint is disabled either way; the log and `hook list` say so
        log.exception("could not email the admins that hook endpoint %s was disabled", endpoint.id)
    return sent
