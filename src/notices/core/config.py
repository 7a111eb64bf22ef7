"""Settings: config/notices.toml overridden by NOTICES_* environment variables.

Built once by an entry point (the CLI, create_app) and passed down; nothing
reads the environment at import time.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from notices.core.errors import NoticesError
from notices.core.resources import default_config_path
from notices.core.safe_text import strip_unsafe
from notices.core.shapes import Bounds, ShapeError, check_geometry, representative_point

SEVERITIES = ("info", "minor", "major", "critical")
_KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
# Leiden Bio Science Park, the LUMC and Leiden Centraal.
DEFAULT_BOUNDS: Bounds = (4.44, 52.14, 4.51, 52.18)


class ConfigError(NoticesError):
    """A configuration value is invalid; the message names the key."""


@dataclass(frozen=True)
class Settings:
    site_name: str
    base_url: str
    timezone: ZoneInfo
    # The default language: the first of `languages`.
    language: str
    database_url: str
    smtp_url: str
    mail_dir: Path
    mail_from: str
    mail_from_name: str
    alert_validity: timedelta
    digest_validity: timedelta
    skip_empty_digests: bool
    reminder_leads: tuple[timedelta, ...]
    send_batch_size: int
    # SMTP connections a send run keeps open side by side (each its own sender thread).
    smtp_connections: int
    lease_seconds: int
    max_attempts: int
    send_interval_seconds: float
    confirm_within: timedelta
    signup_limit_per_address: int
    signup_limit_per_ip: int
    secret_key: str
    feed_max_age: int
    feed_change_check_seconds: float
    feed_export_dir: Path | None
    # The event feed: an entry for each occurrence of a series as it starts (off: only the
    # series' own events, published, rescheduled, cancelled...; a daily series would flood it).
    feed_occurrence_events: bool
    safety_tick_seconds: float
    change_poll_seconds: float
    misfire_grace_seconds: int
    leader_poll_seconds: float
    # Core work failing this many runs in a row makes a leader give up its lead.
    scheduler_max_failures: int
    # The longest wait before a leader that gave up (or could not start) competes again.
    scheduler_retry_max_seconds: float
    # /healthz calls the scheduler stale when its last completed run is older than this.
    scheduler_stale_after_seconds: float
    log_format: str
    daily_digest_at: str
    weekly_digest_at: str
    # Notice times outside [earliest, latest) are refused at input (typos like 9999).
    earliest: datetime = datetime(1970, 1, 1, tzinfo=UTC)
    latest: datetime = datetime(2100, 1, 1, tzinfo=UTC)
    # [site] languages: those notices and outputs come in, the default first (a notice needs its
    # text in the default language; the others fall back to it).
    languages: tuple[str, ...] = ("en", "nl")
    categories: dict[str, str] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)
    # Labels in other languages: {"categories": {"nl": {"road-closure": "Wegafsluiting"}}, ...}
    translations: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    # Where secret_key came from: "settings" (NOTICES_SECRET_KEY or the file) or "database".
    secret_key_source: str = "settings"
    # [web]: proxies whose X-Forwarded-For/-Proto are believed (addresses or CIDR networks).
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    # [locations]: the GeoJSON geometry (RFC 7946, canonical form) of each location that has one.
    location_geometries: dict[str, dict[str, Any]] = field(default_factory=dict)
    # [map]: background tiles ("" = none, outlines only), their attribution (HTML, from the
    # operator), and the site's extent (west, south, east, north): maps open on it, and shapes
    # far outside it are refused as typos.
    map_tile_url: str = DEFAULT_TILE_URL
    map_attribution: str = DEFAULT_ATTRIBUTION
    map_bounds: Bounds = DEFAULT_BOUNDS
    # [hooks]: outbound integrations (notices.hooks).
    hooks_allow_http: bool = False
    hooks_allow_private_networks: bool = False
    # A delivery not made within this long after its event expires instead of going out stale.
    hooks_validity: timedelta = timedelta(hours=24)
    # An endpoint whose deliveries have failed for this long without one success is disabled.
    hooks_disable_after: timedelta = timedelta(hours=72)
    # After `hook rotate`, the old secret keeps signing beside the new one for this long.
    hooks_secret_overlap: timedelta = timedelta(hours=24)
    hooks_connect_timeout: float = 3.0
    hooks_read_timeout: float = 5.0
    # Requests in flight at once (one slow endpoint must not hold up the others).
    hooks_concurrency: int = 8
    # How often the scheduler sends what is due (retries); new events go out at once.
    hooks_send_interval_seconds: float = 5.0
    # [editorial] approval_for: severities whose publication (and changes to times, severity or
    # geometry) wait for a second person (notices.notice.approval); empty: none do.
    approval_for: tuple[str, ...] = ("critical", "major")
    # [attachments]: where uploaded files are kept, a directory or "s3://bucket/prefix"
    # (notices.notice.attachments.blobstore), and the largest file accepted, in bytes.
    attachments_store: str = "var/attachments"
    attachments_max_bytes: int = 10 * 1024 * 1024
    # For an s3:// store: another endpoint than AWS's (MinIO, Ceph, Garage...; "" = boto3's
    # default, which AWS_ENDPOINT_URL also sets) and the region. Credentials come from the usual
    # AWS variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or files, never from this file.
    attachments_s3_endpoint_url: str = ""
    attachments_s3_region: str = ""

    def label(self, kind: str, key: str, language: str) -> str:
        """A category's or location's label in `language`, else in the site language."""
        translated = self.translations.get(kind, {}).get(language, {}).get(key)
        return translated or getattr(self, kind).get(key, key)

    @functools.cached_property
    def location_points(self) -> dict[str, tuple[float, float]]:
        """A point on each location's shape, (longitude, latitude): its pin in a calendar (GEO).
        Found once per settings: most notices name a location rather than draw a shape, and
        finding a point on a shape cost a tenth of a calendar's render."""
        return {key: representative_point(geometry) for key, geometry in self.location_geometries.items()}

    @property
    def timezone_name(self) -> str:
        return self.timezone.key

    def absolute_url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")


# Environment variable -> (section, key) of the TOML file.
_ENV_OVERRIDES = {
    "NOTICES_SITE_NAME": ("site", "name"),
    "NOTICES_BASE_URL": ("site", "base_url"),
    "NOTICES_TIMEZONE": ("site", "timezone"),
    "NOTICES_LANGUAGE": ("site", "language"),
    "NOTICES_DATABASE_URL": ("database", "url"),
    "NOTICES_SMTP_URL": ("mail", "smtp_url"),
    "NOTICES_MAIL_DIR": ("mail", "mail_dir"),
    "NOTICES_MAIL_FROM": ("mail", "from_address"),
    "NOTICES_SECRET_KEY": ("security", "secret_key"),
    "NOTICES_FEED_MAX_AGE": ("feeds", "max_age"),
    "NOTICES_FEED_EXPORT_DIR": ("feeds", "export_dir"),
    "NOTICES_LOG_FORMAT": ("logging", "format"),
    "NOTICES_TRUSTED_PROXIES": ("web", "trusted_proxies"),
    "NOTICES_MAP_TILE_URL": ("map", "tile_url"),
    "NOTICES_MAP_ATTRIBUTION": ("map", "attribution"),
    "NOTICES_ATTACHMENTS_STORE": ("attachments", "store"),
    "NOTICES_ATTACHMENTS_MAX_BYTES": ("attachments", "max_bytes"),
    "NOTICES_ATTACHMENTS_S3_ENDPOINT_URL": ("attachments", "s3_endpoint_url"),
}
# Secrets may come from files (Docker/Kubernetes secrets) instead.
_SECRET_VARIABLES = ("NOTICES_DATABASE_URL", "NOTICES_SMTP_URL", "NOTICES_SECRET_KEY")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file named by NOTICES_CONFIG (or the default) and apply overrides."""
    environ = os.environ if environ is None else environ
    path = Path(environ["NOTICES_CONFIG"]) if environ.get("NOTICES_CONFIG") else default_config_path()
    raw = _read_toml(path)
    for variable, (section, key) in _ENV_OVERRIDES.items():
        value = _env_value(environ, variable)
        if value is not None:
            raw.setdefault(section, {})[key] = value
    return _build(raw)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"NOTICES_CONFIG: file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None


def _env_value(environ: Mapping[str, str], variable: str) -> str | None:
    file_variable = variable + "_FILE"
    if variable in _SECRET_VARIABLES and environ.get(file_variable):
        try:
            return Path(environ[file_variable]).read_text().strip()
        except OSError as error:
            raise ConfigError(f"{file_variable}: cannot read {environ[file_variable]} ({error.strerror})") from None
    return environ.get(variable)


def _get(raw: dict[str, Any], section: str, key: str, default: object = None) -> object:
    value = raw.get(section, {}).get(key, default)
    if value is None:
        raise ConfigError(f"{section}.{key}: missing")
    return value


def _string(raw: dict[str, Any], section: str, key: str, default: str | None = None) -> str:
    value = _get(raw, section, key, default)
    if not isinstance(value, str):
        raise ConfigError(f"{section}.{key}: must be a string, got {value!r}")
    return value


# What strip_unsafe keeps that a one-line name must not hold: tabs and line breaks (the other
# characters str.splitlines breaks at are controls, which it removes).
_LINE_BREAKS_AND_TABS = frozenset("\t\n\r\u2028\u2029")


def _one_line(raw: dict[str, Any], section: str, key: str, default: str, *, may_be_empty: bool = False) -> str:
    """A name shown in titles and headers (the site's name, a sender's name): text on one line.
    A line break in it breaks a calendar's header line (X-WR-CALNAME) and a mail header; a control
    or bidi character is what output filters remove from any text anyway."""
    value = _string(raw, section, key, default).strip()
    variables = [variable for variable, place in _ENV_OVERRIDES.items() if place == (section, key)]
    named = f"{section}.{key}" + (f" ({variables[0]})" if variables else "")
    if not value and not may_be_empty:
        raise ConfigError(f"{named}: must not be empty")
    if strip_unsafe(value) != value or not _LINE_BREAKS_AND_TABS.isdisjoint(value):
        raise ConfigError(f"{named}: must be one line of text, without line breaks or control characters")
    return value


def _number(raw: dict[str, Any], section: str, key: str, default: float, *, minimum: float) -> float:
    value = _get(raw, section, key, default)
    try:
        if not isinstance(value, int | float | str):  # what float() takes (bool is an int)
            raise TypeError(value)
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{section}.{key}: must be a number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{section}.{key}: must be at least {minimum:g}, got {value!r}")
    return number


# More parallel connections than this is a load a mail server is likely to refuse (or to take
# for a spammer's): the relay, not this service, is then the bottleneck.
MAX_SMTP_CONNECTIONS = 16


def _connections(raw: dict[str, Any]) -> int:
    number = _number(raw, "mail", "connections", 1, minimum=1)
    if number != int(number) or number > MAX_SMTP_CONNECTIONS:
        raise ConfigError(f"mail.connections: must be a whole number from 1 to {MAX_SMTP_CONNECTIONS}, got {number:g}")
    return int(number)


def _timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"site.timezone (NOTICES_TIMEZONE): unknown time zone {name!r}") from None


def _base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"site.base_url (NOTICES_BASE_URL): must be an http(s) URL, got {url!r}")
    return url.rstrip("/")


def _database_url(url: str) -> str:
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", url):
        raise ConfigError(
            "database.url (NOTICES_DATABASE_URL): must start with sqlite:// or postgresql+psycopg://, "
            f"got {url.split('://')[0]!r}"
        )
    return url


def _smtp_url(url: str) -> str:
    if url and urlsplit(url).scheme not in ("smtp", "smtps"):
        raise ConfigError("mail.smtp_url (NOTICES_SMTP_URL): must start with smtp:// or smtps://")
    return url


def _keyed_labels(
    raw: dict[str, Any], section: str, site_language: str
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """`key = "Label"`, or `key = { en = "Road closure", nl = "Wegafsluiting" }` per language."""
    table = raw.get(section)
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{section}: at least one entry is needed")
    labels: dict[str, str] = {}
    translations: dict[str, dict[str, str]] = {}
    for key, label in table.items():
        if not _KEY_PATTERN.match(key):
            raise ConfigError(f"{section}.{key}: keys use lower-case letters, digits and '-'")
        if isinstance(label, dict):
            unknown = set(label) - set(LANGUAGES)
            if unknown or not label or not all(isinstance(text, str) and text.strip() for text in label.values()):
                raise ConfigError(f'{section}.{key}: give labels as {{ en = "...", nl = "..." }}')
            for language, text in label.items():
                translations.setdefault(language, {})[key] = text
            labels[key] = label.get(site_language) or label.get("en") or next(iter(label.values()))
        elif isinstance(label, str) and label.strip():
            labels[key] = label
        else:
            raise ConfigError(f"{section}.{key}: the label must be a non-empty string")
    return labels, translations


def _digest_time(raw: dict[str, Any], key: str, default: str, *, weekly: bool) -> str:
    value = _string(raw, "digests", key, default).strip().lower()
    parts = value.split()
    if weekly:
        if len(parts) != 2 or parts[0] not in _WEEKDAYS or not _TIME_OF_DAY.match(parts[1]):
            raise ConfigError(f"digests.{key}: expected a weekday and a time like 'mon 07:00', got {value!r}")
    elif len(parts) != 1 or not _TIME_OF_DAY.match(value):
        raise ConfigError(f"digests.{key}: expected a time like '07:00', got {value!r}")
    return value


_DURATION = re.compile(r"^(\d+)\s*([mhd])$")
_EMAIL = re.compile(r"^[^@\s<>\",;]+@[^@\s<>\",;]+\.[^@\s<>\",;]+$")


def _durations(raw: dict[str, Any], section: str, key: str, default: list[str]) -> tuple[timedelta, ...]:
    values = _get(raw, section, key, default)
    if not isinstance(values, list):
        raise ConfigError(f'{section}.{key}: must be a list like ["1d", "2h"]')
    leads = []
    for value in values:
        match = _DURATION.match(str(value).strip().lower())
        if not match:
            raise ConfigError(f"{section}.{key}: {value!r} is not a duration like '30m', '2h' or '1d'")
        unit = {"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
        leads.append(timedelta(**{unit: int(match.group(1))}))
    return tuple(sorted(set(leads), reverse=True))


def _boolean(raw: dict[str, Any], section: str, key: str, default: bool) -> bool:
    value = _get(raw, section, key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise ConfigError(f"{section}.{key}: must be true or false, got {value!r}")


def _email_address(value: str) -> str:
    if not _EMAIL.match(value):
        raise ConfigError(f"mail.from_address (NOTICES_MAIL_FROM): not an email address: {value!r}")
    return value


def _choice_of(raw: dict[str, Any], section: str, key: str, default: str, choices: tuple[str, ...]) -> str:
    value = _string(raw, section, key, default).strip().lower()
    if value not in choices:
        raise ConfigError(f"{section}.{key}: must be one of {', '.join(choices)}, got {value!r}")
    return value


# The languages the service can speak (it has interface texts for them); `[site] languages` picks from these.
LANGUAGES = ("en", "nl")


def _languages(raw: dict[str, Any]) -> tuple[str, ...]:
    """`[site] languages = ["en", "nl"]`, the default first; `[site] language = "nl"` (or
    NOTICES_LANGUAGE) moves that one to the front, making it the default."""
    site = raw.get("site", {})
    single = site.get("language")
    listed = site.get("languages")
    if listed is None:
        default = str(single if single is not None else LANGUAGES[0]).strip()
        if default not in LANGUAGES:
            raise ConfigError(f"site.language: must be one of {', '.join(LANGUAGES)}, got {default!r}")
        return (default, *(language for language in LANGUAGES if language != default))
    if not isinstance(listed, list) or not listed or not all(isinstance(item, str) for item in listed):
        raise ConfigError(f'site.languages: expected a non-empty list such as ["en", "nl"], got {listed!r}')
    languages = tuple(item.strip() for item in listed)
    unknown = [language for language in languages if language not in LANGUAGES]
    if unknown:
        raise ConfigError(f"site.languages: unknown {unknown[0]!r}; this version speaks {', '.join(LANGUAGES)}")
    if len(set(languages)) != len(languages):
        raise ConfigError(f"site.languages: {list(languages)!r} names a language twice")
    if single is None:
        return languages
    # `language` (NOTICES_LANGUAGE) picks the default among the listed ones.
    default = str(single).strip()
    if default not in languages:
        raise ConfigError(f"site.language: {default!r} is not one of site.languages {list(languages)!r}")
    return (default, *(language for language in languages if language != default))


def _date(raw: dict[str, Any], section: str, key: str, default: str) -> datetime:
    value = _get(raw, section, key, default)
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(f"{section}.{key}: expected a date like {default!r}, got {value!r}") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _time_window(raw: dict[str, Any]) -> tuple[datetime, datetime]:
    earliest = _date(raw, "notices", "earliest", "1970-01-01")
    latest = _date(raw, "notices", "latest", "2100-01-01")
    if latest <= earliest:
        raise ConfigError("notices.latest: must be after notices.earliest")
    return earliest, latest


def _trusted_proxies(raw: dict[str, Any]) -> tuple[str, ...]:
    """`[web] trusted_proxies`: a list, or a comma-separated string (NOTICES_TRUSTED_PROXIES)."""
    value = _get(raw, "web", "trusted_proxies", ["127.0.0.1", "::1"])
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ConfigError(
            'web.trusted_proxies (NOTICES_TRUSTED_PROXIES): must be a list like ["10.0.0.5", "172.30.0.0/24"]'
        )
    proxies = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            # strict=False would silently widen "10.0.0.5/24" to the whole network: refuse it instead.
            proxy = ipaddress.ip_network(text, strict=True) if "/" in text else ipaddress.ip_address(text)
        except ValueError:
            raise ConfigError(
                f"web.trusted_proxies (NOTICES_TRUSTED_PROXIES): {text!r} is not an IP address or "
                "network (e.g. 10.0.0.5 or 172.30.0.0/24)"
            ) from None
        proxies.append(str(proxy))
    return tuple(proxies)


def _map_bounds(raw: dict[str, Any]) -> Bounds:
    value = _get(raw, "map", "bounds", list(DEFAULT_BOUNDS))
    problem = "map.bounds: must be [west, south, east, north] in degrees, e.g. [4.44, 52.14, 4.51, 52.18]"
    if not isinstance(value, list) or len(value) != 4:
        raise ConfigError(problem)
    if not all(isinstance(number, int | float) and not isinstance(number, bool) for number in value):
        raise ConfigError(problem)
    west, south, east, north = (float(number) for number in value)
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ConfigError(problem + f"; got {value!r}")
    return west, south, east, north


def _tile_url(raw: dict[str, Any]) -> str:
    url = _string(raw, "map", "tile_url", DEFAULT_TILE_URL).strip()
    if not url:
        return ""
    parts = urlsplit(url.replace("{", "").replace("}", ""))
    if parts.scheme not in ("http", "https") or not parts.netloc or not all(k in url for k in ("{z}", "{x}", "{y}")):
        raise ConfigError(
            "map.tile_url (NOTICES_MAP_TILE_URL): must be an http(s) URL with {z}, {x} and {y}, "
            f"or empty for no background; got {url!r}"
        )
    return url


def _location_geometries(raw: dict[str, Any], bounds: Bounds) -> dict[str, dict[str, Any]]:
    """Take `geometry = {...}` out of each `[locations]` entry (the rest are labels), checked."""
    geometries = {}
    for key, entry in list(raw["locations"].items()):
        if not isinstance(entry, dict) or "geometry" not in entry:
            continue
        entry = dict(entry)
        try:
            geometries[key] = check_geometry(entry.pop("geometry"), bounds=bounds)
        except ShapeError as error:
            where = f".{error.where}" if error.where else ""
            raise ConfigError(f"locations.{key}.geometry{where}: {error.problem}") from None
        raw["locations"][key] = entry
    return geometries


def _build(raw: dict[str, Any]) -> Settings:
    languages = _languages(raw)
    language = languages[0]
    categories, category_translations = _keyed_labels(raw, "categories", language)
    bounds = _map_bounds(raw)
    location_geometries: dict[str, dict[str, Any]] = {}
    if isinstance(raw.get("locations"), dict):
        raw = {**raw, "locations": dict(raw["locations"])}  # the caller's table stays as it was
        location_geometries = _location_geometries(raw, bounds)
    locations, location_translations = _keyed_labels(raw, "locations", language)
    site_name = _one_line(raw, "site", "name", "Notices")
    return Settings(
        site_name=site_name,
        base_url=_base_url(_string(raw, "site", "base_url", "http://127.0.0.1:8000")),
        timezone=_timezone(_string(raw, "site", "timezone", "Europe/Amsterdam")),
        language=language,
        languages=languages,
        database_url=_database_url(_string(raw, "database", "url", "sqlite:///var/notices.db")),
        smtp_url=_smtp_url(_string(raw, "mail", "smtp_url", "")),
        mail_dir=Path(_string(raw, "mail", "mail_dir", "var/mail")),
        mail_from=_email_address(_string(raw, "mail", "from_address", "notices@example.org")),
        mail_from_name=_one_line(raw, "mail", "from_name", "", may_be_empty=True) or site_name,
        alert_validity=timedelta(hours=_number(raw, "mail", "alert_validity_hours", 12, minimum=0.1)),
        digest_validity=timedelta(hours=_number(raw, "mail", "digest_validity_hours", 12, minimum=0.1)),
        skip_empty_digests=_boolean(raw, "mail", "skip_empty_digests", True),
        reminder_leads=_durations(raw, "mail", "reminder_lead_times", ["1d"]),
        send_batch_size=int(_number(raw, "mail", "batch_size", 200, minimum=1)),
        smtp_connections=_connections(raw),
        lease_seconds=int(_number(raw, "mail", "lease_seconds", 300, minimum=5)),
        max_attempts=int(_number(raw, "mail", "max_attempts", 8, minimum=1)),
        send_interval_seconds=_number(raw, "mail", "send_interval_seconds", 15, minimum=0.5),
        confirm_within=timedelta(hours=_number(raw, "subscriptions", "confirm_within_hours", 72, minimum=1)),
        signup_limit_per_address=int(_number(raw, "subscriptions", "limit_per_address", 5, minimum=1)),
        signup_limit_per_ip=int(_number(raw, "subscriptions", "limit_per_ip", 30, minimum=1)),
        # Empty: the key that `notices db upgrade` stored in the database is used
        # (see context.with_stored_secret_key), never one made up per process.
        secret_key=_string(raw, "security", "secret_key", ""),
        feed_max_age=int(_number(raw, "feeds", "max_age", 300, minimum=0)),
        feed_change_check_seconds=_number(raw, "feeds", "change_check_seconds", 1, minimum=0),
        feed_export_dir=Path(export_dir) if (export_dir := _string(raw, "feeds", "export_dir", "")) else None,
        feed_occurrence_events=_boolean(raw, "feeds", "occurrence_events", False),
        safety_tick_seconds=_number(raw, "scheduler", "safety_tick_seconds", 60, minimum=1),
        change_poll_seconds=_number(raw, "scheduler", "change_poll_seconds", 1, minimum=0.1),
        misfire_grace_seconds=int(_number(raw, "scheduler", "misfire_grace_seconds", 300, minimum=1)),
        leader_poll_seconds=_number(raw, "scheduler", "leader_poll_seconds", 5, minimum=0.2),
        scheduler_max_failures=int(_number(raw, "scheduler", "max_failures", 3, minimum=1)),
        scheduler_retry_max_seconds=_number(raw, "scheduler", "retry_max_seconds", 300, minimum=1),
        scheduler_stale_after_seconds=(
            _number(raw, "scheduler", "stale_after_seconds", 0, minimum=0)
            or 3 * _number(raw, "scheduler", "safety_tick_seconds", 60, minimum=1)
        ),
        log_format=_choice_of(raw, "logging", "format", "text", ("text", "json")),
        daily_digest_at=_digest_time(raw, "daily", "07:00", weekly=False),
        weekly_digest_at=_digest_time(raw, "weekly", "mon 07:00", weekly=True),
        earliest=_time_window(raw)[0],
        latest=_time_window(raw)[1],
        categories=categories,
        locations=locations,
        translations={"categories": category_translations, "locations": location_translations},
        trusted_proxies=_trusted_proxies(raw),
        location_geometries=location_geometries,
        map_tile_url=_tile_url(raw),
        map_attribution=_string(raw, "map", "attribution", DEFAULT_ATTRIBUTION),
        map_bounds=bounds,
        hooks_allow_http=_boolean(raw, "hooks", "allow_http", False),
        hooks_allow_private_networks=_boolean(raw, "hooks", "allow_private_networks", False),
        hooks_validity=timedelta(hours=_number(raw, "hooks", "validity_hours", 24, minimum=0.1)),
        hooks_disable_after=timedelta(hours=_number(raw, "hooks", "disable_after_hours", 72, minimum=0.1)),
        hooks_secret_overlap=timedelta(hours=_number(raw, "hooks", "secret_overlap_hours", 24, minimum=0)),
        hooks_connect_timeout=_number(raw, "hooks", "connect_timeout_seconds", 3, minimum=0.1),
        hooks_read_timeout=_number(raw, "hooks", "read_timeout_seconds", 5, minimum=0.1),
        hooks_concurrency=int(_number(raw, "hooks", "concurrency", 8, minimum=1)),
        hooks_send_interval_seconds=_number(raw, "hooks", "send_interval_seconds", 5, minimum=0.5),
        approval_for=_approval_for(raw),
        attachments_store=_attachment_store(raw),
        attachments_max_bytes=_attachment_max_bytes(raw),
        attachments_s3_endpoint_url=_s3_endpoint_url(raw),
        attachments_s3_region=_string(raw, "attachments", "s3_region", "").strip(),
    )


# Above this a single attachment is refused by the configuration itself: the limit is held in
# memory per upload while it is checked and cleaned.
_ATTACHMENT_CEILING = 100 * 1024 * 1024


def _attachment_store(raw: dict[str, Any]) -> str:
    """`[attachments] store`: a directory (relative to the working directory) or s3://bucket/prefix."""
    value = _string(raw, "attachments", "store", "var/attachments").strip()
    problem = (
        f'attachments.store (NOTICES_ATTACHMENTS_STORE): expected a directory or "s3://bucket/prefix", got {value!r}'
    )
    if not value or "\x00" in value:
        raise ConfigError(problem)
    if "://" in value:
        parts = urlsplit(value)
        if parts.scheme != "s3" or not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", parts.netloc):
            raise ConfigError(problem + " (only s3:// URLs, with a valid bucket name)")
        if parts.query or parts.fragment:
            raise ConfigError(problem + " (no query or fragment)")
    return value


def _attachment_max_bytes(raw: dict[str, Any]) -> int:
    number = _number(raw, "attachments", "max_bytes", 10 * 1024 * 1024, minimum=1024)
    if number != int(number) or number > _ATTACHMENT_CEILING:
        raise ConfigError(
            f"attachments.max_bytes (NOTICES_ATTACHMENTS_MAX_BYTES): a whole number of bytes up to "
            f"{_ATTACHMENT_CEILING}, got {number:g}"
        )
    return int(number)


def _s3_endpoint_url(raw: dict[str, Any]) -> str:
    url = _string(raw, "attachments", "s3_endpoint_url", "").strip()
    parts = urlsplit(url)
    if url and (parts.scheme not in ("http", "https") or not parts.netloc):
        raise ConfigError(
            f"attachments.s3_endpoint_url (NOTICES_ATTACHMENTS_S3_ENDPOINT_URL): must be an http(s) URL, got {url!r}"
        )
    return url


def _approval_for(raw: dict[str, Any]) -> tuple[str, ...]:
    """`[editorial] approval_for = ["critical", "major"]`: severities that need a second person."""
    value = _get(raw, "editorial", "approval_for", ["critical", "major"])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f'editorial.approval_for: expected a list such as ["critical", "major"], got {value!r}')
    for item in value:
        if item not in SEVERITIES:
            raise ConfigError(
                f"editorial.approval_for: unknown severity {item!r}; valid values are {', '.join(SEVERITIES)}"
            )
    return tuple(dict.fromkeys(value))
