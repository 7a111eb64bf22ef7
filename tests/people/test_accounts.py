"""Manager accounts: nothing heavy happens when the code is merely imported."""

import subprocess
import sys


def test_importing_the_command_line_computes_no_password_hash():
    check = (
        "import notices.cli, notices.web.app\n"
        "from notices.people import accounts\n"
        "print(accounts._dummy_hash.cache_info().currsize)\n"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "0"


def test_a_wrong_email_is_checked_against_a_hash_all_the_same(ctx):
    from notices.people import accounts

    with ctx.db.writing() as session, session.begin():
        assert (
            accounts.authenticate(session, email="nobody@example.org", password="x", client="c", now=ctx.clock.now())
            is None
        )
    assert accounts._dummy_hash.cache_info().currsize == 1
