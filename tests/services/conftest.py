"""Fixtures for service tests: a Services composition over the memory store or a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from services_support import NOW, World

from rolegate.clock import FixedClock
from rolegate.ids import seeded
from rolegate.services.dispatch import Services
from rolegate.store.interface import Store
from rolegate.store.memory import MemoryStore
from rolegate.store.secrets import Sealer
from rolegate.store.sql.store import SqlStore


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Every store the server runs on; PostgreSQL's on the session's server (tests/conftest.py)."""
    made: Store
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "sqlite":
        made = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    else:
        made = SqlStore(request.getfixturevalue("postgres_url"))
    yield made
    made.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def world(store: Store, clock: FixedClock) -> World:
    services = Services(store, Sealer({"k": b"\x07" * 32}, "k"), clock, seeded(7))
    return World(services, clock)
