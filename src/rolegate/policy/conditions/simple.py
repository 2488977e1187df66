"""Bool and BinaryEquals."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from rolegate.policy.conditions.base import Operator


def _bool(value: str) -> str | None:
    lowered = value.strip().lower()
    return lowered if lowered in ("true", "false") else None


def _bool_test(context_value: str, policy_value: Any) -> bool:
    return bool(context_value.strip().lower() == policy_value)


def _binary(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _binary_test(context_value: str, policy_value: Any) -> bool:
    decoded = _binary(context_value)
    return decoded is not None and decoded == policy_value


OPERATORS: tuple[Operator, ...] = (
    Operator("Bool", _bool, _bool_test, variables=True),
    Operator("BinaryEquals", _binary, _binary_test),
)
