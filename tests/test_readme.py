"""What the README tells a newcomer to type works as written: the curl examples, `make run PORT=...`."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.smtp_sink import free_port

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_block(first_line: str) -> str:
    """The ```sh block of the README that starts with `first_line`, exactly as written."""
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    (block,) = [block for block in blocks if block.startswith(first_line)]
    return block


def documents(output: str) -> list:
    """The JSON documents curl printed one after another."""
    decoder, found, position = json.JSONDecoder(), [], 0
    while position < len(output):
        if output[position].isspace():
            position += 1
            continue
        document, position = decoder.raw_decode(output, position)
        found.append(document)
    return found


@pytest.fixture
def fresh_site(tmp_path):
    """A migrated database with the demo data (as after `make run`), and the environment to reach it."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("NOTICES_")}
    environ |= {
        "NOTICES_DATABASE_URL": f"sqlite:///{tmp_path / 'notices.db'}",
        "NOTICES_MAIL_DIR": str(tmp_path / "mail"),
    }
    for command in (["db", "upgrade"], ["demo"]):
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "notices"), *command], env=environ, check=True, capture_output=True, cwd=ROOT
        )
    return environ


def test_the_readme_curl_examples_run_as_written(fresh_site, tmp_path):
    block = readme_block("# With `make run` going in another terminal")
    assert "$UID" not in block  # read-only in bash, special in zsh
    script = tmp_path / "readme.sh"
    script.write_text(
        "set -euo pipefail\n"
        "ip link set lo up 2>/dev/null || true\n"
        f".venv/bin/notices serve --port 8000 --no-scheduler --no-access-log >{tmp_path / 'serve.log'} 2>&1 &\n"
        "trap 'kill $!' EXIT\n"
        "for _ in $(seq 1 200); do curl -sf http://127.0.0.1:8000/livez >/dev/null && break; sleep 0.1; done\n" + block
    )
    # The README says port 8000: run it in a network namespace of its own, where 8000 is free
    # whatever else this machine runs (as root; otherwise the port must be free here).
    command = ["bash", str(script)]
    if os.geteuid() == 0 and shutil.which("unshare"):
        command = ["unshare", "--net", *command]
    result = subprocess.run(command, env=fresh_site, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    listed, changed, cancelled, counts = documents(result.stdout)
    assert "notices" in listed
    assert (changed["version"], changed["title"]) == (2, "Plesmanlaan closed")
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "works postponed"
    assert counts["total"] >= 1


def test_make_run_on_another_port_links_to_that_port(tmp_path):
    port = free_port()
    environ = {key: value for key, value in os.environ.items() if not key.startswith("NOTICES_")}
    environ |= {
        "NOTICES_DATABASE_URL": f"sqlite:///{tmp_path / 'notices.db'}",
        "NOTICES_MAIL_DIR": str(tmp_path / "mail"),
    }
    process = subprocess.Popen(
        ["make", "-s", "run", f"PORT={port}"],
        cwd=ROOT,
        env=environ,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=2)
                break
            except OSError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "make run did not come up"
                time.sleep(0.2)
        feed = urllib.request.urlopen(f"http://127.0.0.1:{port}/feeds/notices.atom", timeout=5).read().decode()
        assert f'href="http://127.0.0.1:{port}/feeds/notices.atom"' in feed
        mails = [path.read_text() for path in (tmp_path / "mail").glob("*.eml")]
        assert mails and all(f"http://127.0.0.1:{port}/" in mail for mail in mails)
        assert not any("127.0.0.1:8000" in mail for mail in mails)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
