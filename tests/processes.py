"""`notices` commands as real processes for tests, and waiting for what they do (with deadlines)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time


class Process:
    def __init__(self, name: str, args: list[str], environ: dict) -> None:
        self.name = name
        self.lines: list[str] = []
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "notices", "--verbose", *args],
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stderr is not None  # opened with stderr=PIPE
        for line in self.popen.stderr:
            self.lines.append(line)

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()


def logs_of(processes: list[Process], *, tail: int = 5000) -> str:
    """The last lines each process logged, to explain a failure."""
    return "\n".join(f"--- {process.name}\n" + "".join(process.lines)[-tail:] for process in processes)


def wait_for(condition, *, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)
    return time.monotonic() - started
