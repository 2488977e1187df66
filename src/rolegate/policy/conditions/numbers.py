"""Numeric operators: values compared as decimals, so `10` equals `10.0`."""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from rolegate.policy.conditions.base import Operator


def parse_number(value: str) -> Decimal | None:
    try:
        number = Decimal(value.strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _tester(compare: Callable[[Decimal, Decimal], bool]) -> Callable[[str, Any], bool]:
    def test(context_value: str, policy_value: Any) -> bool:
        number = parse_number(context_value)
        return number is not None and compare(number, policy_value)

    return test


OPERATORS: tuple[Operator, ...] = (
    Operator("NumericEquals", parse_number, _tester(operator.eq)),
    Operator("NumericNotEquals", parse_number, _tester(operator.eq), negated=True),
    Operator("NumericLessThan", parse_number, _tester(operator.lt)),
    Operator("NumericLessThanEquals", parse_number, _tester(operator.le)),
    Operator("NumericGreaterThan", parse_number, _tester(operator.gt)),
    Operator("NumericGreaterThanEquals", parse_number, _tester(operator.ge)),
)
