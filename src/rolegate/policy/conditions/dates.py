"""Date operators: W3C ISO-8601 dates/times or epoch seconds, compared as instants (UTC when no offset)."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rolegate.policy.conditions.base import Operator

_EPOCH = re.compile(r"^-?\d+(\.\d+)?$")


def parse_instant(value: str) -> float | None:
    text = value.strip()
    if _EPOCH.match(text):
        return float(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _tester(compare: Callable[[float, float], bool]) -> Callable[[str, Any], bool]:
    def test(context_value: str, policy_value: Any) -> bool:
        instant = parse_instant(context_value)
        return instant is not None and compare(instant, policy_value)

    return test


OPERATORS: tuple[Operator, ...] = (
    Operator("DateEquals", parse_instant, _tester(operator.eq)),
    Operator("DateNotEquals", parse_instant, _tester(operator.eq), negated=True),
    Operator("DateLessThan", parse_instant, _tester(operator.lt)),
    Operator("DateLessThanEquals", parse_instant, _tester(operator.le)),
    Operator("DateGreaterThan", parse_instant, _tester(operator.gt)),
    Operator("DateGreaterThanEquals", parse_instant, _tester(operator.ge)),
)
