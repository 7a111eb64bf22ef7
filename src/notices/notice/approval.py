"""Four eyes before publishing: the approval workflow's states, rules and transitions.

A notice whose severity is in `[editorial] approval_for` is published only once a second
person approved it. Its states: draft -> submitted -> approved (published or scheduled as
the submitter chose) or returned (a draft again, with the approver's comment). A change to a
published notice that moves its times, severity or geometry waits the same way, while the
published version stays live; a text-only change marked minor skips the wait (audited).

The notice itself does not change while it waits: a submitted draft keeps publish_at None,
so no feed, page, event or alert sees it, and a waiting change lives in notice_reviews.
Every transition is written to the audit log with who, when and the comment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from notices.core.config import Settings
from notices.core.errors import Conflict, Forbidden, InvalidField
from notices.core.i18n import lazy_gettext
from notices.core.models import Notice, NoticeReview, User
from notices.core.states import ReviewState
from notices.notice import store
from notices.notice.validation import SCHEDULE_FIELDS, TIME_FIELDS, NoticeFields, parse_note
from notices.people import audit
from notices.people.roles import REVIEWERS, Actor


class Stage(StrEnum):
    """Where a notice is in the workflow (derived, like its status)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    PUBLISHED = "published"  # also scheduled: approved (or needing no approval)
    CANCELLED = "cancelled"


class Kind(StrEnum):
    PUBLISH = "publish"  # a draft, to be published once approved
    CHANGE = "change"  # a change to a published notice


class WrongState(Conflict):
    """The transition does not fit the notice's stage; the message names the stage."""

    def __init__(self, action: str, stage: Stage) -> None:
        super().__init__(f"cannot {action}: the notice is {stage}")
        self.stage = stage


class SelfApproval(Forbidden):
    """Four eyes: nobody approves their own submission."""


@dataclass(frozen=True)
class Notification:
    """An email to send once the transition is committed (notices.mail.staff sends it)."""

    kind: str  # waiting, approved, returned
    uid: str
    title: str
    actor: str
    comment: str
    recipients: tuple[str, ...] = field(default=())


# Fields whose change is announced like a new notice (rescheduled), so it needs approval again.
SIGNIFICANT = (*SCHEDULE_FIELDS, "severity", "geometry")


def needs_approval(settings: Settings, *severities: str) -> bool:
    return any(severity in settings.approval_for for severity in severities)


def _held(actor: Actor, settings: Settings, *severities: str) -> bool:
    return not actor.is_operator and needs_approval(settings, *severities)


def waiting_review(session: Session, notice: Notice) -> NoticeReview | None:
    return session.scalars(
        select(NoticeReview).where(NoticeReview.notice_id == notice.id, NoticeReview.state == ReviewState.SUBMITTED)
    ).first()


def last_review(session: Session, notice: Notice) -> NoticeReview | None:
    return session.scalars(
        select(NoticeReview).where(NoticeReview.notice_id == notice.id).order_by(NoticeReview.id.desc()).limit(1)
    ).first()


def stage_of(session: Session, notice: Notice, now: datetime) -> Stage:
    if notice.cancelled_at is not None:
        return Stage.CANCELLED
    if waiting_review(session, notice) is not None:
        return Stage.SUBMITTED
    return Stage.DRAFT if notice.publish_at is None else Stage.PUBLISHED


def queue(session: Session) -> Sequence[NoticeReview]:
    """Submissions waiting for approval, oldest first, with their notices (cancelled ones wait for nothing)."""
    return session.scalars(
        select(NoticeReview)
        .join(NoticeReview.notice)
        .where(NoticeReview.state == ReviewState.SUBMITTED, Notice.cancelled_at.is_(None))
        .options(selectinload(NoticeReview.notice))
        .order_by(NoticeReview.submitted_at, NoticeReview.id)
    ).all()


def _comment(value: str, name: str, *, required: bool) -> str:
    if required:
        return parse_note(value, name)
    return parse_note(value, name) if value and value.strip() else ""


def _submitter(actor: Actor) -> str:
    return actor.email or actor.label


def _reviewers(session: Session, *, besides: str) -> tuple[str, ...]:
    emails = session.scalars(
        select(User.email).where(User.role.in_([str(role) for role in REVIEWERS]), User.active.is_(True))
    )
    return tuple(sorted(email for email in emails if email != besides))


def _audit(session: Session, actor: Actor, action: str, notice: Notice, detail: str, now: datetime) -> None:
    audit.record(session, actor=actor.label, action=action, target=notice.uid, detail=detail, now=now)


# Transitions --------------------------------------------------------------------------------


def create(
    session: Session, fields: NoticeFields, *, actor: Actor, settings: Settings, now: datetime
) -> tuple[Notice, Notification | None]:
    """Create a notice; one that needs approval is kept as a draft and submitted at once.

    Returns the notice and the notification to send (None when nothing waits).
    """
    actor.require_writer()
    if fields.publish_at is None or not _held(actor, settings, fields.severity):
        return store.create_notice(session, fields, now=now, author=actor.label), None
    notice = store.create_notice(session, replace(fields, publish_at=None), now=now, author=actor.label)
    return notice, _open(session, notice, Kind.PUBLISH, _publish_proposal(fields.publish_at, now), actor, "", now)


def submit(
    session: Session,
    notice: Notice,
    *,
    actor: Actor,
    publish_at: datetime | None,
    comment: str,
    settings: Settings,
    now: datetime,
) -> Notification:
    """Submit a draft for approval; publish_at: when to publish once approved (None: at approval)."""
    actor.require_writer()
    stage = stage_of(session, notice, now)
    if stage is not Stage.DRAFT:
        raise WrongState("submit", stage)
    return _open(
        session,
        notice,
        Kind.PUBLISH,
        _publish_proposal(publish_at, now),
        actor,
        _comment(comment, "comment", required=False),
        now,
    )


def update(
    session: Session,
    notice: Notice,
    fields: NoticeFields,
    *,
    note: str,
    minor: bool,
    actor: Actor,
    settings: Settings,
    now: datetime,
) -> Notification | None:
    """Change a notice, or hold the change for approval; a notification when it now waits.

    Publishing a draft (publish_at set) submits it when its severity needs approval.
    """
    actor.require_writer()
    stage = stage_of(session, notice, now)
    if stage is Stage.SUBMITTED:
        raise WrongState("change it", stage)
    current = store.fields_of(notice)
    if stage is Stage.DRAFT:
        if fields.publish_at is None or not _held(actor, settings, fields.severity):
            store.update_notice(session, notice, fields, note=note, now=now, author=actor.label)
            return None
        draft = replace(fields, publish_at=None)
        if draft != current:
            store.update_notice(session, notice, draft, note=note, now=now, author=actor.label)
        return _open(session, notice, Kind.PUBLISH, _publish_proposal(fields.publish_at, now), actor, "", now)
    significant = [name for name in SIGNIFICANT if getattr(current, name) != getattr(fields, name)]
    held = _held(actor, settings, current.severity, fields.severity)
    if minor and significant:
        raise InvalidField("minor", f"only a change of text can be minor; this one changes {', '.join(significant)}")
    if not held or minor:
        store.update_notice(session, notice, fields, note=note, now=now, author=actor.label)
        if minor and held:
            _audit(session, actor, "approval.minor", notice, f"text change without approval: {note}", now)
        return None
    if fields == current:
        raise store.NoticeConflict("nothing to change: the given values are the notice's current values")
    proposal = {"fields": _fields_json(fields), "note": parse_note(note, "note")}
    return _open(session, notice, Kind.CHANGE, proposal, actor, "", now)


def approve(
    session: Session, notice: Notice, *, actor: Actor, comment: str, settings: Settings, now: datetime
) -> Notification:
    """Approve the waiting submission of someone else, and publish (or schedule, or apply) it."""
    actor.require_reviewer()
    review = _waiting(session, notice, "approve", now)
    if review.submitted_by == actor.email:
        raise SelfApproval(
            "four eyes: you submitted this notice, so someone else must approve it (or return it yourself)"
        )
    comment = _comment(comment, "comment", required=False)
    _apply(
        session,
        notice,
        review,
        actor=actor,
        note=f"approved by {actor.email}" + (f": {comment}" if comment else ""),
        now=now,
    )
    _decide(review, ReviewState.APPROVED, actor, comment, now)
    _audit(session, actor, "approval.approve", notice, comment or f"{review.kind} approved", now)
    return Notification("approved", notice.uid, notice.title, actor.label, comment, (review.submitted_by,))


def return_(session: Session, notice: Notice, *, actor: Actor, comment: str, now: datetime) -> Notification:
    """Send the waiting submission back to its writer with a comment: it is a draft (or unchanged) again."""
    actor.require_reviewer()
    comment = _comment(comment, "comment", required=True)
    review = _waiting(session, notice, "return", now)
    _decide(review, ReviewState.RETURNED, actor, comment, now)
    _audit(session, actor, "approval.return", notice, comment, now)
    return Notification("returned", notice.uid, notice.title, actor.label, comment, (review.submitted_by,))


def publish_in_emergency(
    session: Session, notice: Notice, *, actor: Actor, reason: str, now: datetime
) -> Notification | None:
    """An admin publishes a draft, or applies a waiting change, now, past the approvers."""
    if not actor.may_publish_in_emergency():
        raise Forbidden(lazy_gettext("only an admin may publish in an emergency"))
    reason = _comment(reason, "reason", required=True)
    stage = stage_of(session, notice, now)
    review = waiting_review(session, notice)
    if review is not None:
        _apply(session, notice, review, actor=actor, note=f"emergency: {reason}", now=now)
        _decide(review, ReviewState.BYPASSED, actor, reason, now)
    elif stage is Stage.DRAFT:
        store.update_notice(
            session,
            notice,
            replace(store.fields_of(notice), publish_at=now),
            note=f"emergency: {reason}",
            now=now,
            author=actor.label,
        )
    else:
        raise WrongState("publish it in an emergency", stage)
    _audit(session, actor, "approval.emergency", notice, reason, now)
    if review is None:
        return None
    return Notification(
        "approved", notice.uid, notice.title, actor.label, f"emergency: {reason}", (review.submitted_by,)
    )


# Internals ----------------------------------------------------------------------------------


def _publish_proposal(publish_at: datetime | None, now: datetime) -> dict[str, Any]:
    # A time already passed means "as soon as approved".
    return {"publish_at": publish_at.isoformat() if publish_at is not None and publish_at > now else None}


def _open(
    session: Session, notice: Notice, kind: Kind, proposal: dict[str, Any], actor: Actor, comment: str, now: datetime
) -> Notification:
    submitter = _submitter(actor)
    session.add(
        NoticeReview(
            notice_id=notice.id,
            state=ReviewState.SUBMITTED,
            kind=kind,
            proposal=proposal,
            submitted_by=submitter,
            submitted_at=now,
            comment=comment,
            decided_by="",
            decision_comment="",
        )
    )
    session.flush()  # the unique index refuses a second waiting submission here
    detail = "publication" if kind is Kind.PUBLISH else f"change: {proposal['note']}"
    _audit(session, actor, "approval.submit", notice, detail + (f" ({comment})" if comment else ""), now)
    return Notification(
        "waiting", notice.uid, notice.title, actor.label, comment, _reviewers(session, besides=submitter)
    )


def _waiting(session: Session, notice: Notice, action: str, now: datetime) -> NoticeReview:
    review = waiting_review(session, notice)
    if review is None:
        raise WrongState(action, stage_of(session, notice, now))
    return review


def _apply(session: Session, notice: Notice, review: NoticeReview, *, actor: Actor, note: str, now: datetime) -> None:
    if review.kind == Kind.PUBLISH:
        chosen = review.proposal.get("publish_at")
        publish_at = max(datetime.fromisoformat(chosen), now) if chosen else now
        fields = replace(store.fields_of(notice), publish_at=publish_at)
        store.update_notice(session, notice, fields, note=note, now=now, author=actor.label)
    else:
        fields = _fields_from_json(review.proposal["fields"])
        store.update_notice(
            session, notice, fields, note=f"{review.proposal['note']} ({note})", now=now, author=actor.label
        )


def _decide(review: NoticeReview, state: ReviewState, actor: Actor, comment: str, now: datetime) -> None:
    review.state, review.decided_by, review.decided_at, review.decision_comment = state, actor.label, now, comment


def _fields_json(fields: NoticeFields) -> dict[str, Any]:
    data = fields.as_dict()
    for name in TIME_FIELDS:
        data[name] = data[name].isoformat() if data[name] is not None else None
    data["locations"] = list(data["locations"])
    return data


def _fields_from_json(data: dict[str, Any]) -> NoticeFields:
    values = dict(data)
    for name in TIME_FIELDS:
        values[name] = datetime.fromisoformat(values[name]) if values.get(name) else None
    values["locations"] = tuple(values.get("locations") or ())
    return NoticeFields(**values)


@dataclass(frozen=True)
class HeldChange:
    """A change to a published notice that waits for approval: what is live and what would be."""

    published: NoticeFields
    proposed: NoticeFields
    note: str
    submitted_by: str


def held_change(session: Session, notice: Notice) -> HeldChange | None:
    """The change waiting for approval on `notice`; None when none waits (or what waits is a first publication)."""
    review = waiting_review(session, notice)
    if review is None or review.kind != Kind.CHANGE:
        return None
    return HeldChange(
        published=store.fields_of(notice),
        proposed=_fields_from_json(review.proposal["fields"]),
        note=review.proposal.get("note", ""),
        submitted_by=review.submitted_by,
    )


def describe(session: Session, notice: Notice, now: datetime) -> dict[str, Any]:
    """The notice's approval state for the API, CLI and console."""
    review = last_review(session, notice)
    data: dict[str, Any] = {"state": str(stage_of(session, notice, now)), "review": None}
    if review is not None:
        data["review"] = {
            "state": review.state,
            "kind": review.kind,
            "submitted_by": review.submitted_by,
            "submitted_at": review.submitted_at.isoformat(),
            "comment": review.comment,
            "decided_by": review.decided_by,
            "decided_at": review.decided_at.isoformat() if review.decided_at else None,
            "decision_comment": review.decision_comment,
        }
    return data
