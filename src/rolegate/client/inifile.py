"""Edit one section of an AWS config or credentials file line by line, leaving every other byte (comments,
order, other profiles) as it was; configparser would rewrite the whole file and drop comments."""

from __future__ import annotations

import re
from collections.abc import Mapping

SECTION = re.compile(r"^\s*\[\s*([^\]]*?)\s*\]\s*(?:[#;].*)?$")
KEY = re.compile(r"^([^=\s#;][^=:]*?)\s*[=:]\s*(.*?)\s*$")


def _spans(lines: list[str]) -> dict[str, tuple[int, int]]:
    """Section name -> (header line index, end index exclusive); the first of duplicate sections wins."""
    spans: dict[str, tuple[int, int]] = {}
    current: str | None = None
    start = 0
    for index, line in enumerate(lines):
        match = SECTION.match(line)
        if match:
            if current is not None and current not in spans:
                spans[current] = (start, index)
            current, start = match.group(1), index
    if current is not None and current not in spans:
        spans[current] = (start, len(lines))
    return spans


def read_section(text: str, section: str) -> dict[str, str]:
    lines = text.splitlines()
    span = _spans(lines).get(section)
    values: dict[str, str] = {}
    if span is None:
        return values
    for line in lines[span[0] + 1 : span[1]]:
        match = KEY.match(line)
        if match:
            values.setdefault(match.group(1).strip(), match.group(2))
    return values


def update_section(text: str, section: str, values: Mapping[str, str | None]) -> str:
    """Set the keys given a value, remove those given None, add the section when missing."""
    lines = text.splitlines(keepends=True)
    span = _spans([line.rstrip("\r\n") for line in lines]).get(section)
    if span is None:
        added = [f"{key} = {value}\n" for key, value in values.items() if value is not None]
        if not added:
            return text
        prefix = "" if not text or text.endswith("\n") else "\n"
        gap = "\n" if text.strip() else ""
        return f"{text}{prefix}{gap}[{section}]\n{''.join(added)}"
    head, body, tail = lines[: span[0] + 1], lines[span[0] + 1 : span[1]], lines[span[1] :]
    kept: list[str] = []
    written: set[str] = set()
    skipping = False
    for line in body:
        match = KEY.match(line.rstrip("\r\n"))
        if match:
            key = match.group(1).strip()
            skipping = key in values
            if skipping and key not in written and values[key] is not None:
                kept.append(f"{key} = {values[key]}\n")  # replaced where it was
            written.add(key)
        elif not (line[:1].isspace() and line.strip()):  # an indented line continues the previous value
            skipping = False
        if not skipping:
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    trailing = body[len(body) - _trailing_blank(body) :] if tail else []
    added = [f"{key} = {value}\n" for key, value in values.items() if value is not None and key not in written]
    for block in (head, kept):
        if block and not block[-1].endswith("\n"):
            block[-1] += "\n"
    return "".join(head + kept + added + trailing + tail)


def _trailing_blank(body: list[str]) -> int:
    count = 0
    for line in reversed(body):
        if line.strip():
            break
        count += 1
    return count
