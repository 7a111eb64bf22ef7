"""Cancelling one occurrence of a series from the console: a small form per coming occurrence
on the notice's page (templates/admin/_occurrences.html). The operation is the API's and the
CLI's (notice.series_changes): a schedule change, held for approval where it applies; a refusal
shows the notice page again with the reason, and nothing is written."""

from __future__ import annotations

from datetime import datetime
from itertools import islice

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from notices.core.errors import Conflict, InvalidField
from notices.hooks import enqueue as hook_queue
from notices.mail import staff
from notices.notice import recurrence, series, series_changes
from notices.notice.recurrence import Occurrence
from notices.people.roles import Actor
from notices.web.console.notices import _load, error_page
from notices.web.deps import CsrfForm, Ctx, CurrentWriter, Now, ReadSession, Settings, WriteSession

router = APIRouter(prefix="/admin", tags=["console"], include_in_schema=False)
# How many coming occurrences the notice page offers to cancel.
SHOWN = 10


def coming(notice: recurrence.Recurring, now: datetime) -> list[Occurrence]:
    """The occurrence under way and the next ones, for the notice page."""
    return list(islice(recurrence.occurrences(notice, after=now), SHOWN))


@router.post("/notices/{uid}/occurrences/{occurrence_id}/cancel", response_class=HTMLResponse)
def cancel_occurrence(
    request: Request,
    uid: str,
    occurrence_id: str,
    user: CurrentWriter,
    form: CsrfForm,
    ctx: Ctx,
    writing: WriteSession,
    reading: ReadSession,
    settings: Settings,
    now: Now,
) -> Response:
    reason = str(form.get("reason", "")).strip()
    waiting = None
    try:
        if not reason:
            raise InvalidField("reason", "tell readers why this occurrence is cancelled")
        with writing.begin():
            notice = _load(writing, uid, for_update=True)
            waiting = series_changes.cancel_occurrence(
                writing,
                notice,
                occurrence_id,
                reason=reason,
                actor=Actor.of(user, "console"),
                settings=settings,
                now=now,
            )
            hook_queue.enqueue_new_events(writing, settings=settings, now=now)
    except (InvalidField, Conflict, series.OccurrenceNotFound) as error:  # nothing was written
        return error_page(request, _load(reading, uid), error, settings, now)
    staff.notify(ctx, waiting, now=now)
    return RedirectResponse(f"/admin/notices/{uid}?saved=1", status_code=303)
