"""Typed server settings, read from the command line and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 4599
MAX_BODY_BYTES = 1024 * 1024  # IAM/STS/Organizations requests; a 131,072-char policy fits many times over


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    database_url: str = ""
    root_access_key_id: str = ""
    root_secret_access_key: str = ""
    max_body_bytes: int = MAX_BODY_BYTES
    workers: int = 1
    # Hosts under which `BUCKET.<host>` is virtual-hosted-style S3 addressing.
    s3_base_hosts: tuple[str, ...] = ("localhost", "s3.localhost", "s3.amazonaws.com")

    @property
    def database_file(self) -> Path:
        return self.data_dir / "rolegate.sqlite"

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.database_file}"

    @classmethod
    def from_env(cls, data_dir: Path, **overrides: object) -> Settings:
        """Settings with the fixed root key from ROLEGATE_ROOT_ACCESS_KEY_ID / ROLEGATE_ROOT_SECRET_ACCESS_KEY."""
        values: dict[str, object] = {
            "root_access_key_id": os.environ.get("ROLEGATE_ROOT_ACCESS_KEY_ID", ""),
            "root_secret_access_key": os.environ.get("ROLEGATE_ROOT_SECRET_ACCESS_KEY", ""),
        }
        values.update({k: v for k, v in overrides.items() if v not in (None, "")})
        return cls(data_dir=data_dir, **values)  # type: ignore[arg-type]
