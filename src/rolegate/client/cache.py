"""Cached role sessions, one 0600 JSON file per request in a 0700 directory (like the aws CLI's
~/.aws/cli/cache), keyed by a hash of everything that shapes the session: source, hops, endpoint.

A file that is not private (other readers or another owner) or does not parse is ignored, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rolegate.client.files import atomic_write, is_private, locked, private_dir, read_text
from rolegate.client.model import RoleSession

CACHE_DIR_ENV = "ROLEGATE_CACHE_DIR"
ENTRY = re.compile(r"[0-9a-f]{64}\.json")


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    configured = environ.get(CACHE_DIR_ENV)
    return Path(configured).expanduser() if configured else Path("~/.aws/rolegate/cache").expanduser()


def cache_key(identity: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class SessionCache:
    """Load, store and clear cached sessions in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def load(self, key: str) -> RoleSession | None:
        path = self.directory / f"{key}.json"
        if not is_private(path):
            return None
        try:
            data = json.loads(read_text(path))
            return RoleSession.from_json(data) if isinstance(data, dict) else None
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def store(self, key: str, session: RoleSession) -> None:
        with locked(private_dir(self.directory)):
            atomic_write(self.directory / f"{key}.json", json.dumps(session.to_json()))

    def clear(self) -> int:
        """Remove every cache entry (only files named like ours); returns how many."""
        if not self.directory.is_dir():
            return 0
        removed = 0
        with locked(self.directory):
            for path in self.directory.iterdir():
                if ENTRY.fullmatch(path.name):
                    os.unlink(path)
                    removed += 1
        return removed
