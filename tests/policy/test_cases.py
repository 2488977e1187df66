"""Runs the evaluation corpus: every case in tests/policy/cases/**.json is one request and its expectation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rolegate.policy import load_request
from rolegate.policy.decide import authorize

CASES_DIR = Path(__file__).parent / "cases"
MINIMUM_CASES = 300


def _load_cases() -> list[tuple[str, dict[str, Any]]]:
    cases: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(CASES_DIR.rglob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")):
            cases.append((f"{path.relative_to(CASES_DIR).as_posix()}::{case['name']}", case))
    return cases


CASES = _load_cases()


def test_corpus_is_large_and_names_are_unique() -> None:
    names = [case["name"] for _, case in CASES]
    assert len(names) >= MINIMUM_CASES
    assert len(set(names)) == len(names)


def _statement_matches(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    if expected["policy"] != actual["policy"]:
        return False
    if "sid" in expected:
        return bool(expected["sid"] == actual["sid"])
    return bool(expected.get("index") == actual["index"])


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[i for i, _ in CASES])
def test_case(case: dict[str, Any]) -> None:
    loaded = load_request(case)
    assert not loaded.errors, [str(e) for e in loaded.errors]
    assert loaded.context is not None
    assert loaded.policies is not None
    decision = authorize(loaded.context, loaded.policies)
    expected = case["expected"]
    got = decision.to_json()
    assert (got["decision"], got["gate"]) == (expected["decision"], expected["gate"]), got
    if "statement" in expected:
        assert any(_statement_matches(expected["statement"], s) for s in got["statements"]), got
    if expected["decision"] == "ImplicitDeny":
        assert got["statements"] == []
