"""A web process settles what it built at startup (core/heap.py: gc.freeze), so the collector's
full passes during a render skip it, collects its youngest objects less often, and undoes both
when it stops."""

import gc

from fastapi.testclient import TestClient

from notices.core import heap
from notices.web import create_app


def test_startup_objects_are_settled_while_the_app_runs_and_released_when_it_stops(ctx):
    gc.unfreeze()
    before = gc.get_threshold()
    app = create_app(ctx.settings, ctx=ctx)
    with TestClient(app) as client:
        assert gc.get_freeze_count() > 10_000  # the modules and the app, at least
        assert gc.get_threshold()[0] > before[0]
        assert client.get("/feeds/notices.atom").status_code == 200
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_a_process_that_runs_the_app_and_the_scheduler_keeps_the_threshold_until_both_stop():
    before = gc.get_threshold()
    heap.settle_startup_objects()  # the app
    heap.settle_startup_objects()  # the scheduler in the same process
    raised = gc.get_threshold()
    heap.unsettle()
    assert gc.get_threshold() == raised
    heap.unsettle()
    assert gc.get_threshold() == before
    gc.unfreeze()
