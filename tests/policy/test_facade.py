"""The facade's public names are pinned: adding or removing one is a deliberate change to this list."""

from __future__ import annotations

import importlib

import pytest

import rolegate.policy

EXPORTED = [
    "CompiledPolicy",
    "Decision",
    "Effect",
    "Gate",
    "GateAnalysis",
    "LoadedRequest",
    "MalformedPolicy",
    "ParseResult",
    "Policy",
    "PolicyError",
    "PolicyKind",
    "PolicySet",
    "Principal",
    "PrincipalKind",
    "RequestContext",
    "Result",
    "Statement",
    "StatementRef",
    "authorize",
    "build_context",
    "compile_policy",
    "explanation",
    "load_request",
    "parse_policy",
    "principal_from_arn",
    "render_explanation",
    "render_json",
    "render_policy",
    "render_text",
    "validate_policy",
]


def test_all_is_the_pinned_sorted_list() -> None:
    assert sorted(EXPORTED) == EXPORTED
    assert list(rolegate.policy.__all__) == EXPORTED


@pytest.mark.parametrize("name", EXPORTED)
def test_each_name_is_importable(name: str) -> None:
    module = importlib.import_module("rolegate.policy")
    value = getattr(module, name)
    assert value is not None
    namespace: dict[str, object] = {}
    exec(f"from rolegate.policy import {name}", namespace)  # the spelling users write
    assert namespace[name] is value
    assert getattr(value, "__module__", "").startswith("rolegate.policy")


def test_star_import_gives_exactly_the_public_names() -> None:
    namespace: dict[str, object] = {}
    exec("from rolegate.policy import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == EXPORTED
