"""Cancelling one occurrence of a series from the console: a small form per coming occurrence
on the notice's page (templates/admin/_occurrences.html). The operation is the API's and the
CLI's (notice.series_changes): a schedule change, held for approval where it applies; applied or
refused as every small form on that page is (web.console.actions)."""

from __future__ import annotations

from datetime import datetime
from itertools import islice

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from notices.core.errors import InvalidField
from notices.core.i18n import lazy_gettext
from notices.core.models import Notice
from notices.notice import recurrence, series_changes
from notices.notice.approval import Notification
from notices.notice.recurrence import Occurrence
from notices.people.roles import Actor
from notices.web.console.actions import act_on_notice
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

    def change(session: Session, notice: Notice, actor: Actor) -> Notification | None:
        if not reason:
            raise InvalidField("reason", lazy_gettext("tell readers why this occurrence is cancelled"))
        return series_changes.cancel_occurrence(
            session, notice, occurrence_id, reason=reason, actor=actor, settings=settings, now=now
        )

    return act_on_notice(
        request, uid, change, user=user, ctx=ctx, writing=writing, reading=reading, settings=settings, now=now
    )
