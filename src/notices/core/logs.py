"""Logging: readable lines by default, JSON lines (one object per line) when configured."""

from __future__ import annotations

import logging.config
from typing import Any

from notices.core.config import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d %(threadName)s"


def _formatter(settings: Settings | None) -> dict[str, Any]:
    if settings is not None and settings.log_format == "json":
        return {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    return {"format": TEXT_FORMAT}


def logging_config(settings: Settings | None, *, verbose: bool = False) -> dict[str, Any]:
    """A dictConfig for our loggers and uvicorn's alike, so every line has the same shape."""
    level = "INFO" if verbose else "WARNING"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": _formatter(settings)},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "notices": {"level": "INFO" if verbose or (settings and settings.log_format == "json") else level},
            "uvicorn": {"level": "INFO", "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
            # APScheduler says "Running job ..." every second for the change watcher.
            "apscheduler": {"level": "WARNING"},
            # Alembic narrates every schema-version check at INFO.
            "alembic": {"level": "WARNING"},
        },
    }


def configure(settings: Settings | None, *, verbose: bool = False) -> None:
    logging.config.dictConfig(logging_config(settings, verbose=verbose))
