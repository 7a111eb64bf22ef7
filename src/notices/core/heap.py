"""What a long-running process built at startup, kept out of the garbage collector's way."""

from __future__ import annotations

import gc


def settle_startup_objects() -> None:
    """Move every object alive now (modules, the app and its routes, templates, the database's
    metadata: some 135,000) into the collector's permanent generation (gc.freeze).

    None of them ever becomes garbage, yet each full collection would walk them all, and a render
    that builds many objects (a thousand rows, their views and entries) sets off several: a
    1,000-entry feed rendered with nothing stored takes about a tenth less time with them settled
    (bench/render.py does as a service does). Objects made later are collected as usual.

    Without a collection first: one walks every object, a fraction of a second in a large process
    (each app a test starts), and the little garbage of startup is only kept until unsettle().
    """
    gc.freeze()


def unsettle() -> None:
    """Undo settle_startup_objects when the service stops: what it settled may be garbage now (an
    app a test started, say), and only the collector frees garbage in reference cycles."""
    gc.unfreeze()
