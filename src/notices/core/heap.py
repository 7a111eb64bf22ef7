"""What a long-running process built at startup, kept out of the garbage collector's way."""

from __future__ import annotations

import gc

# Container objects allocated (net) before the youngest generation is collected. A render makes
# hundreds of thousands that live until it ends (rows, views, event lines): at CPython's 700 the
# collector ran some thousand times per 1,000-entry render, each time walking what the render held
# so far (about 10 ms of a 300 ms cold render). Most objects die young all the same: a larger
# threshold costs a few megabytes of garbage in reference cycles held a little longer.
_YOUNGEST_THRESHOLD = 50_000
# The thresholds before, while a service (the web app, the scheduler: one process may run both)
# has settled and not yet unsettled.
_thresholds_before: tuple[int, int, int] | None = None
_settled = 0


def settle_startup_objects() -> None:
    """Move every object alive now (modules, the app and its routes, templates, the database's
    metadata: some 135,000) into the collector's permanent generation (gc.freeze), and collect
    the youngest generation less often (_YOUNGEST_THRESHOLD).

    None of the settled objects ever becomes garbage, yet each full collection would walk them
    all, and a render that builds many objects (a thousand rows, their views and entries) sets off
    several: a 1,000-entry feed rendered with nothing stored takes about a tenth less time with
    them settled (bench/render.py does as a service does). Objects made later are collected as usual.

    Without a collection first: one walks every object, a fraction of a second in a large process
    (each app a test starts), and the little garbage of startup is only kept until unsettle().
    """
    global _thresholds_before, _settled
    gc.freeze()
    if _settled == 0:
        _thresholds_before = gc.get_threshold()
        gc.set_threshold(_YOUNGEST_THRESHOLD, *_thresholds_before[1:])
    _settled += 1


def unsettle() -> None:
    """Undo settle_startup_objects when the service stops: what it settled may be garbage now (an
    app a test started, say), and only the collector frees garbage in reference cycles."""
    global _thresholds_before, _settled
    gc.unfreeze()
    _settled = max(_settled - 1, 0)
    if _settled == 0 and _thresholds_before is not None:
        gc.set_threshold(*_thresholds_before)
        _thresholds_before = None
