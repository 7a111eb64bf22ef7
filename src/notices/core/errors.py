"""The errors a user is told about, shared by the CLI, the API and the console.

Every one is a NoticesError, and each front end maps them once: the CLI prints
one line and exits 2, the API answers a JSON error with `status`, the console
shows the form again with the message. Anything else is a bug: logged, never
shown with a stack trace.
"""

from collections.abc import Mapping

from notices.core.i18n import translate


class NoticesError(Exception):
    """Something the user can fix or must be told; `status` is the HTTP status the API answers with."""

    status = 400

    def message_in(self, language: str) -> str:
        """The message in `language`: raised as a LazyText (core.i18n), it is translated; other text is as raised."""
        return translate(self.args[0], language) if self.args else ""


class InvalidField(NoticesError):
    """One field's value cannot be used; the message names the field and the problem."""

    status = 422

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        # The field name is for programs (the API's `field`, the CLI's option): never translated.
        self.field = field_name
        self.problem = problem

    def problem_in(self, language: str) -> str:
        return translate(self.problem, language)

    def message_in(self, language: str) -> str:
        return f"{self.field}: {self.problem_in(language)}"


class NotFound(NoticesError):
    status = 404


class Conflict(NoticesError):
    """The change does not fit the current state (cancelling a cancelled notice, a stale version)."""

    status = 409


class Forbidden(NoticesError):
    status = 403


class Throttled(NoticesError):
    """Too many attempts from this address or for this account; try again later."""

    status = 429


class PartialFailure(Exception):
    """A job did its work for every item but some; those are named with their errors.

    One bad row must never stop the others, yet its failure must not go
    unnoticed: the job finishes, then raises this so the scheduler records
    the run as failed and /healthz can say why.
    """

    def __init__(self, job: str, counts: Mapping[str, object], failures: list[tuple[str, str]]) -> None:
        shown = "; ".join(f"{item}: {error}" for item, error in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        super().__init__(f"{job}: {len(failures)} failed: {shown}{more}")
        self.job, self.counts, self.failures = job, counts, failures
