"""S3 XML bodies <-> plain dicts, by walking botocore shapes (no per-operation templates).

Reading is forgiving where S3 is (namespaces are compared by local name; unknown elements are ignored)
and strict where a lenient reader would have to guess: a scalar member given twice, a required member
missing, or text that does not fit the member's type is MalformedXML. The walk follows the shape, not
the document, so its depth is bounded by the model whatever the input nests.

Writing mirrors what botocore's RestXMLParser reads: wrapped lists as `<Name><Member/>…</Name>`,
flattened lists as repeated elements named by the list member's locationName (else the member's),
maps as `<entry><key/><value/></entry>`, `xmlAttribute` members as attributes, `xmlNamespace` as
`xmlns`/`xmlns:prefix`, and timestamps as ISO 8601 with milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree

from rolegate.protocol.models import Shape
from rolegate.protocol.restxml_errors import malformed_xml
from rolegate.protocol.restxml_values import BODY, parse_scalar, scalar_text
from rolegate.protocol.xml import DECLARATION, XmlSyntaxError, XmlWriter, escape_attribute, escape_text, parse_xml

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
_NAME = re.compile(r"[A-Za-z_][\w.-]*", re.ASCII)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def wire_name(shape: Shape, name: str) -> str:
    """The element name of a structure member; a flattened list's items take the list member's name."""
    if shape.type_name == "list" and shape.serialization.get("flattened"):
        return str(shape.member.serialization.get("name", shape.serialization.get("name", name)))
    return str(shape.serialization.get("name", name))


# -- reading ------------------------------------------------------------------------------------------


def read_document(shape: Shape, root_name: str, data: bytes, *, max_bytes: int) -> dict[str, Any]:
    """The dict for an XML payload whose root element must be `root_name`; MalformedXML otherwise."""
    try:
        root = parse_xml(data, max_bytes=max_bytes)
    except XmlSyntaxError:
        raise malformed_xml() from None
    if _local(root.tag) != root_name:
        raise malformed_xml()
    return dict(_read_structure(shape, root))


def _children(element: ElementTree.Element) -> dict[str, list[ElementTree.Element]]:
    grouped: dict[str, list[ElementTree.Element]] = {}
    for child in element:
        if isinstance(child.tag, str):
            grouped.setdefault(_local(child.tag), []).append(child)
    return grouped


def _attribute(element: ElementTree.Element, name: str) -> str | None:
    local = name.rpartition(":")[2]
    for key, value in element.attrib.items():
        if _local(key) == local:
            return value
    return None


def _read_structure(shape: Shape, element: ElementTree.Element) -> dict[str, Any]:
    children = _children(element)
    parsed: dict[str, Any] = {}
    for name, member in shape.members.items():
        if member.serialization.get("xmlAttribute"):
            text = _attribute(element, str(member.serialization.get("name", name)))
            if text is not None:
                parsed[name] = _scalar(member, text)
            continue
        if member.type_name == "list" and member.serialization.get("flattened"):
            items = children.get(wire_name(member, name)) or children.get(str(member.serialization.get("name", name)))
            if items:
                parsed[name] = [_read(member.member, item) for item in items]
            continue
        found = children.get(wire_name(member, name))
        if found:
            if len(found) > 1:
                raise malformed_xml()
            parsed[name] = _read(member, found[0])
    if any(name not in parsed and not _located(shape, name) for name in shape.required_members):
        raise malformed_xml()
    return parsed


def _located(shape: Shape, name: str) -> bool:
    """Members bound to the URI or headers are never in the body, required or not."""
    return bool(shape.members[name].serialization.get("location"))


def _read(shape: Shape, element: ElementTree.Element) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _read_structure(shape, element)
    if kind == "list":
        item_name = str(shape.member.serialization.get("name", "member"))
        return [_read(shape.member, child) for child in _children(element).get(item_name, [])]
    if kind == "map":
        return _read_map(shape, element)
    return _scalar(shape, element.text or "")


def _read_map(shape: Shape, element: ElementTree.Element) -> dict[Any, Any]:
    key_name = str(shape.key.serialization.get("name", "key"))
    value_name = str(shape.value.serialization.get("name", "value"))
    parsed: dict[Any, Any] = {}
    for entry in _children(element).get("entry", []):
        parts = _children(entry)
        keys, values = parts.get(key_name, []), parts.get(value_name, [])
        if len(keys) != 1 or len(values) != 1:
            raise malformed_xml()
        parsed[_read(shape.key, keys[0])] = _read(shape.value, values[0])
    return parsed


def _scalar(shape: Shape, text: str) -> Any:
    try:
        return parse_scalar(shape, text, BODY)
    except ValueError:
        raise malformed_xml() from None


# -- writing ------------------------------------------------------------------------------------------


def write_document(root_name: str, shape: Shape, value: Mapping[str, Any], namespace: str = S3_NAMESPACE) -> bytes:
    """`<?xml …?>\\n<Root xmlns=…>members</Root>`; TypeError/ValueError when the value does not fit."""
    writer = XmlWriter()
    attributes = _attributes(shape, value)
    attributes.setdefault("xmlns", namespace)
    with writer.element(root_name, attributes):
        _write_members(writer, shape, value)
    return _declared(writer)


def write_text_document(root_name: str, text: str | None, namespace: str = S3_NAMESPACE) -> bytes:
    """A root element holding only text (GetBucketLocation's bare `<LocationConstraint>`)."""
    if not _NAME.fullmatch(root_name):
        raise ValueError(f"not an XML name: {root_name!r}")
    element = f'<{root_name} xmlns="{escape_attribute(namespace)}">{escape_text(text or "")}</{root_name}>'
    return (DECLARATION + "\n" + element).encode("utf-8")


def _declared(writer: XmlWriter) -> bytes:
    return (DECLARATION + "\n").encode("utf-8") + writer.to_bytes()


def _namespace(shape: Shape) -> dict[str, str]:
    namespace = shape.serialization.get("xmlNamespace")
    if not namespace:
        return {}
    prefix = namespace.get("prefix")
    return {f"xmlns:{prefix}" if prefix else "xmlns": str(namespace["uri"])}


def _attributes(shape: Shape, value: Any) -> dict[str, str]:
    attributes = _namespace(shape)
    if shape.type_name == "structure" and isinstance(value, Mapping):
        for name, member in shape.members.items():
            if member.serialization.get("xmlAttribute") and value.get(name) is not None:
                attributes[str(member.serialization.get("name", name))] = scalar_text(member, value[name], BODY)
    return attributes


def _write_members(writer: XmlWriter, shape: Shape, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise TypeError(f"{shape.name} expects a mapping, not {type(value).__name__}")
    unknown = set(value) - set(shape.members)
    if unknown:
        raise ValueError(f"{shape.name} has no members {sorted(unknown)!r}")
    for name, member in shape.members.items():
        skip = member.serialization.get("xmlAttribute") or member.serialization.get("location")
        if value.get(name) is not None and not skip:
            write_value(writer, wire_name(member, name), member, value[name])


def write_value(writer: XmlWriter, tag: str, shape: Shape, value: Any) -> None:
    kind = shape.type_name
    if kind == "structure":
        with writer.element(tag, _attributes(shape, value)):
            _write_members(writer, shape, value)
    elif kind == "list":
        _write_list(writer, tag, shape, value)
    elif kind == "map":
        writer.shape_map(tag, shape, value, write_value)
    else:
        writer.leaf(tag, scalar_text(shape, value, BODY))


def _write_list(writer: XmlWriter, tag: str, shape: Shape, value: Any) -> None:
    if not isinstance(value, list | tuple):
        raise TypeError(f"{shape.name} expects a list, not {type(value).__name__}")
    if shape.serialization.get("flattened"):
        for item in value:
            write_value(writer, tag, shape.member, item)
        return
    with writer.element(tag, _namespace(shape) or None):
        for item in value:
            write_value(writer, str(shape.member.serialization.get("name", "member")), shape.member, item)
