"""TEI XML for the FRUS reader: a tree that knows where each element sits in the file, text as
printed, and the volume's identity from its header.

Safety: no network, no XInclude, and a file that declares a DOCTYPE or entities is refused, so
nothing outside the file is ever read and no entity can expand.
"""

from __future__ import annotations

import bisect
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

from ..errors import CorpusError

COLLECTION = "Foreign Relations of the United States"
URL_BASE = "https://history.state.gov/historicaldocuments"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
FRUS_NS = "http://history.state.gov/frus/ns/1.0"
# Prefixes FRUS files use; a fragment cut from a volume often uses them without declaring them.
KNOWN_PREFIXES = {"frus": FRUS_NS, "xi": "http://www.w3.org/2001/XInclude"}
# Roots a FRUS TEI file or fragment may have: a volume, its text, or a division cut from it.
TEI_ROOTS = {"TEI", "teiCorpus", "text", "body", "group"}
FRAGMENT_DIVS = {"document", "chapter", "compilation"}

# Elements whose text is its own line in print: a space keeps words apart when they are joined.
SPACED = {"p", "ab", "item", "label", "list", "head", "lb", "row", "cell", "table", "l", "lg", "seg"}


# ---------------------------------------------------------------------------------------------
# Parsing with element spans


@dataclass
class Parsed:
    """The element tree of a file, with each element's character span in the file's text."""

    root: ET.Element
    byte_spans: dict[ET.Element, tuple[int, int]]
    continuation_bytes: list[int]  # positions of UTF-8 continuation bytes, to turn bytes into chars
    text: str

    def span(self, element: ET.Element) -> tuple[int, int]:
        """Character offsets (start, end) of an element, its tags included."""
        start, end = self.byte_spans[element]
        return self._char(start), self._char(end)

    def line(self, element: ET.Element) -> int:
        """The 1-based line where an element starts, for error messages."""
        return self.text.count("\n", 0, self.span(element)[0]) + 1

    def _char(self, byte: int) -> int:
        return byte - bisect.bisect_left(self.continuation_bytes, byte)


def parse(path: Path, text: str) -> Parsed:
    """The file's tree with spans; a fragment's undeclared ``frus:``/``xi:`` prefixes are declared.

    Errors (not well-formed, a DOCTYPE, not TEI) raise CorpusError naming the file and line.
    """
    data = text.encode("utf-8")
    try:
        root, spans = _expat_tree(path, data)
    except expat.ExpatError as error:
        if error.code != expat.errors.codes[expat.errors.XML_ERROR_UNBOUND_PREFIX]:
            raise _not_well_formed(path, error) from None
        root, spans = _parse_declaring_prefixes(path, data)
    if not is_tei_root(root):
        raise CorpusError(f"{path}: not a TEI file (its root element is <{local(root)}>, not <TEI>)")
    continuation = [m.start() for m in re.finditer(rb"[\x80-\xbf]", data)]
    return Parsed(root, spans, continuation, text)


def is_tei_root(root: ET.Element) -> bool:
    """A TEI volume, or a FRUS fragment: its text or body, or a document/chapter division."""
    name = local(root)
    return name in TEI_ROOTS or (name == "div" and root.get("type") in FRAGMENT_DIVS)


def _parse_declaring_prefixes(path: Path, data: bytes):
    """Parse again with the known prefixes declared on the root, then shift spans back.

    The declarations go right after the root's name, so every later byte moves by the same
    amount and the spans still point into the file as it is.
    """
    match = re.search(rb"<([A-Za-z_][\w.:-]*)", _after_prolog(data))
    if match is None:
        raise CorpusError(f"{path}: not a TEI file (no root element)")
    at = len(data) - len(_after_prolog(data)) + match.end()
    root_tag = data[at - len(match.group(1)) - 1 : data.index(b">", at)]
    added = b"".join(
        f' xmlns:{prefix}="{uri}"'.encode() for prefix, uri in KNOWN_PREFIXES.items() if f"xmlns:{prefix}=".encode() not in root_tag
    )
    try:
        root, spans = _expat_tree(path, data[:at] + added + data[at:])
    except expat.ExpatError as error:
        raise _not_well_formed(path, error) from None
    shift = len(added)
    moved = {e: (s - shift if s >= at else s, t - shift if t >= at else t) for e, (s, t) in spans.items()}
    return root, moved


def _after_prolog(data: bytes) -> bytes:
    """The bytes from the root element on: the XML declaration, comments and PIs skipped."""
    return re.sub(rb"\A(?:\xef\xbb\xbf|\s+|<\?.*?\?>|<!--.*?-->)*", b"", data, count=1, flags=re.DOTALL)


def _not_well_formed(path: Path, error: expat.ExpatError) -> CorpusError:
    return CorpusError(
        f"{path}: not well-formed XML at line {error.lineno}, column {error.offset + 1}: "
        f"{expat.ErrorString(error.code)}"
    )


def _expat_tree(path: Path, data: bytes):
    """Build the tree with expat directly: ElementTree hides where elements sit in the file."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    spans: dict[ET.Element, tuple[int, int]] = {}
    open_elements: list[tuple[ET.Element, int]] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        element = builder.start(_qualified(name), {_qualified(k): v for k, v in attributes.items()})
        open_elements.append((element, parser.CurrentByteIndex))

    def end(name: str) -> None:
        element, begin = open_elements.pop()
        builder.end(_qualified(name))
        at = parser.CurrentByteIndex
        # expat reports an end tag at its '<', but an empty element ('<pb/>') just after it.
        finish = data.index(b">", at) + 1 if data.startswith(b"</", at) else at
        spans[element] = (begin, finish)

    def refuse(*_args) -> None:
        raise CorpusError(
            f"{path}: line {parser.CurrentLineNumber}: DOCTYPE and ENTITY declarations are refused "
            "(a FRUS volume needs none, and entities could pull in other files)"
        )

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.Parse(data, True)
    return builder.close(), spans


def _qualified(name: str) -> str:
    """expat's 'uri}name' as ElementTree's '{uri}name'."""
    return "{" + name if "}" in name else name


def local(element: ET.Element) -> str:
    """An element's name without its namespace: 'div', 'attachment'."""
    return element.tag.rsplit("}", 1)[-1]


def children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if local(child) == name]


def descendants(element: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in element.iter() if local(e) == name]


def words_only(text: str) -> str:
    """The file's text with tags, comments and a byte-order mark blanked out, same length, so
    offsets still hold."""
    text = " " + text[1:] if text.startswith("\ufeff") else text
    return re.sub(r"<!--.*?-->|<[^>]*>", lambda m: " " * len(m.group(0)), text, flags=re.DOTALL)


def page_number(pb: ET.Element) -> int | None:
    """The printed page of a page break; None for unnumbered or roman front-matter pages."""
    number = (pb.get("n") or "").strip()
    return int(number) if number.isdigit() else None


# ---------------------------------------------------------------------------------------------
# Text


def plain_text(element: ET.Element) -> str:
    """An element's text as printed, whitespace collapsed, footnotes left out.

    Inline elements (persName, gloss, hi, ref, quote, ...) give their text; an inline note
    (``note[@rend="inline"]``) is printed in the text flow, so it stays.
    """
    pieces: list[str] = []
    _collect_text(element, pieces)
    return " ".join("".join(pieces).split())


def _collect_text(element: ET.Element, pieces: list[str], skip: frozenset = frozenset()) -> None:
    pieces.append(element.text or "")
    for child in element:
        name = local(child)
        if (name == "note" and child.get("rend") != "inline") or name in skip:
            pass  # a footnote (its text is elsewhere) or a part read apart: its tail is still ours
        elif name == "choice":
            _collect_text(preferred(child), pieces, skip)
        elif name != "pb":
            spaced = name in SPACED
            pieces.append(" " if spaced else "")
            _collect_text(child, pieces, skip)
            pieces.append(" " if spaced else "")
        pieces.append(child.tail or "")


def text_without(element: ET.Element, skip: set[str]) -> str:
    """`plain_text` leaving out the named child elements (a nested list, say)."""
    pieces: list[str] = []
    _collect_text(element, pieces, frozenset(skip))
    return " ".join("".join(pieces).split())


def preferred(choice: ET.Element) -> ET.Element:
    """Of a ``choice``, the reading printed on the website: corr, reg or expan."""
    options = list(choice)
    for name in ("corr", "reg", "expan"):
        for option in options:
            if local(option) == name:
                return option
    others = [o for o in options if local(o) not in ("sic", "orig", "abbr")]
    return (others or options or [choice])[0]


# ---------------------------------------------------------------------------------------------
# Volume


@dataclass(frozen=True)
class Volume:
    id: str  # "frus1955-57v24"
    title: str  # "Foreign Relations of the United States, 1955–1957, Soviet Union, ..."
    series: str
    short: str  # "FRUS 1955–57, vol. XXIV"


def volume_info(root: ET.Element, path: Path) -> Volume:
    """The volume's identity and titles, from its teiHeader (a fragment's from its file name)."""
    titles: dict[str, str] = {}
    idno = ""
    for element in root.iter():
        name = local(element)
        if name == "title" and element.get("type") and element.get("type") not in titles:
            titles[element.get("type")] = plain_text(element)
        elif name == "idno" and element.get("type") == "frus" and not idno:
            idno = plain_text(element)
        elif name == "text":
            break  # the header is over
    root_id = root.get(XML_ID) if local(root) == "TEI" else None
    volume_id = idno or root_id or _volume_id_from_name(path)
    series = titles.get("series") or COLLECTION
    parts = [series, titles.get("sub-series", ""), titles.get("volume-number", ""), titles.get("volume", "")]
    title = titles.get("complete") or ", ".join(part for part in parts if part)
    return Volume(volume_id, title, series, _volume_short(titles, volume_id))


def _volume_id_from_name(path: Path) -> str:
    """'frus1946v06-d475.xml' -> 'frus1946v06': a fragment is usually named after its volume."""
    match = re.match(r"frus\d{4}(?:-\d{2,4})?[A-Za-z0-9]*", path.stem)
    return match.group(0) if match else path.stem


def _volume_short(titles: dict[str, str], volume_id: str) -> str:
    """'FRUS 1955–57, vol. XXIV' from the sub-series and volume-number titles (else the id)."""
    years, number = titles.get("sub-series", ""), titles.get("volume-number", "")
    if not years:
        match = re.fullmatch(r"frus(\d{4})(?:-(\d{2,4}))?(?:v(\d+))?(?:p(\d+))?([A-Za-z]\w*)?", volume_id)
        if not match:
            return f"FRUS {volume_id}"
        first, last, volume, part, name = match.groups()
        years = f"{first}–{first[:4 - len(last)]}{last}" if last else first
        if volume and not number:
            number = f"Volume {roman(int(volume))}" + (f", Part {int(part)}" if part else "")
        elif name and not number:
            number = name  # 'frus1894Nicaragua' -> 'FRUS 1894, Nicaragua'
    short = f"FRUS {_short_years(years)}"
    if number:
        number = re.sub(r"\bVolume\b", "vol.", number)
        short += ", " + re.sub(r"\bPart\b", "pt.", number)
    return short


def _short_years(years: str) -> str:
    """'1955–1957' -> '1955–57'; a span across centuries keeps both years whole."""
    match = re.fullmatch(r"(\d{4})\s*[–-]\s*(\d{4})", years.strip())
    if not match:
        return years.strip()
    first, last = match.groups()
    return f"{first}–{last[2:]}" if first[:2] == last[:2] else f"{first}–{last}"


def roman(number: int) -> str:
    numerals = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for value, numeral in numerals:
        while number >= value:
            out += numeral
            number -= value
    return out
