"""The XML writer escapes everything it writes; the parser refuses DTDs, entities and oversize input."""

from __future__ import annotations

from collections.abc import Callable
from xml.etree import ElementTree

import pytest

from rolegate.protocol import xml as protocol_xml
from rolegate.protocol.xml import XmlSyntaxError, XmlWriter, escape_attribute, escape_text, parse_xml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<lolz>&lol2;</lolz>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1/x.dtd"> %p;]><r/>"""
BARE_DOCTYPE = b"""<!DOCTYPE r><r/>"""
UTF16_DOCTYPE = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>'.encode("utf-16")


class TestWriter:
    def test_escapes_text_and_attributes(self) -> None:
        writer = XmlWriter()
        with writer.element("Root", {"xmlns": 'https://x/?a=1&b="2"'}):
            writer.leaf("A", "<tag> & 'q' \"d\"")
            writer.leaf("Empty", "")
        body = writer.to_bytes()
        assert body == (
            b'<Root xmlns="https://x/?a=1&amp;b=&quot;2&quot;"><A>&lt;tag&gt; &amp; \'q\' "d"</A><Empty></Empty></Root>'
        )
        assert ElementTree.fromstring(body).tag == '{https://x/?a=1&b="2"}Root'

    def test_carriage_returns_become_character_references(self) -> None:
        assert escape_text("a\r\nb") == "a&#13;\nb"
        original = "x\r\ny\rz"
        assert ElementTree.fromstring("<a>" + escape_text(original) + "</a>").text == original
        assert escape_attribute("a\tb\nc") == "a&#9;b&#10;c"

    def test_characters_xml_cannot_carry_are_replaced(self) -> None:
        assert escape_text("a\x00b\x1bc\ufffe\ud800") == "a\ufffdb\ufffdc\ufffd\ufffd"
        assert escape_text("tab\tok 😀") == "tab\tok 😀"

    def test_names_are_checked_and_nesting_enforced(self) -> None:
        writer = XmlWriter()
        with pytest.raises(ValueError, match="not an XML name"):
            writer.leaf("a b", "x")
        with pytest.raises(ValueError, match="not an XML name"):
            writer.start("x><y")
        writer.start("A")
        with pytest.raises(ValueError, match="closing"):
            writer.end("B")
        with pytest.raises(ValueError, match="unclosed"):
            writer.to_bytes()

    def test_declaration(self) -> None:
        writer = XmlWriter(declaration=True)
        writer.leaf("A", "1")
        assert writer.to_bytes() == b'<?xml version="1.0" encoding="UTF-8"?><A>1</A>'


PARSERS: list[tuple[str, Callable[[bytes], ElementTree.Element]]] = [
    ("parse_xml", parse_xml),
    ("stdlib-expat", protocol_xml._parse_expat),
]


@pytest.mark.parametrize(("label", "parse"), PARSERS, ids=[p[0] for p in PARSERS])
class TestParser:
    def test_parses_namespaced_documents(self, label: str, parse: Callable[[bytes], ElementTree.Element]) -> None:
        root = parse(b'<T xmlns="https://s3.amazonaws.com/doc/2006-03-01/" a="1"><K>v &amp; w</K><E/></T>')
        ns = "{https://s3.amazonaws.com/doc/2006-03-01/}"
        assert root.tag == f"{ns}T"
        assert root.attrib == {"a": "1"}
        assert [(child.tag, child.text) for child in root] == [(f"{ns}K", "v & w"), (f"{ns}E", None)]

    @pytest.mark.parametrize("document", [BILLION_LAUGHS, XXE, PARAMETER_ENTITY, BARE_DOCTYPE, UTF16_DOCTYPE])
    def test_refuses_dtds_and_entities(
        self, label: str, parse: Callable[[bytes], ElementTree.Element], document: bytes
    ) -> None:
        with pytest.raises(XmlSyntaxError):
            parse(document)

    @pytest.mark.parametrize("document", [b"", b"<a>", b"<a></b>", b"not xml", b"<a>&undefined;</a>", b"<a/><b/>"])
    def test_refuses_malformed_documents(
        self, label: str, parse: Callable[[bytes], ElementTree.Element], document: bytes
    ) -> None:
        with pytest.raises(XmlSyntaxError):
            parse(document)


def test_size_cap() -> None:
    with pytest.raises(XmlSyntaxError, match="larger than"):
        parse_xml(b"<a>" + b"x" * 100 + b"</a>", max_bytes=50)
