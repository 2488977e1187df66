"""`rolegate assume` against a live `rolegate serve` on 127.0.0.1 (one per test session), with AWS config files
in a temporary HOME per test."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from assume_support import Home, World, make_home, make_world
from e2e_support import LiveServer, live_server


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("rolegate-assume") / "data") as running:
        yield running


@pytest.fixture(scope="session")
def world(live: LiveServer) -> World:
    return make_world(live)


@pytest.fixture
def home(tmp_path: Path, world: World, monkeypatch: pytest.MonkeyPatch) -> Home:
    """A HOME with alice's keys (profile `alice`) and role profiles; this process's environment points at it
    too, for the tests that call the client in-process."""
    made = make_home(tmp_path / "home", world)
    for name in [n for n in os.environ if n.startswith(("AWS_", "ROLEGATE_"))]:
        monkeypatch.delenv(name)
    for name, value in made.env.items():
        if name.startswith("AWS_") or name == "HOME":
            monkeypatch.setenv(name, value)
    return made
