"""Long CLI work shows its progress on stderr: a rich bar on a terminal, plain lines elsewhere."""

import io
import json
import os
import pty
import select
import subprocess
import sys

import pytest
import yaml
from click.testing import CliRunner

from notices.cli import cli
from notices.cli.progress import LogLines, progress


class Ticks:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_without_a_terminal_a_line_every_tenth_with_rate_and_eta_and_a_last_line():
    stream, ticks = io.StringIO(), Ticks()
    with progress("sending", 100, stream=stream, clock=ticks) as advance:
        for _ in range(100):
            ticks.now += 0.5
            advance(1)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "sending: 10/100 (10%), 2.0/s, ETA 0:00:45"
    assert lines[4] == "sending: 50/100 (50%), 2.0/s, ETA 0:00:25"
    assert len(lines) == 10  # 10%, 20%, ... 90%, then the summary
    assert lines[-1] == "sending: 100/100 done in 0:00:50, 2.0/s"


def test_a_quick_small_run_says_nothing():
    stream, ticks = io.StringIO(), Ticks()
    with progress("importing", 5, stream=stream, clock=ticks) as advance:
        for _ in range(5):
            ticks.now += 0.1
            advance(1)
    assert stream.getvalue() == ""


def test_a_slow_small_run_still_tells_every_few_seconds():
    stream, ticks = io.StringIO(), Ticks()
    with progress("exporting feeds", 4, stream=stream, clock=ticks, every_seconds=10) as advance:
        for _ in range(4):
            ticks.now += 6
            advance(1)
    assert stream.getvalue().splitlines() == [
        "exporting feeds: 2/4 (50%), 0.2/s, ETA 0:00:12",
        "exporting feeds: 4/4 done in 0:00:24, 0.2/s",
    ]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_output_is_forced_for_json_even_on_a_terminal():
    stream, ticks = FakeTerminal(), Ticks()
    with progress("sending", 50, plain=True, stream=stream, clock=ticks) as advance:
        advance(50)
    assert stream.getvalue() == "sending: 50/50 done in 0:00:00\n"


def test_lines_count_items_done_in_batches():
    stream, ticks = io.StringIO(), Ticks()
    lines = LogLines("sending", 1000, stream=stream, every_seconds=60, clock=ticks)
    for _ in range(4):
        ticks.now += 1
        lines.advance(250)
    lines.finish()
    assert stream.getvalue().splitlines() == [
        "sending: 250/1000 (25%), 250.0/s, ETA 0:00:03",
        "sending: 500/1000 (50%), 250.0/s, ETA 0:00:02",
        "sending: 750/1000 (75%), 250.0/s, ETA 0:00:01",
        "sending: 1000/1000 done in 0:00:04, 250.0/s",
    ]


def _import_file(tmp_path, count: int):
    items = [
        {
            "title": f"Works {i}",
            "category": "construction",
            "severity": "minor",
            "locations": ["plesmanlaan"],
            "starts_at": "2026-12-01T07:00",
            "ends_at": "2026-12-02T17:00",
        }
        for i in range(count)
    ]
    path = tmp_path / "notices.yaml"
    path.write_text(yaml.safe_dump(items))
    return path


def test_import_with_json_keeps_stdout_clean_and_logs_progress_on_stderr(ctx, tmp_path):
    result = CliRunner().invoke(
        cli, ["notice", "import", str(_import_file(tmp_path, 60)), "--json"], obj=ctx, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 60
    lines = result.stderr.splitlines()
    assert lines[0].startswith("importing: 6/60 (10%)") and "/s, ETA " in lines[0]
    assert lines[-1].startswith("importing: 60/60 done in ")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_on_a_terminal_import_shows_a_bar_with_rate_and_eta(ctx, settings, tmp_path):
    """The real command in a pseudo-terminal, as an operator runs it."""
    path = _import_file(tmp_path, 60)
    environ = {
        **os.environ,
        "NOTICES_DATABASE_URL": settings.database_url,
        "NOTICES_MAIL_DIR": str(tmp_path / "mail"),
        "TERM": "xterm-256color",
        "COLUMNS": "120",
    }
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "notices", "notice", "import", str(path)],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=environ,
        close_fds=True,
    )
    os.close(terminal)
    output = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the command exited and closed the terminal
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=60) == 0
    os.close(controller)
    text = output.decode(errors="replace")
    assert "importing" in text and "60/60" in text, text
    assert "━" in text and "ETA" in text, text  # rich's bar, with the time left
    assert "\x1b[" in text  # drawn with terminal control sequences
    assert "imported 60 notices" in text
