"""Validate a parsed input dict against its botocore shape: every violation, in AWS's wording and paths.

Every limit comes from the model (required, min, max, pattern, enum); nothing is typed in by hand.
Paths follow AWS: lowerCamelCase members joined by `.`, list elements as `tags.1.member.key`.
A missing required member is `Value null at 'roleSessionName' failed to satisfy constraint: Member
must not be null` (what STS answers), not a MissingParameter error. Values of shapes marked
`sensitive` are left out of messages (`Value at 'password' …`).

Model patterns are Java regular expressions matched against the whole value. Java's `\\w`, `\\d` and
`\\s` are ASCII-only, so they are compiled with re.ASCII; `\\p{L}`-style Unicode categories, which
Python's re lacks, are expanded into explicit ranges built from unicodedata. String lengths count
UTF-16 code units, as Java's String.length() does.
"""

from __future__ import annotations

import functools
import itertools
import re
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rolegate.errors import ValidationError
from rolegate.protocol.errors import ValidationException
from rolegate.protocol.models import (
    OperationModel,
    Shape,
    error_class,
    format_iso8601,
    model_error,
    service_model,
)

_PROPERTY = re.compile(r"\\p\{(\w+)\}")

# Organizations reports constraint violations as InvalidInputException with one of these Reasons.
_REASON_MESSAGES = {
    "INPUT_REQUIRED": "You must include a value for all required parameters.",
    "MIN_LENGTH_EXCEEDED": "You provided a string parameter that is shorter than allowed.",
    "MAX_LENGTH_EXCEEDED": "You provided a string parameter that is longer than allowed.",
    "MIN_VALUE_EXCEEDED": "You provided a numeric parameter that has a smaller value than allowed.",
    "MAX_VALUE_EXCEEDED": "You provided a numeric parameter that has a larger value than allowed.",
    "INVALID_PATTERN": "You provided a value that does not match the required pattern.",
    "INVALID_ENUM": "You specified an invalid value.",
    "INVALID_LIST_MEMBER": "You provided a list to a parameter that contains at least one invalid value.",
}


@dataclass(frozen=True)
class Violation:
    """One failed constraint: AWS path, offending value (None when missing), constraint text, reason code."""

    path: str
    value: Any
    constraint: str
    reason: str
    sensitive: bool = False

    def message(self) -> str:
        shown = "Value null" if self.value is None else "Value" if self.sensitive else f"Value {_render(self.value)}"
        return f"{shown} at '{self.path}' failed to satisfy constraint: {self.constraint}"


def violations(operation_model: OperationModel, params: Mapping[str, Any]) -> list[Violation]:
    """Every violation in the input, in member order; empty when the input is valid."""
    found: list[Violation] = []
    shape = operation_model.input_shape
    if shape is not None:
        _check(shape, params, "", found)
    return found


def validation_message(found: list[Violation]) -> str:
    """`1 validation error detected: …` / `N validation errors detected: …; …`."""
    noun = "error" if len(found) == 1 else "errors"
    return f"{len(found)} validation {noun} detected: " + "; ".join(v.message() for v in found)


def check_query_input(operation_model: OperationModel, params: Mapping[str, Any]) -> None:
    """Raise ValidationError listing every violation (IAM, STS and other awsQuery services)."""
    found = violations(operation_model, params)
    if found:
        raise ValidationError(validation_message(found))


def check_json_input(operation_model: OperationModel, params: Mapping[str, Any]) -> None:
    """Raise the awsJson service's validation error for the input, if any.

    A service that models InvalidInputException with a Reason (Organizations) gets that, with the
    first violation's reason; others get ValidationException listing every violation.
    """
    found = violations(operation_model, params)
    if not found:
        return
    service = operation_model.service_model.service_name
    reasons = _input_reasons(service)
    if not reasons:
        raise ValidationException(validation_message(found))
    first = found[0]
    reason = "INVALID_LIST_MEMBER" if ".member" in first.path else first.reason
    reason = reason if reason in reasons else first.reason
    raise error_class(service, "InvalidInputException")(_REASON_MESSAGES.get(reason, ""), Reason=reason)


@functools.cache
def _input_reasons(service: str) -> frozenset[str]:
    if model_error(service, "InvalidInputException") is None:
        return frozenset()
    shape = service_model(service).shape_for("InvalidInputException")
    reason = shape.members.get("Reason")
    return frozenset(reason.enum) if reason is not None else frozenset()


def _check(shape: Shape, value: Any, path: str, found: list[Violation]) -> None:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, Mapping):
        _check_structure(shape, value, path, found)
    elif kind == "list" and isinstance(value, list | tuple):
        _check_size(shape, value, len(value), path, found)
        for index, item in enumerate(value, 1):
            _check(shape.member, item, f"{path}.{index}.member", found)
    elif kind == "map" and isinstance(value, Mapping):
        _check_size(shape, value, len(value), path, found)
        for index, (key, item) in enumerate(value.items(), 1):
            _check(shape.key, key, f"{path}.{index}.key", found)
            _check(shape.value, item, f"{path}.{index}.value", found)
    elif kind == "string" and isinstance(value, str):
        _check_string(shape, value, path, found)
    elif kind == "blob" and isinstance(value, bytes):
        _check_size(shape, value, len(value), path, found)
    elif kind in ("integer", "long", "float", "double") and isinstance(value, int | float):
        _check_range(shape, value, path, found)


def _check_structure(shape: Shape, value: Mapping[str, Any], path: str, found: list[Violation]) -> None:
    required = set(shape.required_members)
    for name, member in shape.members.items():
        member_path = f"{path}.{_lower_camel(name)}" if path else _lower_camel(name)
        if value.get(name) is None:
            if name in required:
                found.append(Violation(member_path, None, "Member must not be null", "INPUT_REQUIRED"))
            continue
        _check(member, value[name], member_path, found)


def _check_string(shape: Shape, value: str, path: str, found: list[Violation]) -> None:
    pattern = shape.metadata.get("pattern")
    if pattern is not None and (compiled := compile_pattern(pattern)) is not None and not compiled.fullmatch(value):
        constraint = f"Member must satisfy regular expression pattern: {pattern}"
        found.append(_violation(shape, path, value, constraint, "INVALID_PATTERN"))
    _check_size(shape, value, java_length(value), path, found)
    enum = shape.enum
    if enum and value not in enum:
        constraint = f"Member must satisfy enum value set: [{', '.join(enum)}]"
        found.append(_violation(shape, path, value, constraint, "INVALID_ENUM"))


def _check_size(shape: Shape, value: Any, size: int, path: str, found: list[Violation]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        constraint = f"Member must have length greater than or equal to {low}"
        found.append(_violation(shape, path, value, constraint, "MIN_LENGTH_EXCEEDED"))
    if high is not None and size > high:
        constraint = f"Member must have length less than or equal to {high}"
        found.append(_violation(shape, path, value, constraint, "MAX_LENGTH_EXCEEDED"))


def _check_range(shape: Shape, value: float, path: str, found: list[Violation]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        constraint = f"Member must have value greater than or equal to {low}"
        found.append(_violation(shape, path, value, constraint, "MIN_VALUE_EXCEEDED"))
    if high is not None and value > high:
        constraint = f"Member must have value less than or equal to {high}"
        found.append(_violation(shape, path, value, constraint, "MAX_VALUE_EXCEEDED"))


def _violation(shape: Shape, path: str, value: Any, constraint: str, reason: str) -> Violation:
    return Violation(path, value, constraint, reason, bool(shape.metadata.get("sensitive")))


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def java_length(value: str) -> int:
    """Length in UTF-16 code units (characters beyond the BMP count twice), as AWS's Java services count."""
    return len(value) + sum(1 for char in value if ord(char) > 0xFFFF)


def _render(value: Any) -> str:
    return f"'{_text(value)}'"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_iso8601(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_text(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {_text(item)}" for key, item in value.items()) + "}"
    return str(value)


@functools.cache
def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """A model (Java) pattern as a Python pattern for fullmatch; None if it cannot be translated."""
    try:
        return re.compile(_translate(pattern), re.ASCII)
    except (re.error, KeyError):
        return None


def _translate(pattern: str) -> str:
    """Expand `\\p{X}` into explicit ranges (bracketed outside a character class); keep all else."""
    out: list[str] = []
    index, in_class = 0, False
    while index < len(pattern):
        char = pattern[index]
        prop = _PROPERTY.match(pattern, index) if char == "\\" else None
        if prop is not None:
            ranges = _category_ranges(prop.group(1))
            out.append(ranges if in_class else f"[{ranges}]")
            index = prop.end()
            continue
        step = 2 if char == "\\" else 1
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        out.append(pattern[index : index + step])
        index += step
    return "".join(out)


@functools.cache
def _category_runs() -> dict[str, list[tuple[int, int]]]:
    """Every code point grouped into (first, last) runs per Unicode general category, in one pass."""
    runs: dict[str, list[tuple[int, int]]] = {}
    first = 0
    categories = map(unicodedata.category, map(chr, range(sys.maxunicode + 1)))
    for category, group in itertools.groupby(categories):
        count = sum(1 for _ in group)
        runs.setdefault(category, []).append((first, first + count - 1))
        first += count
    return runs


@functools.cache
def _category_ranges(category: str) -> str:
    """Character-class ranges for a Unicode general category (`L`) or subcategory (`Lu`)."""
    runs = sorted(run for name, found in _category_runs().items() if name.startswith(category) for run in found)
    if not re.fullmatch(r"[A-Z][a-z]?", category) or not runs:
        raise KeyError(category)
    return "".join(f"\\U{first:08x}-\\U{last:08x}" for first, last in runs)
