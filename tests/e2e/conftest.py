"""A live server per test session (state shared; tests use distinct names) on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_support import LiveServer, live_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("rolegate") / "data") as running:
        yield running
