"""Errors that name the field a user got wrong, shared by the CLI, the API and the forms."""


class InvalidField(ValueError):
    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem


class PartialFailure(Exception):
    """A job did its work for every item but some; those are named with their errors.

    One bad row must never stop the others, yet its failure must not go
    unnoticed: the job finishes, then raises this so the scheduler records
    the run as failed and /healthz can say why.
    """

    def __init__(self, job: str, counts: dict, failures: list[tuple[str, str]]) -> None:
        shown = "; ".join(f"{item}: {error}" for item, error in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        super().__init__(f"{job}: {len(failures)} failed: {shown}{more}")
        self.job, self.counts, self.failures = job, counts, failures
