"""A small escaping XML writer for response bodies, and a parser that refuses DTDs and entity declarations.

The writer escapes `&`, `<`, `>` (and `"` in attributes) and writes carriage returns as `&#13;` so that
XML end-of-line normalisation cannot turn a stored `\\r\\n` into `\\n`. Characters XML 1.0 cannot carry
at all (most C0 controls, unpaired surrogates, U+FFFE/U+FFFF) are replaced by U+FFFD rather than
producing a document no client can parse.

The parser uses defusedxml when it is importable and otherwise drives expat directly with handlers that
reject any DOCTYPE, entity declaration or external entity reference, so entity-expansion and XXE
attacks fail before a tree is built.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import ModuleType
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat

_INVALID_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TEXT_SPECIALS = re.compile("[&<>\r]")
_ATTR_SPECIALS = re.compile('[&<>"\r\n\t]')
_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "\r": "&#13;",
    "\n": "&#10;",
    "\t": "&#9;",
}
_NAME = re.compile(r"[A-Za-z_][\w.:-]*", re.ASCII)
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
DEFAULT_MAX_BYTES = 1024 * 1024


def escape_text(value: str) -> str:
    """Element content: escaped, with characters XML cannot carry replaced by U+FFFD."""
    value = _INVALID_CHARS.sub("\ufffd", value)
    return _TEXT_SPECIALS.sub(lambda m: _ESCAPES[m.group()], value)


def escape_attribute(value: str) -> str:
    """A double-quoted attribute value, escaped (whitespace kept as character references)."""
    value = _INVALID_CHARS.sub("\ufffd", value)
    return _ATTR_SPECIALS.sub(lambda m: _ESCAPES[m.group()], value)


class XmlWriter:
    """Builds a compact XML document; element names are checked, every text and attribute escaped."""

    def __init__(self, declaration: bool = False) -> None:
        self._parts: list[str] = [DECLARATION] if declaration else []
        self._open: list[str] = []

    def start(self, tag: str, attributes: Mapping[str, str] | None = None) -> None:
        attrs = "".join(f' {_checked(k)}="{escape_attribute(v)}"' for k, v in (attributes or {}).items())
        self._parts.append(f"<{_checked(tag)}{attrs}>")
        self._open.append(tag)

    def end(self, tag: str) -> None:
        if not self._open or self._open[-1] != tag:
            raise ValueError(f"closing {tag!r} but {self._open[-1:]!r} is open")
        self._open.pop()
        self._parts.append(f"</{tag}>")

    @contextmanager
    def element(self, tag: str, attributes: Mapping[str, str] | None = None) -> Iterator[None]:
        self.start(tag, attributes)
        yield
        self.end(tag)

    def leaf(self, tag: str, text: str) -> None:
        """`<tag>text</tag>`; an empty text still writes both tags (read back as an empty string)."""
        self._parts.append(f"<{_checked(tag)}>{escape_text(text)}</{tag}>")

    def shape_map(self, tag: str, shape: Any, value: Any, write: Callable[[XmlWriter, str, Any, Any], None]) -> None:
        """A botocore map shape's value as `<entry><key/><value/></entry>` elements (or flattened ones),
        each key and value written by `write(writer, tag, shape, value)` of the calling protocol."""
        if not isinstance(value, Mapping):
            raise TypeError(f"{shape.name} expects a mapping, not {type(value).__name__}")
        key_name = str(shape.key.serialization.get("name", "key"))
        value_name = str(shape.value.serialization.get("name", "value"))
        flattened = bool(shape.serialization.get("flattened"))
        if not flattened:
            self.start(tag)
        for key, item in value.items():
            with self.element(tag if flattened else "entry"):
                write(self, key_name, shape.key, key)
                write(self, value_name, shape.value, item)
        if not flattened:
            self.end(tag)

    def to_bytes(self) -> bytes:
        if self._open:
            raise ValueError(f"unclosed elements: {self._open!r}")
        return "".join(self._parts).encode("utf-8")


def _checked(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"not an XML name: {name!r}")
    return name


class XmlSyntaxError(ValueError):
    """The bytes are not a well-formed, DTD-free XML document (callers map this to their AWS error)."""


def _defusedxml() -> ModuleType | None:
    try:
        return importlib.import_module("defusedxml.ElementTree")
    except ImportError:
        return None


_DEFUSED = _defusedxml()


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ElementTree.Element:
    """Parse an untrusted document; XmlSyntaxError for oversize, malformed or DTD-bearing input."""
    if len(data) > max_bytes:
        raise XmlSyntaxError(f"document larger than {max_bytes} bytes")
    if _DEFUSED is not None:
        return _parse_defused(_DEFUSED, data)
    return _parse_expat(data)


def _parse_defused(module: Any, data: bytes) -> ElementTree.Element:
    defused_base = importlib.import_module("defusedxml").DefusedXmlException
    try:
        root = module.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (defused_base, ElementTree.ParseError) as exc:
        raise XmlSyntaxError(str(exc)) from None
    if not isinstance(root, ElementTree.Element):
        raise XmlSyntaxError("no root element")
    return root


def _refuse(*_: object) -> int:
    raise XmlSyntaxError("DTDs, entity declarations and external entities are not allowed")


def _qualified(name: str) -> str:
    """expat's `uri}local` (namespace_separator="}") as ElementTree's `{uri}local`."""
    return "{" + name if "}" in name else name


def _parse_expat(data: bytes) -> ElementTree.Element:
    builder = ElementTree.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.StartElementHandler = lambda name, attrs: builder.start(
        _qualified(name), {_qualified(k): v for k, v in attrs.items()}
    )
    parser.EndElementHandler = lambda name: builder.end(_qualified(name))
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise XmlSyntaxError(str(exc)) from None
    return builder.close()
