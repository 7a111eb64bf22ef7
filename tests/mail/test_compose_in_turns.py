"""The composer fills the senders' queue in turns (mail.sender._Hopper): once the queue is full it
composes again only when the senders have taken all but `low` messages, not one for one."""

from __future__ import annotations

import threading

from notices.mail.sender import _Hopper

# How long a put() that must wait is given, or a thread that must still be waiting is watched.
BRIEF = 0.01


class WatchedEvent(threading.Event):
    """An Event that says when someone has started to wait for it."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        self.entered.set()
        return super().wait(timeout)


def test_a_full_queue_takes_more_only_once_drained_to_the_low_mark():
    hopper: _Hopper[str] = _Hopper(size=4, low=1)
    assert all(hopper.put(f"message {index}", timeout=BRIEF) for index in range(4))
    assert not hopper.put("message 4", timeout=BRIEF)  # full: the wait ran out

    waiting = WatchedEvent()
    hopper._drained = waiting
    results: list[bool] = []
    composer = threading.Thread(target=lambda: results.append(hopper.put("message 4", timeout=30)))
    composer.start()
    assert waiting.entered.wait(30)  # the composer waits for its turn
    assert [hopper.get(), hopper.get()] == ["message 0", "message 1"]
    composer.join(BRIEF)
    assert composer.is_alive()  # room for two, but two still wait: the composer's turn has not come
    assert hopper.get() == "message 2"  # drained to the low mark
    composer.join(30)
    assert results == [True]
    assert [hopper.get(), hopper.get()] == ["message 3", "message 4"]


def test_the_end_marker_goes_in_whatever_the_turn():
    hopper: _Hopper[str] = _Hopper(size=2, low=1)
    assert hopper.put("message", timeout=BRIEF)
    hopper.put_end()
    assert [hopper.get(), hopper.get()] == ["message", None]
