"""Safe outbound HTTP for hooks: the address rules at creation and at send time, against real local servers."""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from notices.core.errors import InvalidField
from notices.hooks.targets import BODY_CAP, SafePoster, TargetRefused, check_target, forbidden_reason, safe_client

HUGE = 10 * 1024 * 1024


@dataclass
class Server:
    """A real HTTP(S) server on 127.0.0.1 that records what reached it."""

    port: int = 0
    paths: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet test output
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            server.paths.append(self.path)
            server.hosts.append(self.headers.get("host", ""))
            server.bodies.append(body)
            if self.path == "/redirect":
                self._answer(302, b"moved", location="/landing")
            elif self.path == "/huge":
                self.send_response(200)
                self.send_header("content-length", str(HUGE))
                self.end_headers()
                chunk = b"x" * 65536
                try:
                    for _ in range(HUGE // len(chunk)):
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading at its cap, as it should
            else:
                self._answer(200, b"ok")

        def _answer(self, status: int, body: bytes, **headers: str) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def running(tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    server = Server()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    if tls is not None:
        tls.sni_callback = lambda sock, name, context: server.server_names.append(name)
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Server]:
    with running() as server:
        yield server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[str, str]:
    """A self-signed certificate for the name localhost only (no IP address in it), made by openssl."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"]
        + ["-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


def allowing(settings, *, http=False, private=False):
    return dataclasses.replace(settings, hooks_allow_http=http, hooks_allow_private_networks=private)


# At creation ---------------------------------------------------------------------------------

FORBIDDEN = {
    "https://127.0.0.1/hook": "loopback",
    "https://127.9.9.9/hook": "loopback",
    "https://169.254.169.254/latest/meta-data/": "link-local",
    "https://10.1.2.3/": "private",
    "https://172.16.0.1/": "private",
    "https://192.168.1.1/": "private",
    "https://100.64.0.1/": "carrier-grade NAT",
    "https://224.0.0.1/": "multicast",
    "https://240.0.0.1/": "reserved",
    "https://255.255.255.255/": "reserved",
    "https://0.0.0.0/": "unspecified",
    "https://192.0.2.10/": "private",  # documentation range
    "https://[::1]/": "loopback",
    "https://[::]/": "unspecified",
    "https://[fe80::1]/": "link-local",
    "https://[fd12:3456::1]/": "unique local",
    "https://[ff02::1]/": "multicast",
    "https://[::ffff:127.0.0.1]/": "loopback, as IPv6",
    "https://[::ffff:169.254.169.254]/": "link-local, as IPv6",
    "https://[64:ff9b::a9fe:a9fe]/": "link-local, as IPv6",  # NAT64 of 169.254.169.254
    "https://[2002:7f00:1::1]/": "loopback, as IPv6",  # 6to4 of 127.0.0.1
    "https://localhost/hook": "loopback",  # a name: resolved, then checked
}


@pytest.mark.parametrize(("url", "reason"), FORBIDDEN.items())
def test_a_non_public_target_is_refused_at_creation(settings, url, reason):
    with pytest.raises(InvalidField) as refused:
        check_target(url, settings)
    assert refused.value.field == "url"
    assert f"({reason}" in refused.value.problem
    assert "not a public address" in refused.value.problem


def test_a_name_is_refused_naming_the_address_it_resolves_to(settings):
    with pytest.raises(InvalidField, match=r"localhost resolves to (127\.0\.0\.1|::1), which is not a public"):
        check_target("https://localhost/hook", settings)


@pytest.mark.parametrize("url", ["https://93.184.216.34/hook", "https://[2001:4860:4860::8888]:8443/x?y=1"])
def test_a_public_address_is_accepted(settings, url):
    check_target(url, settings)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "required"),
        ("http://93.184.216.34/", "must start with https:// (or http:// with [hooks] allow_http = true)"),
        ("ftp://93.184.216.34/", "must start with https://"),
        ("javascript:alert(1)", "must start with https://"),
        ("https://user:secret@93.184.216.34/", "must not contain a user name or password"),
        ("https:///path-only", "has no host name"),
        ("https://93.184.216.34:99999/", "not a valid address"),
        ("https://93.184.216.34/a b", "must not contain spaces or control characters"),
        ("https://93.184.216.34/\x00", "must not contain spaces or control characters"),
        ("https://93.184.216.34/" + "a" * 3000, "at most 2048 characters"),
    ],
)
def test_a_malformed_target_is_refused_with_the_reason(settings, url, problem):
    with pytest.raises(InvalidField) as refused:
        check_target(url, settings)
    assert refused.value.field == "url"
    assert problem in refused.value.problem


@pytest.fixture(params=["client", "poster"])
def sending(request):
    """The two ways to send through the vetted transport: an httpx client around it, and the
    SafePoster the hooks sender uses (the same transport without the client's layers)."""
    return safe_client if request.param == "client" else SafePoster


def test_a_name_that_does_not_resolve_yet_is_accepted_and_refused_when_sent(settings, sending):
    check_target("https://no-such-host.invalid/hook", settings)
    with sending(settings) as client, pytest.raises(TargetRefused, match="does not resolve"):
        client.post("https://no-such-host.invalid/hook", content=b"{}")


def test_the_flags_allow_http_and_private_addresses_each_on_their_own(settings):
    with pytest.raises(InvalidField, match="must start with https://"):
        check_target("http://127.0.0.1:8080/", allowing(settings, private=True))
    with pytest.raises(InvalidField, match="loopback"):
        check_target("http://127.0.0.1:8080/", allowing(settings, http=True))
    check_target("http://127.0.0.1:8080/", allowing(settings, http=True, private=True))
    check_target("https://169.254.169.254/", allowing(settings, private=True))
    check_target("http://localhost:8080/", allowing(settings, http=True, private=True))


def test_the_public_address_test_agrees_with_the_ranges_for_a_sample():
    assert forbidden_reason(ipaddress.ip_address("1.1.1.1")) is None
    assert forbidden_reason(ipaddress.ip_address("2a00:1450:4001::1")) is None
    assert forbidden_reason(ipaddress.ip_address("::ffff:1.1.1.1")) is None


# At send time --------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_send_to_a_loopback_target_is_refused_and_nothing_arrives(settings, receiver, host, sending):
    with sending(allowing(settings, http=True)) as client, pytest.raises(TargetRefused, match="loopback"):
        client.post(receiver.url("/ok", host=host), content=b"{}")
    assert receiver.paths == []


def test_a_send_to_the_metadata_address_is_refused_before_connecting(settings, sending):
    started = time.monotonic()
    with sending(allowing(settings, http=True)) as client, pytest.raises(TargetRefused, match="link-local"):
        client.post("http://169.254.169.254/latest/meta-data/", content=b"{}")
    # Refused, not a connection attempt that timed out.
    assert time.monotonic() - started < 1


def test_a_send_over_http_is_refused_without_allow_http(settings, receiver, sending):
    with sending(allowing(settings, private=True)) as client, pytest.raises(TargetRefused, match="https only"):
        client.post(receiver.url("/ok"), content=b"{}")
    assert receiver.paths == []


def test_with_both_flags_a_local_receiver_gets_the_body(settings, receiver, sending):
    with sending(allowing(settings, http=True, private=True)) as client:
        answer = client.post(receiver.url("/ok", host="localhost"), content=b'{"type":"notice.published"}')
    assert answer.status_code == 200 and answer.content == b"ok"
    assert receiver.bodies == [b'{"type":"notice.published"}']


def test_a_name_that_rebinds_to_a_private_address_after_creation_is_refused_at_send_time(settings, receiver, sending):
    answers = iter([[ipaddress.ip_address("93.184.216.34")], [ipaddress.ip_address("127.0.0.1")]])
    resolver = lambda host, port: next(answers)  # noqa: E731 - the name's DNS answers, first then later
    url = receiver.url("/ok", host="rebinding.example", scheme="http")
    check_target(url, allowing(settings, http=True), resolver=resolver)
    with sending(allowing(settings, http=True), resolver=resolver) as client, pytest.raises(TargetRefused):
        client.post(url, content=b"{}")
    assert receiver.paths == []


def test_the_connection_goes_to_the_vetted_address_with_the_name_as_host(settings, receiver, sending):
    # receiver.test is in no DNS: the request can only arrive through the address the resolver gave.
    looked_up = []

    def resolver(host, port):
        looked_up.append((host, port))
        return [ipaddress.ip_address("127.0.0.1")]

    with sending(allowing(settings, http=True, private=True), resolver=resolver) as client:
        answer = client.post(receiver.url("/ok", host="receiver.test"), content=b"{}")
    assert answer.status_code == 200
    assert looked_up == [("receiver.test", receiver.port)]  # one resolution, checked and used
    assert receiver.hosts == [f"receiver.test:{receiver.port}"]


def test_a_redirect_is_not_followed(settings, receiver, sending):
    with sending(allowing(settings, http=True, private=True)) as client:
        answer = client.post(receiver.url("/redirect"), content=b"{}")
    assert answer.status_code == 302
    assert receiver.paths == ["/redirect"]


def test_a_huge_answer_is_cut_at_the_cap(settings, receiver, sending):
    started = time.monotonic()
    with sending(allowing(settings, http=True, private=True)) as client:
        answer = client.post(receiver.url("/huge"), content=b"{}")
    assert answer.status_code == 200
    assert len(answer.content) == BODY_CAP
    assert time.monotonic() - started < 5


def test_proxy_settings_in_the_environment_are_not_used(settings, receiver, monkeypatch, sending):
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")  # nothing listens there
    with sending(allowing(settings, http=True, private=True)) as client:
        assert client.post(receiver.url("/ok"), content=b"{}").status_code == 200


def test_tls_verifies_the_certificate_against_the_name_and_sends_it_as_sni(settings, certificate, sending):
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cafile=cert)
    with running(server_tls) as server, sending(allowing(settings, private=True), verify=trusting) as client:
        answer = client.post(server.url("/ok", host="localhost", scheme="https"), content=b"{}")
        assert answer.status_code == 200
        assert server.server_names[-1] == "localhost"
        assert server.hosts == [f"localhost:{server.port}"]
        # The certificate names localhost, not 127.0.0.1: the name is what is verified.
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED|IP address mismatch"):
            client.post(server.url("/ok", host="127.0.0.1", scheme="https"), content=b"{}")


def test_a_receiver_that_never_answers_is_given_up_after_the_read_timeout(settings, sending):
    quick = dataclasses.replace(allowing(settings, http=True, private=True), hooks_read_timeout=0.5)
    with socket.socket() as silent:  # accepts the connection (backlog), then never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        started = time.monotonic()
        with sending(quick) as client, pytest.raises(httpx.ReadTimeout):
            client.post(f"http://127.0.0.1:{silent.getsockname()[1]}/hook", content=b"{}")
    assert time.monotonic() - started < 3
