"""A permanent refusal for a subscriber who was removed while the message was on its way."""

from datetime import timedelta

from notices.mail.transports import SMTPMailer
from notices.runtime import jobs
from tests.factories import add_notice, add_subscriber
from tests.smtp_sink import RecordingHandler, running

GONE = "gone@example.org"


class PurgedMidSend(RecordingHandler):
    """Refuses GONE as an unknown mailbox, after the purge job has forgotten its sign-up meanwhile."""

    def __init__(self, purge) -> None:
        super().__init__()
        self.purge = purge

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == GONE:
            self.purge()
            return "550 5.1.1 No such user"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


def test_a_refusal_for_a_purged_sign_up_does_not_stop_the_others_mail(ctx, clock):
    # GONE signed up (its confirmation is the first delivery) and never confirmed; a tenant gets an alert.
    add_subscriber(ctx, GONE, state="pending")
    add_subscriber(ctx, "tenant@example.org")
    add_notice(ctx, title="Plesmanlaan closed")
    jobs.record_transitions(ctx, now=clock.now())
    jobs.enqueue_alerts(ctx, now=clock.now())
    # The hourly purge runs (three days later by its own clock) while GONE's confirmation is in flight.
    handler = PurgedMidSend(lambda: jobs.purge(ctx, now=clock.now() + ctx.settings.confirm_within + timedelta(hours=1)))
    with running(handler) as server:
        ctx.mailer = SMTPMailer(server.url, timeout=5)
        counts = jobs.send_pending(ctx, now=clock.now())
    assert counts == {"sent": 1, "retry": 0, "failed": 1, "expired": 0, "lost": 0}
    (alert,) = handler.to("tenant@example.org")
    assert "Plesmanlaan closed" in alert["Subject"]
