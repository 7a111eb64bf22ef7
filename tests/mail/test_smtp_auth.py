"""The SMTP backend logs in with the credentials from NOTICES_SMTP_URL."""

from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from notices.mail.transports import SMTPMailer
from notices.runtime import jobs
from tests.factories import add_notice, add_subscriber
from tests.smtp_sink import RecordingHandler, free_port


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"notices", b"s3cr3t:/@")
    return AuthResult(success=ok)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # loopback-only test server
def test_login_with_url_encoded_credentials(ctx, clock):
    handler, port = RecordingHandler(), free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        # The password holds ':', '/' and '@', percent-encoded in the URL.
        ctx.mailer = SMTPMailer(f"smtp://notices:s3cr3t%3A%2F%40@127.0.0.1:{port}", timeout=5)
        add_subscriber(ctx, "tenant@example.org")
        add_notice(ctx, starts_at=clock.now() + timedelta(hours=1))
        jobs.record_transitions(ctx, now=clock.now())
        jobs.enqueue_alerts(ctx, now=clock.now())
        assert jobs.send_pending(ctx, now=clock.now())["sent"] == 1
        assert len(handler.messages) == 1
        ctx.mailer = SMTPMailer(f"smtp://notices:wrong@127.0.0.1:{port}", timeout=5)
        add_notice(ctx, title="Second", starts_at=clock.now() + timedelta(hours=1))
        jobs.record_transitions(ctx, now=clock.now())
        jobs.enqueue_alerts(ctx, now=clock.now())
        # A refused login is the server's configuration problem, not the address's: retry later.
        assert jobs.send_pending(ctx, now=clock.now())["retry"] == 1
    finally:
        controller.stop()
