"""Skipping dates of a series, the one way the API, the CLI and the console do it: a date names
the occurrence the rule puts on it (moved or not), a date already cancelled keeps its reason, and
an edited skip list reinstates only the dates its editor removed."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from notices.core.errors import InvalidField
from notices.notice import recurrence, series
from notices.notice.validation import NoticeFields, parse_new_notice

ZONE = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 28, 9, tzinfo=UTC)
# Tuesdays 07:00–09:00 local from 1 December 2026, five times.
FIRST, SECOND, THIRD, FOURTH = "20261201T060000Z", "20261208T060000Z", "20261215T060000Z", "20261222T060000Z"


@pytest.fixture
def tuesdays(settings) -> NoticeFields:
    raw = {
        "title": "Market closure",
        "category": "road-closure",
        "severity": "major",
        "starts_at": "2026-12-01T07:00",
        "recurrence": "FREQ=WEEKLY;BYDAY=TU;COUNT=5",
        "occurrence_minutes": 120,
    }
    return parse_new_notice(raw, settings=settings, now=NOW)


def cancelled(fields: NoticeFields) -> dict[str, str]:
    return {key: change["reason"] for key, change in fields.occurrence_changes.items() if change.get("cancelled")}


def test_a_date_already_cancelled_keeps_its_reason(tuesdays):
    fields = series.cancel_occurrence(tuesdays, SECOND, reason="Fair on the square", now=NOW)
    skipped = series.skip(fields, ["2026-12-08", "2026-12-15"], zone=ZONE)
    assert cancelled(skipped) == {SECOND: "Fair on the square", THIRD: ""}


def test_a_moved_occurrence_is_skipped_by_the_date_it_was_moved_from(tuesdays):
    moved = series.move_occurrence(
        tuesdays,
        THIRD,
        starts_at=datetime(2026, 12, 17, 7, tzinfo=ZONE).astimezone(UTC),
        ends_at=None,
        now=NOW,
    )
    assert cancelled(series.skip(moved, ["2026-12-15"], zone=ZONE)) == {THIRD: ""}
    with pytest.raises(InvalidField, match="no occurrence on 2026-12-17") as error:
        series.skip(moved, ["2026-12-17"], zone=ZONE, field="repeat_skip")
    assert error.value.field == "repeat_skip"


def test_an_edited_skip_list_keeps_a_cancellation_its_editor_never_saw(tuesdays):
    # The form was opened with 22 December skipped; meanwhile the API cancelled 8 December.
    opened = series.skip(tuesdays, ["2026-12-22"], zone=ZONE)
    meanwhile = series.cancel_occurrence(opened, SECOND, reason="Fair on the square", now=NOW)
    saved = series.edit_skipped(
        meanwhile, listed=["2026-12-22", "2026-12-15"], shown=["2026-12-22"], zone=ZONE, field="repeat_skip"
    )
    assert cancelled(saved) == {SECOND: "Fair on the square", THIRD: "", FOURTH: ""}


def test_removing_a_date_reinstates_that_occurrence_only(tuesdays):
    fields = series.cancel_occurrence(tuesdays, SECOND, reason="Fair on the square", now=NOW)
    fields = series.skip(fields, ["2026-12-22"], zone=ZONE)
    shown = ["2026-12-08", "2026-12-22"]
    saved = series.edit_skipped(fields, listed=["2026-12-08"], shown=shown, zone=ZONE, field="repeat_skip")
    assert cancelled(saved) == {SECOND: "Fair on the square"}
    assert FOURTH in [o.id for o in recurrence.occurrences(saved)]
    # Removing the API's date deliberately reinstates it too.
    saved = series.edit_skipped(fields, listed=[], shown=shown, zone=ZONE, field="repeat_skip")
    assert cancelled(saved) == {}
    assert saved.ends_at == datetime(2026, 12, 29, 9, tzinfo=ZONE).astimezone(UTC)


def test_an_edited_skip_list_names_its_field(tuesdays):
    with pytest.raises(InvalidField) as error:
        series.edit_skipped(tuesdays, listed=["2026-12-09"], shown=[], zone=ZONE, field="repeat_skip")
    assert error.value.field == "repeat_skip"
    every = ["2026-12-01", "2026-12-08", "2026-12-15", "2026-12-22", "2026-12-29"]
    with pytest.raises(InvalidField, match="never happen"):
        series.edit_skipped(tuesdays, listed=every, shown=[], zone=ZONE, field="repeat_skip")


def test_a_cancellation_the_new_rule_has_no_occurrence_for_is_dropped(tuesdays):
    fields = series.cancel_occurrence(tuesdays, FOURTH, reason="Fair on the square", now=NOW)
    shorter = dataclasses.replace(fields, recurrence="FREQ=WEEKLY;BYDAY=TU;COUNT=3")
    saved = series.edit_skipped(shorter, listed=[], shown=[], zone=ZONE, field="repeat_skip")
    assert saved.occurrence_changes == {}
    assert saved.ends_at == datetime(2026, 12, 15, 9, tzinfo=ZONE).astimezone(UTC)
