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
        [sys.executable, "-m", "notices", "scheduler"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "scheduler running" in process.stdout.readline()  # waits for start-up, not for the clock
        process.send_signal(stop_signal)
        assert process.wait(timeout=20) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        process.kill()
        process.wait()


def test_serve_with_two_workers_runs_the_scheduler_once_in_the_parent(environ):
    import time
    import urllib.request

    from tests.smtp_sink import free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "notices", "serve", "--workers", "2", "--port", str(port), "--no-access-log"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:  # wait for the workers to answer, not for the clock
            try:
                health = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, "the server did not come up"
                time.sleep(0.1)
        assert b'"database":"ok"' in health
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/feeds/notices.atom", timeout=5).status == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        log = process.stderr.read()
        assert log.count("is now the scheduler leader") == 1
        assert "Traceback" not in log
    finally:
        process.kill()
        process.wait()
