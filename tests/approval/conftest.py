"""Approval tests run with the shipped default: critical and major notices need a second person."""

import dataclasses

import pytest

from tests.factories import add_token, add_user

STAFF = {
    "editor@example.org": "editor",
    "approver@example.org": "approver",
    "manager@example.org": "manager",
    "admin@example.org": "admin",
}


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, approval_for=("critical", "major"))


@pytest.fixture
def staff(ctx):
    """One user per role, all with the password 'correct horse battery'."""
    for email, role in STAFF.items():
        add_user(ctx, email, role=role)
    return STAFF


@pytest.fixture
def tokens(ctx, staff):
    """Authorization headers per email."""
    return {email: {"Authorization": f"Bearer {add_token(ctx, email)}"} for email in staff}
