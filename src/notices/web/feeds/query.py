"""Feed and page filters from the query string; unknown values are a 400 that lists the valid ones."""

from __future__ import annotations

from starlette.datastructures import QueryParams

from notices.core.config import SEVERITIES, Settings
from notices.notice.lifecycle import SEVERITY_RANK, Filters


class BadFilter(ValueError):
    pass


def _values(params: QueryParams, name: str) -> list[str]:
    # Both ?category=a&category=b and ?category=a,b work.
    return [part.strip().lower() for raw in params.getlist(name) for part in raw.split(",") if part.strip()]


def _check(values: list[str], valid, name: str) -> frozenset[str]:
    unknown = [value for value in values if value not in valid]
    if unknown:
        raise BadFilter(f"unknown {name} {unknown[0]!r}; valid values are: {', '.join(valid)}")
    return frozenset(values)


def filters_from_query(params: QueryParams, settings: Settings) -> Filters:
    severities = _check(_values(params, "severity"), SEVERITIES, "severity")
    return Filters(
        categories=_check(_values(params, "category"), settings.categories, "category"),
        locations=_check(_values(params, "location"), settings.locations, "location"),
        # Several minimum severities: the lowest is the one that admits the most.
        min_severity=min(severities, key=SEVERITY_RANK.__getitem__) if severities else None,
        language=_language(params, settings),
    )


def _language(params: QueryParams, settings: Settings) -> str | None:
    """`?lang=nl`: the notice text in that language (a missing translation falls back, marked)."""
    values = _values(params, "lang")
    if not values:
        return None
    if len(values) > 1 or values[0] not in settings.languages:
        raise BadFilter(f"unknown lang {','.join(values)!r}; valid values are: {', '.join(settings.languages)}")
    return values[0]


def canonical_query(filters: Filters) -> str:
    """One spelling per filter set, for cache keys and self links."""
    parts = [f"category={value}" for value in sorted(filters.categories)]
    parts += [f"location={value}" for value in sorted(filters.locations)]
    if filters.min_severity:
        parts.append(f"severity={filters.min_severity}")
    if filters.language:
        parts.append(f"lang={filters.language}")
    return "&".join(parts)
