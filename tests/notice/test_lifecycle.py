"""Status, boundaries and visibility as pure functions of the times and `now`."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from notices.notice.lifecycle import Filters, Status, status_at, visible

T0 = datetime(2026, 11, 14, 15, 0, tzinfo=UTC)  # Fri 14 Nov 16:00 in Amsterdam


@dataclass
class N:
    starts_at: datetime = T0
    ends_at: datetime | None = T0 + timedelta(days=7)
    publish_at: datetime | None = T0 - timedelta(days=1)
    cancelled_at: datetime | None = None
    category: str = "road-closure"
    severity: str = "major"
    locations: list[str] = field(default_factory=lambda: ["plesmanlaan"])
    uid: str = "n"


def test_active_from_exactly_the_start_instant():
    notice = N()
    assert status_at(notice, T0 - timedelta(microseconds=1)) is Status.UPCOMING
    assert status_at(notice, T0) is Status.ACTIVE


def test_ended_at_exactly_the_end_instant():
    notice = N()
    end = notice.ends_at
    assert status_at(notice, end - timedelta(microseconds=1)) is Status.ACTIVE
    assert status_at(notice, end) is Status.ENDED


def test_scheduled_until_announced():
    notice = N(publish_at=T0 - timedelta(hours=2))
    assert status_at(notice, T0 - timedelta(hours=3)) is Status.SCHEDULED
    assert status_at(notice, T0 - timedelta(hours=2)) is Status.UPCOMING


def test_draft_and_cancelled_win_over_times():
    assert status_at(N(publish_at=None), T0) is Status.DRAFT
    assert status_at(N(cancelled_at=T0 - timedelta(hours=1)), T0) is Status.CANCELLED


def test_without_an_end_a_notice_never_expires():
    notice = N(ends_at=None)
    assert status_at(notice, T0 + timedelta(days=3650)) is Status.ACTIVE


def test_boundaries_across_the_spring_dst_change():
    # Starts Sun 29 March 2026 01:30 local (00:30 UTC), ends 03:30 local (01:30 UTC):
    # one hour long, although the wall clock says two.
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    notice = N(starts_at=start, ends_at=start + timedelta(hours=1), publish_at=start - timedelta(days=1))
    assert status_at(notice, datetime(2026, 3, 29, 1, 29, 59, tzinfo=UTC)) is Status.ACTIVE
    assert status_at(notice, datetime(2026, 3, 29, 1, 30, tzinfo=UTC)) is Status.ENDED


def test_visible_is_upcoming_and_active_soonest_first():
    early, late = N(uid="a", starts_at=T0), N(uid="b", starts_at=T0 + timedelta(hours=1))
    ended = N(uid="c", starts_at=T0 - timedelta(days=9), ends_at=T0 - timedelta(days=8))
    scheduled = N(uid="d", publish_at=T0 + timedelta(days=1), starts_at=T0 + timedelta(days=2), ends_at=None)
    assert [n.uid for n in visible([late, ended, scheduled, early], T0)] == ["a", "b"]


def test_filters_take_several_values_and_a_minimum_severity():
    road = N(uid="road", category="road-closure", severity="major", locations=["plesmanlaan"])
    power = N(uid="power", category="utilities", severity="critical", locations=["gorlaeus"])
    event = N(uid="event", category="event", severity="info", locations=["de-limes", "plesmanlaan"])
    notices = [road, power, event]
    uids = lambda filters: {n.uid for n in visible(notices, T0, filters)}  # noqa: E731
    assert uids(Filters(categories=frozenset({"road-closure", "utilities"}))) == {"road", "power"}
    assert uids(Filters(locations=frozenset({"plesmanlaan"}))) == {"road", "event"}
    assert uids(Filters(min_severity="major")) == {"road", "power"}
    assert uids(Filters(locations=frozenset({"plesmanlaan"}), min_severity="minor")) == {"road"}
