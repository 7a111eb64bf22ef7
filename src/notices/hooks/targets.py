"""Where hooks may be sent: public https addresses only, checked at creation and again at every connection.

A manager types the URL, and the server makes the request: without these rules
that is a way to make it call the intranet, the cloud metadata service
(169.254.169.254) or its own admin ports (SSRF). So:
- `check_target(url, settings)` when an endpoint is added or changed: https
  (http only with `[hooks] allow_http`), no credentials in the URL, and the host
  name resolved with every address public (unless `[hooks]
  allow_private_networks`); a name that does not resolve yet is accepted, since
  every send checks again;
- `safe_client(settings)` and `SafePoster(settings)` (what the sender uses) for
  sending: their transport resolves the name when it connects, checks every
  address and connects to one of exactly those, so a name that resolves to a
  public address at creation and to a private one later (DNS rebinding) is
  refused when it matters. TLS still verifies the
  certificate against the name and sends it as SNI, and Host is the name.
  Redirects are not followed, proxies from the environment are not used, and a
  response body is read up to a small cap within a deadline.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from notices.core.config import Settings
from notices.core.errors import InvalidField

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[IPAddress]]

# Enough of an answer for the delivery log; the rest is never read.
BODY_CAP = 4096
MAX_URL_LENGTH = 2048

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_HINT = "hooks go to public addresses only ([hooks] allow_private_networks = true is for local testing)"


class TargetRefused(httpx.RequestError):
    """A send refused before connecting: the scheme or an address the rules forbid. Final, not a network error."""


def forbidden_reason(address: IPAddress) -> str | None:
    """Why no hook may go to `address` ('loopback', 'private', ...), or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = forbidden_reason(embedded)
            return f"{reason}, as IPv6" if reason else None
        if address in _NAT64_LOCAL:
            return "private"
        if address.is_site_local or address in ipaddress.ip_network("fc00::/7"):
            return "private (unique local)"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("shared (carrier-grade NAT)", address in _CGNAT),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    )
    for reason, applies in checks:
        if applies:
            return reason
    # Documentation, benchmarking and the other special-purpose ranges.
    return None if address.is_global else "special-purpose"


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form reaches: mapped (::ffff:a.b.c.d), 6to4, Teredo, NAT64."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (a literal address is itself), in the resolver's order."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        # Strip an IPv6 zone ("fe80::1%eth0"): the address alone decides.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def vetted_addresses(host: str, port: int, settings: Settings, *, resolver: Resolver = resolve) -> list[IPAddress]:
    """The addresses of `host`, all of them allowed; raises TargetRefused naming the first that is not."""
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError) as error:
        raise TargetRefused(f"the host {host} does not resolve ({error})") from None
    if not addresses:
        raise TargetRefused(f"the host {host} does not resolve")
    if not settings.hooks_allow_private_networks:
        for address in addresses:
            reason = forbidden_reason(address)
            if reason:
                shown = str(address) if _is_literal(host) else f"{host} resolves to {address}, which"
                raise TargetRefused(f"{shown} is not a public address ({reason}); {_HINT}")
    return addresses


def check_target(url: str, settings: Settings, *, resolver: Resolver = resolve) -> None:
    """Refuse, as InvalidField('url', ...), a hook URL that could not or may not be called."""
    host, port = _host_and_port(url, settings)
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError):
        # Not resolvable now (a name still to be set up, DNS down): nothing to attack
        # through yet, and every send checks again, so it is accepted; the delivery
        # log and a test send show the failure.
        return
    try:
        vetted_addresses(host, port, settings, resolver=lambda _host, _port: addresses)
    except TargetRefused as error:
        raise InvalidField("url", str(error)) from None


def _host_and_port(url: str, settings: Settings) -> tuple[str, int]:
    if not isinstance(url, str) or not url.strip():
        raise InvalidField("url", "required")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidField("url", f"at most {MAX_URL_LENGTH} characters")
    if any(character.isspace() or ord(character) < 32 or ord(character) == 127 for character in url):
        raise InvalidField("url", "must not contain spaces or control characters")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and settings.hooks_allow_http):
        allowed = "https:// (or http:// with [hooks] allow_http = true)" if scheme == "http" else "https://"
        raise InvalidField("url", f"must start with {allowed}")
    if parts.username is not None or parts.password is not None:
        raise InvalidField("url", "must not contain a user name or password (they would be logged and shown)")
    if not parts.hostname:
        raise InvalidField("url", "has no host name")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
        host = parts.hostname.encode("idna").decode("ascii")
    except (ValueError, UnicodeError) as error:
        raise InvalidField("url", f"not a valid address ({error})") from None
    return host, port


# Sending -------------------------------------------------------------------------------------


class _VettingBackend(httpcore.SyncBackend):
    """Connects to an address of the host only after checking all of them (the one resolution used for both)."""

    def __init__(self, settings: Settings, resolver: Resolver) -> None:
        self.settings = settings
        self.resolver = resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = vetted_addresses(host, port, self.settings, resolver=self.resolver)
        failure: Exception | None = None
        for address in addresses:
            try:
                # A literal address: create_connection does no lookup of its own.
                return super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None
        raise failure


class _CappedStream(httpx.SyncByteStream):
    """At most `cap` bytes of a response body, read before `deadline` (time.monotonic)."""

    def __init__(self, stream: httpx.SyncByteStream, cap: int, deadline: float) -> None:
        self.stream = stream
        self.cap = cap
        self.deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        remaining = self.cap
        for chunk in self.stream:
            yield chunk[:remaining]
            remaining -= min(len(chunk), remaining)
            # A receiver that drips bytes to hold the sender is cut off too.
            if remaining <= 0 or time.monotonic() >= self.deadline:
                break

    def close(self) -> None:
        self.stream.close()


class VettedTransport(httpx.HTTPTransport):
    """httpx's transport with the connection made by _VettingBackend, scheme checks and a capped body."""

    def __init__(
        self,
        settings: Settings,
        *,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits | None = None,
        body_cap: int = BODY_CAP,
        body_seconds: float | None = None,
        resolver: Resolver = resolve,
    ) -> None:
        limits = limits or httpx.Limits(
            max_connections=settings.hooks_concurrency, max_keepalive_connections=settings.hooks_concurrency
        )
        super().__init__(verify=verify, trust_env=False, limits=limits)
        self.settings = settings
        self.body_cap = body_cap
        self.body_seconds = body_seconds if body_seconds is not None else 2 * settings.hooks_read_timeout
        ssl_context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        # httpx has no public way to hand its pool a network backend; the pool it made
        # above is replaced by the same pool with ours (tests/hooks/test_targets.py would
        # see a loopback request go through if this stopped working).
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_VettingBackend(settings, resolver),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        scheme = request.url.scheme
        if scheme != "https" and not (scheme == "http" and self.settings.hooks_allow_http):
            raise TargetRefused(f"{scheme}:// is not allowed for hooks (https only)", request=request)
        try:
            response = super().handle_request(request)
        except TargetRefused as error:
            raise TargetRefused(str(error), request=request) from None
        assert isinstance(response.stream, httpx.SyncByteStream)
        deadline = time.monotonic() + self.body_seconds
        # The same response with its body capped (wrapped in place: a new Response per request costs more).
        response.stream = _CappedStream(response.stream, self.body_cap, deadline)
        return response


# A compressed answer could be a bomb; the cap counts bytes as they come.
_IDENTITY = ("accept-encoding", "identity")


def hook_timeout(settings: Settings) -> httpx.Timeout:
    """The short connect and read timeouts of `[hooks]` (also for writing and for waiting on the pool)."""
    return httpx.Timeout(
        connect=settings.hooks_connect_timeout,
        read=settings.hooks_read_timeout,
        write=settings.hooks_read_timeout,
        pool=settings.hooks_read_timeout,
    )


def safe_client(
    settings: Settings,
    timeout: httpx.Timeout | float | None = None,
    *,
    verify: ssl.SSLContext | bool = True,
    body_cap: int = BODY_CAP,
    resolver: Resolver = resolve,
    headers: Sequence[tuple[str, str]] = (),
) -> httpx.Client:
    """An httpx client that only reaches vetted addresses, never follows redirects and reads bodies up to a cap."""
    transport = VettedTransport(settings, verify=verify, body_cap=body_cap, resolver=resolver)
    return httpx.Client(
        transport=transport,
        timeout=hook_timeout(settings) if timeout is None else timeout,
        follow_redirects=False,
        trust_env=False,
        headers=[_IDENTITY, *headers],
    )


class SafePoster:
    """POSTs to vetted targets through the same transport as safe_client, without the client around it.

    Everything that makes a send safe is in VettedTransport: the address check at
    connection time, the scheme check, the capped body; a transport never follows
    a redirect, and this one reads no proxy settings. What httpx.Client adds on top
    (URL and header merging, cookie jar, auth and redirect flows, event hooks) a
    hook needs none of, and to a fast receiver it costs more CPU than the rest of
    the request: the sender posts every delivery through this instead.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        verify: ssl.SSLContext | bool = True,
        body_cap: int = BODY_CAP,
        resolver: Resolver = resolve,
    ) -> None:
        self.transport = VettedTransport(settings, verify=verify, body_cap=body_cap, resolver=resolver)
        # Without this extension httpcore would wait for ever: the client's timeout is not here to add it.
        self.timeout = hook_timeout(settings).as_dict()

    def post(self, url: str, *, content: bytes, headers: Sequence[tuple[str, str]] = ()) -> httpx.Response:
        """POST `content`; the answer with its body read (up to the cap) and the connection given back."""
        request = httpx.Request(
            "POST", url, content=content, headers=[_IDENTITY, *headers], extensions={"timeout": self.timeout}
        )
        response = self.transport.handle_request(request)
        response.request = request
        try:
            response.read()
        finally:
            response.close()
        return response

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> SafePoster:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
