"""/metrics in the Prometheus text format: feed traffic of this process, and the shared state
(outbox, jobs, scheduler heartbeat) read from the database at scrape time, so every replica
reports the same numbers for what they share."""

from __future__ import annotations

import math

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from notices.core.context import AppContext
from notices.mail import outbox
from notices.notice import store
from notices.runtime import bookkeeping
from notices.runtime.health import scheduler_health

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _SharedState:
    """Read at every scrape; nothing here is cached in a process."""

    def __init__(self, ctx: AppContext, cache) -> None:
        self.ctx, self.cache = ctx, cache

    def collect(self):
        hits = CounterMetricFamily("notices_feed_cache_hits", "Feed requests answered from cached bytes")
        hits.add_metric([], self.cache.hits)
        yield hits
        renders = CounterMetricFamily("notices_feed_renders", "Feeds rendered (cache misses)")
        renders.add_metric([], self.cache.renders)
        yield renders
        now = self.ctx.clock.now()
        with self.ctx.db.session() as session:
            deliveries = GaugeMetricFamily("notices_deliveries", "Outbox rows by status", labels=["status"])
            for status, count in outbox.status_counts(session).items():
                deliveries.add_metric([status], count)
            yield deliveries
            visible = GaugeMetricFamily("notices_visible_notices", "Upcoming and active notices")
            visible.add_metric([], len(store.visible_notices(session, now)))
            yield visible
            seen = bookkeeping.scheduler_seen_at(session)
            heartbeat = GaugeMetricFamily(
                "notices_scheduler_heartbeat_age_seconds", "Seconds since a scheduler last finished a run (NaN: never)"
            )
            heartbeat.add_metric([], (now - seen).total_seconds() if seen else math.nan)
            yield heartbeat
            health = scheduler_health(session, settings=self.ctx.settings, now=now)
            state = GaugeMetricFamily(
                "notices_scheduler_ok", "1 while a scheduler completes runs on time with no failing job (as /healthz)"
            )
            state.add_metric([], 1 if health.ok else 0)
            yield state
            runs = CounterMetricFamily("notices_job_runs", "Finished runs per scheduled job", labels=["job"])
            failures = CounterMetricFamily("notices_job_failures", "Failed runs per scheduled job", labels=["job"])
            lag = GaugeMetricFamily(
                "notices_job_lag_seconds", "From the planned time of the last run to its end", labels=["job"]
            )
            last_failed = GaugeMetricFamily(
                "notices_job_last_run_failed", "1 if the latest run of the job failed", labels=["job"]
            )
            for run in bookkeeping.job_runs(session):
                runs.add_metric([run.job], run.runs)
                failures.add_metric([run.job], run.failures)
                lag.add_metric([run.job], run.last_lag_seconds)
                last_failed.add_metric([run.job], 1 if run.last_error else 0)
            yield runs
            yield failures
            yield lag
            yield last_failed


class FeedRequestCounts:
    """Feed requests by path and status, read as the counter notices_feed_requests at scrape time.

    The fast path answers tens of thousands of requests a second; a prometheus Counter takes a
    lock at every increment, a plain dict does not. Counts are only added to on the event loop's
    thread (the fast path and the ASGI way both run there) and only grow, so a scrape from
    another thread reads each count whole, at worst one request behind.
    """

    def __init__(self) -> None:
        self.counts: dict[tuple[str, int], int] = {}

    def collect(self):
        family = CounterMetricFamily(
            "notices_feed_requests", "Feed requests by path and response status", labels=["feed", "status"]
        )
        for (path, status), count in list(self.counts.items()):  # copied at once: no size change mid-way
            family.add_metric([path, str(status)], count)
        yield family


class Metrics:
    def __init__(self, ctx: AppContext, cache) -> None:
        # A registry per app (not the global one): tests build many apps in one process.
        self.registry = CollectorRegistry()
        self.feed_requests = FeedRequestCounts()
        self.registry.register(self.feed_requests)
        self.registry.register(_SharedState(ctx, cache))

    def render(self) -> bytes:
        return generate_latest(self.registry)
