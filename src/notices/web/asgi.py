"""ASGI entry point for uvicorn workers (`notices serve --workers N`), built from the environment."""

from __future__ import annotations

import os

from fastapi import FastAPI

from notices.core.clock import clock_from_environment
from notices.core.config import load_settings
from notices.web.app import create_app


def app_from_environment() -> FastAPI:
    """A worker's app; the scheduler, if any, runs once in the parent process."""
    return create_app(load_settings(), clock=clock_from_environment(os.environ), run_scheduler=False)
