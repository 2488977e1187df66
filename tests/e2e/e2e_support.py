"""A live `rolegate serve` on 127.0.0.1 for end-to-end tests, and client factories pointed at it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

ROOT_KEY_ID = "AKIAROLEGATETESTROOT"
ROOT_SECRET = "rolegate/test/root/secret/0123456789abcd"


@dataclass(frozen=True)
class LiveServer:
    endpoint: str
    data_dir: Path
    management_account: str
    process: subprocess.Popen[bytes]
    output: Path

    def client(
        self,
        service: str,
        key_id: str = ROOT_KEY_ID,
        secret: str = ROOT_SECRET,
        token: str | None = None,
        region: str = "us-east-1",
    ) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            aws_session_token=token,
        )

    def log(self) -> str:
        return self.output.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_server(data_dir: Path, *extra: str) -> Iterator[LiveServer]:
    port = free_port()
    env = {**os.environ, "ROLEGATE_ROOT_ACCESS_KEY_ID": ROOT_KEY_ID, "ROLEGATE_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET}
    output = data_dir.parent / f"server-{port}.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "rolegate", "serve", "--port", str(port), "--data-dir", str(data_dir), *extra],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        health = _wait_ready(endpoint, process, output)
        yield LiveServer(endpoint, data_dir, health["managementAccount"], process, output)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_ready(endpoint: str, process: subprocess.Popen[bytes], output: Path) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rolegate serve exited early:\n{output.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{endpoint}/_rolegate/health", timeout=1) as response:
                data: dict[str, Any] = json.loads(response.read())
                return data
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"rolegate serve did not become ready:\n{output.read_text(errors='replace')}")
