"""Fixtures of the approval tests: the shipped default (critical and major notices need a second
person), and one user per role. A test module imports the three functions (pytest finds fixtures in
its namespace); the tests ask for them by their short names, `settings`, `staff` and `tokens`."""

import dataclasses

import pytest

from tests.factories import add_token, add_user

STAFF = {
    "editor@example.org": "editor",
    "approver@example.org": "approver",
    "manager@example.org": "manager",
    "admin@example.org": "admin",
}


@pytest.fixture(name="settings")
def approval_settings(settings):
    return dataclasses.replace(settings, approval_for=("critical", "major"))


@pytest.fixture(name="staff")
def staff_per_role(ctx):
    """One user per role, all with the password 'correct horse battery'."""
    for email, role in STAFF.items():
        add_user(ctx, email, role=role)
    return STAFF


@pytest.fixture(name="tokens")
def tokens_per_email(ctx, staff):
    """Authorization headers per email."""
    return {email: {"Authorization": f"Bearer {add_token(ctx, email)}"} for email in staff}
