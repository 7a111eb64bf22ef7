"""The small forms on a console notice page (approval steps, cancelling one occurrence, cancelling
the notice): one way to apply them and one way to refuse them.

The change runs on the locked notice in one transaction with its webhook events; then the staff
who must hear of it are emailed and the browser goes back to the notice page. A refusal (a bad
field, a state that does not allow it, a role that may not, an unknown occurrence) shows the
notice page again with the reason and the status the API would answer (422, 409, 403, 404), and
nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from notices.core import config
from notices.core.context import AppContext
from notices.core.errors import Conflict, Forbidden, InvalidField, NotFound
from notices.core.models import Notice, User
from notices.hooks import enqueue as hook_queue
from notices.mail import staff
from notices.notice.approval import Notification
from notices.people.roles import Actor
from notices.web.console.notices import _load, _problem, edit_page

# What a form's change does to the locked notice; the notification for staff, if any.
Change = Callable[[Session, Notice, Actor], Notification | None]
REFUSALS = (InvalidField, Conflict, Forbidden, NotFound)


def act_on_notice(
    request: Request,
    uid: str,
    change: Change,
    *,
    user: User,
    ctx: AppContext,
    writing: Session,
    reading: Session,
    settings: config.Settings,
    now: datetime,
) -> Response:
    """Apply `change` as `user` and go back to the notice page, or show it again with why not."""
    try:
        with writing.begin():
            notice = _load(writing, uid, for_update=True)
            note = change(writing, notice, Actor.of(user, "console"))
            hook_queue.enqueue_new_events(writing, settings=settings, now=now)
    except REFUSALS as error:  # nothing was written: the transaction rolled back
        # The notice read afresh, as it is (a missing notice is a 404 from here).
        return edit_page(request, reading, uid, user, settings, now, error.status, error=_problem(error))
    staff.notify(ctx, note, now=now)
    return RedirectResponse(f"/admin/notices/{uid}?saved=1", status_code=303)
