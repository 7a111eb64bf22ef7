"""Who may do what with notices: the four roles and the acting person of a change.

editor writes and submits; approver approves or returns others' submissions; manager does
both (still never approving their own: four eyes); admin does everything, and may publish
at once in an emergency with a reason. Managers and admins keep the notice templates; editors
start notices from them.
"""

from __future__ import annotations

from dataclasses import dataclass

from notices.core.errors import Forbidden
from notices.core.i18n import lazy_gettext
from notices.core.models import User
from notices.core.states import Role

WRITERS = frozenset({Role.EDITOR, Role.MANAGER, Role.ADMIN})
REVIEWERS = frozenset({Role.APPROVER, Role.MANAGER, Role.ADMIN})
STAFF = WRITERS | REVIEWERS
# Templates shape what every editor starts from: managers and admins keep them (editors use them).
TEMPLATE_KEEPERS = frozenset({Role.MANAGER, Role.ADMIN})


@dataclass(frozen=True)
class Actor:
    """Who makes a change: `label` goes into revisions and the audit log ("api:ann@example.org").

    `email` and `role` are None for the shell operator (the CLI without --as), who holds the
    database anyway; the operator's writes are audited but not held for approval.
    """

    label: str
    email: str | None = None
    role: Role | None = None

    @classmethod
    def of(cls, user: User, channel: str) -> Actor:
        return cls(label=f"{channel}:{user.email}", email=user.email, role=Role(user.role))

    @property
    def is_operator(self) -> bool:
        return self.role is None

    def may_write(self) -> bool:
        return self.role is None or self.role in WRITERS

    def may_review(self) -> bool:
        return self.role in REVIEWERS

    def may_publish_in_emergency(self) -> bool:
        return self.role == Role.ADMIN

    def require_writer(self) -> None:
        if not self.may_write():
            raise Forbidden(lazy_gettext("the %(role)s role may not write notices", role=self.role))

    def may_keep_templates(self) -> bool:
        return self.role is None or self.role in TEMPLATE_KEEPERS

    def require_template_keeper(self) -> None:
        if not self.may_keep_templates():
            raise Forbidden(
                lazy_gettext(
                    "the %(role)s role may not save, rename or delete templates; a manager or admin may", role=self.role
                )
            )

    def require_reviewer(self) -> None:
        if not self.may_review():
            role = self.role or "shell operator"
            raise Forbidden(
                lazy_gettext(
                    "the %(role)s role may not approve or return notices; an approver, manager or admin may", role=role
                )
            )
