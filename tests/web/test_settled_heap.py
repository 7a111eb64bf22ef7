"""A web process settles what it built at startup (core/heap.py: gc.freeze), so the collector's
full passes during a render skip it, and releases it when it stops."""

import gc

from fastapi.testclient import TestClient

from notices.web import create_app


def test_startup_objects_are_settled_while_the_app_runs_and_released_when_it_stops(ctx):
    gc.unfreeze()
    app = create_app(ctx.settings, ctx=ctx)
    with TestClient(app) as client:
        assert gc.get_freeze_count() > 10_000  # the modules and the app, at least
        assert client.get("/feeds/notices.atom").status_code == 200
    assert gc.get_freeze_count() == 0
