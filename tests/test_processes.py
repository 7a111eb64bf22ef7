"""The long-running commands as real processes: start, work, stop cleanly on a signal."""

import os
import signal
import subprocess
import sys

import pytest


@pytest.fixture
def environ(ctx):
    return {**os.environ, "NOTICES_DATABASE_URL": ctx.settings.database_url, "PYTHONUNBUFFERED": "1"}


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_scheduler_stops_cleanly_on_a_signal(environ, stop_signal):
    process = subprocess.Popen(
        [sys.executable, "-m", "notices", "scheduler"], env=environ,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert "scheduler running" in process.stdout.readline()  # waits for start-up, not for the clock
        process.send_signal(stop_signal)
        assert process.wait(timeout=20) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        process.kill()
        process.wait()
