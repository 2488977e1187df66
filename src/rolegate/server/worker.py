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


def worker_environment(settings: Settings) -> str:
    """What the parent hands its workers (no secrets: the root key already exists in the database)."""
    return json.dumps(
        {
            "data_dir": str(settings.data_dir),
            "host": settings.host,
            "port": settings.port,
            "database_url": settings.database_url,
            "max_body_bytes": settings.max_body_bytes,
            "workers": settings.workers,
        }
    )


def create_worker_app() -> ASGIApp:
    values = json.loads(os.environ[SETTINGS_VARIABLE])
    settings = Settings(
        data_dir=Path(values["data_dir"]),
        host=values["host"],
        port=values["port"],
        database_url=values["database_url"],
        max_body_bytes=values["max_body_bytes"],
        workers=values["workers"],
    )
    return create_app(build_runtime(settings))
