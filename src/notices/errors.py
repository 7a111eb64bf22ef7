"""Errors that name the field a user got wrong, shared by the CLI, the API and the forms."""


class InvalidField(ValueError):
    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem
