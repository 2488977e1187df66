"""Fixtures for service tests: a Services composition, and an S3 world, over each store (`store`, tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from s3_support import S3World, make_world
from services_support import NOW, World

from rolegate.clock import FixedClock
from rolegate.ids import seeded
from rolegate.services.dispatch import Services
from rolegate.store.interface import Store
from rolegate.store.secrets import Sealer


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def s3(store: Store, clock: FixedClock, tmp_path: Path) -> S3World:
    return make_world(store, clock, tmp_path)


@pytest.fixture
def world(store: Store, clock: FixedClock) -> World:
    services = Services(store, Sealer({"k": b"\x07" * 32}, "k"), clock, seeded(7))
    return World(services, clock)
