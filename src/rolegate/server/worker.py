"""The app factory each process of a multi-process `rolegate serve --workers N` runs.

The parent process bootstraps the data directory (and the demo world) once, then uvicorn starts N workers
that import this module; each opens the same database and shares cache generations through a file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from rolegate.server.app import ASGIApp, build_runtime, create_app
from rolegate.server.settings import Settings

SETTINGS_VARIABLE = "ROLEGATE_WORKER_SETTINGS"


# Everything a worker needs besides the data directory (no secrets: the root key is already in the database).
WORKER_FIELDS = ("host", "port", "database_url", "max_body_bytes", "workers")


def worker_environment(settings: Settings) -> str:
    """What the parent hands its workers."""
    return json.dumps({"data_dir": str(settings.data_dir), **{name: getattr(settings, name) for name in WORKER_FIELDS}})


def create_worker_app() -> ASGIApp:
    values = json.loads(os.environ[SETTINGS_VARIABLE])
    settings = Settings(data_dir=Path(values["data_dir"]), **{name: values[name] for name in WORKER_FIELDS})
    return create_app(build_runtime(settings))
