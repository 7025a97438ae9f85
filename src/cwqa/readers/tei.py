"""FRUS TEI reader: a volume of *Foreign Relations of the United States* becomes its documents.

A volume file (the Office of the Historian's TEI edition, e.g. ``frus1955-57v24.xml``) holds
hundreds of ``div[@type="document"]``; each becomes one `Document` whose paragraphs are cited
the way a reader checks them in print::

    FRUS 1955–57, vol. XXIV, doc. 104, ¶9, pp. 244–245
    FRUS 1955–57, vol. XXIV, doc. 104, n. 2, p. 246

What the reader recovers from the markup:

- paragraphs: ``p``, and each ``list/item`` with its printed ``label`` ("9."); items of a list
  nested in a numbered item carry both labels ("1.a.");
- sections: sub-headings ``p[@rend="center"|"flushleft"]``; the title-like lines that open a
  document ("NSC 5607", "STATEMENT OF POLICY ON ...") go to ``extra["header"]`` instead;
  ``frus:attachment`` opens a section named after its ``head``;
- printed pages from ``pb[@n]`` in document order, so a paragraph that crosses a page break
  has both pages, and a document starts on the last page break before it;
- footnotes (``note[@n]``, the source note included) as paragraphs of kind "footnote",
  anchored to the paragraph they hang from and kept out of its text;
- ``start``/``end``: the exact character span of each paragraph's element (``p``, ``item``,
  ``note``) in the file, taken from the XML parser's byte positions.

Safety: no network, no XInclude, and a file that declares a DOCTYPE or entities is refused,
so nothing outside the file is ever read and no entity can expand.
"""

from __future__ import annotations

import bisect
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from ..documents import METADATA, Document, Paragraph, Reading, Span, account, heading_paragraph
from ..errors import CorpusError
from ..text import slug as _slug, unique as _unique
from .source import read_source_text

COLLECTION = "Foreign Relations of the United States"
URL_BASE = "https://history.state.gov/historicaldocuments"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"

HEADING_RENDS = {"center", "flushleft"}
# Elements whose text is its own line in print: a space keeps words apart when they are joined.
SPACED = {"p", "ab", "item", "label", "list", "head", "lb", "row", "cell", "table", "l", "lg", "seg"}
# Containers whose content is paragraphs, never text of their own (see `_has_own_text`).
PARAGRAPH_LIKE = {"p", "ab", "table", "salute", "seg", "l", "lg", "figure", "label"}
META_LISTS = {"subject", "participants"}


def read_volume(path: Path) -> Reading:
    """Read a FRUS TEI volume file: one `Document` per ``div[@type="document"]``, in order.

    Errors (not UTF-8, not well-formed, a DOCTYPE, not TEI, no documents) raise CorpusError
    naming the file and, for XML errors, the line.
    """
    text = read_source_text(path)
    parsed = _parse(path, text)
    volume = _volume_info(parsed.root, path)
    documents = [
        _DocumentReader(div, page, divisions, volume, parsed, path).read()
        for div, page, divisions in _document_divs(parsed.root)
    ]
    if not documents:
        raise CorpusError(f"{path}: no FRUS documents (no <div type=\"document\">) in this TEI file")
    return Reading(documents, account(path, _words_only(text), documents, _kept_spans(parsed)))


def _words_only(text: str) -> str:
    """The file's text with tags and comments blanked out, same length, so offsets still hold."""
    return re.sub(r"<!--.*?-->|<[^>]*>", lambda m: " " * len(m.group(0)), text, flags=re.DOTALL)


def _kept_spans(parsed: "_Parsed") -> list[Span]:
    """What the coverage report counts outside passages: the header, and each document's metadata."""
    spans = []
    for element in parsed.root.iter():
        name = _local(element)
        if name == "teiHeader":
            spans.append(Span(*parsed.span(element), "TEI header"))
        elif name == "div" and element.get("type") == "document":
            spans.append(Span(*parsed.span(element), METADATA))
        elif name in ("front", "back"):
            spans.append(Span(*parsed.span(element), "front matter" if name == "front" else "back matter"))
    return spans


# ---------------------------------------------------------------------------------------------
# Parsing with element spans


@dataclass
class _Parsed:
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


def _parse(path: Path, text: str) -> _Parsed:
    """Build the tree with expat directly: ElementTree hides where elements sit in the file."""
    data = text.encode("utf-8")
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
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise CorpusError(
            f"{path}: not well-formed XML at line {error.lineno}, column {error.offset + 1}: "
            f"{expat.ErrorString(error.code)}"
        ) from None
    root = builder.close()
    if _local(root) != "TEI":
        raise CorpusError(f"{path}: not a TEI file (its root element is <{_local(root)}>, not <TEI>)")
    continuation = [m.start() for m in re.finditer(rb"[\x80-\xbf]", data)]
    return _Parsed(root, spans, continuation, text)


def _qualified(name: str) -> str:
    """expat's 'uri}name' as ElementTree's '{uri}name'."""
    return "{" + name if "}" in name else name


def _local(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child) == name]


# ---------------------------------------------------------------------------------------------
# Volume


@dataclass(frozen=True)
class _Volume:
    id: str  # "frus1955-57v24"
    title: str  # "Foreign Relations of the United States, 1955–1957, Soviet Union, ..."
    series: str
    short: str  # "FRUS 1955–57, vol. XXIV"


def _volume_info(root: ET.Element, path: Path) -> _Volume:
    """The volume's identity and titles, from its teiHeader."""
    titles: dict[str, str] = {}
    idno = ""
    for element in root.iter():
        name = _local(element)
        if name == "title" and element.get("type") and element.get("type") not in titles:
            titles[element.get("type")] = plain_text(element)
        elif name == "idno" and element.get("type") == "frus" and not idno:
            idno = plain_text(element)
        elif name == "text":
            break  # the header is over
    volume_id = idno or root.get(XML_ID) or path.stem
    series = titles.get("series") or COLLECTION
    parts = [series, titles.get("sub-series", ""), titles.get("volume-number", ""), titles.get("volume", "")]
    title = titles.get("complete") or ", ".join(part for part in parts if part)
    return _Volume(volume_id, title, series, _volume_short(titles, volume_id))


def _volume_short(titles: dict[str, str], volume_id: str) -> str:
    """'FRUS 1955–57, vol. XXIV' from the sub-series and volume-number titles (else the id)."""
    years, number = titles.get("sub-series", ""), titles.get("volume-number", "")
    if not years:
        match = re.fullmatch(r"frus(\d{4})(?:-(\d{2,4}))?(?:v(\d+))?(?:p(\d+))?", volume_id)
        if not match:
            return f"FRUS {volume_id}"
        first, last, volume, part = match.groups()
        years = f"{first}–{first[:4 - len(last)]}{last}" if last else first
        if volume and not number:
            number = f"Volume {_roman(int(volume))}" + (f", Part {int(part)}" if part else "")
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


def _roman(number: int) -> str:
    numerals = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for value, numeral in numerals:
        while number >= value:
            out += numeral
            number -= value
    return out


def _document_divs(root: ET.Element):
    """Each document div with the page it starts on and the heads of the divisions around it.

    A document starts on the page of the last ``pb`` before it in document order, which may sit
    inside the previous document: a pre-order walk of the whole tree meets them in that order.
    """
    page: int | None = None
    path: list[tuple[ET.Element, str]] = []  # enclosing compilation/chapter divs and their heads

    def walk(element: ET.Element):
        nonlocal page
        for child in element:
            name = _local(child)
            if name == "pb":
                page = _page_number(child)
            elif name == "div" and child.get("type") == "document":
                yield child, page, [head for _, head in path]
                page = _last_page_in(child, page)
            elif name in ("teiHeader",):
                continue
            else:
                heads = _children(child, "head") if name == "div" else []
                if heads:
                    path.append((child, plain_text(heads[0])))
                yield from walk(child)
                if heads:
                    path.pop()

    yield from walk(root)


def _last_page_in(element: ET.Element, page: int | None) -> int | None:
    for pb in element.iter():
        if _local(pb) == "pb":
            page = _page_number(pb)
    return page


def _page_number(pb: ET.Element) -> int | None:
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


def _collect_text(element: ET.Element, pieces: list[str]) -> None:
    pieces.append(element.text or "")
    for child in element:
        name = _local(child)
        if name == "note" and child.get("rend") != "inline":
            pass  # a footnote: its text is elsewhere, its tail below is still ours
        elif name == "choice":
            _collect_text(_preferred(child), pieces)
        elif name != "pb":
            spaced = name in SPACED
            pieces.append(" " if spaced else "")
            _collect_text(child, pieces)
            pieces.append(" " if spaced else "")
        pieces.append(child.tail or "")


def _preferred(choice: ET.Element) -> ET.Element:
    """Of a ``choice``, the reading printed on the website: corr, reg or expan."""
    options = list(choice)
    for name in ("corr", "reg", "expan"):
        for option in options:
            if _local(option) == name:
                return option
    others = [o for o in options if _local(o) not in ("sic", "orig", "abbr")]
    return (others or options or [choice])[0]


def _is_heading(element: ET.Element, text: str) -> bool:
    """A ``p[@rend="center"|"flushleft"]`` used as a heading.

    Not a heading: a salutation ('Dear Foster:'), a bracketed editorial line ('[Here follows
    ...]'), or a long line; those are printed paragraphs that happen to be centred.
    """
    return (
        element.get("rend") in HEADING_RENDS
        and 0 < len(text) <= 200
        and not text.endswith(":")
        and not text.startswith("[")
    )


# ---------------------------------------------------------------------------------------------
# Documents


@dataclass
class _Draft:
    """A paragraph being read: where its text goes while the walk is inside its element."""

    kind: str  # "body", "footnote", or "meta" (text kept as metadata, never a paragraph)
    element: ET.Element | None
    label: str = ""
    section: tuple[str, str] = ("body", "")  # section id, section title
    anchor: _Draft | None = None
    pieces: list[str] = field(default_factory=list)
    first_page: int | None = None
    last_page: int | None = None

    @property
    def text(self) -> str:
        return " ".join("".join(self.pieces).split())


@dataclass
class _Container:
    """The document itself or one of its attachments: its title lines, closers and datelines."""

    title: str = ""
    started: bool = False  # has a paragraph been read in it yet
    header: list[str] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    closers: list[str] = field(default_factory=list)
    datelines: list[ET.Element] = field(default_factory=list)
    lists: dict[str, list[str]] = field(default_factory=dict)  # "subject", "participants"


class _DocumentReader:
    """Reads one ``div[@type="document"]`` in document order, keeping track of the printed page."""

    def __init__(self, div, page, divisions, volume: _Volume, parsed: _Parsed, path: Path):
        self.div = div
        self.page = page
        self.divisions = divisions
        self.volume = volume
        self.parsed = parsed
        self.path = path
        self.number = (div.get("n") or "").strip()
        self.xml_id = div.get(XML_ID) or (f"d{self.number}" if self.number else "")
        if not self.xml_id:
            raise CorpusError(f'{path}: line {parsed.line(div)}: a <div type="document"> has neither n nor xml:id')
        self.doc_id = f"{volume.id}-d{self.number}" if self.number else f"{volume.id}-{self.xml_id}"
        self.drafts: list[_Draft] = []
        self.footnotes: list[_Draft] = []
        self.pending_headings: list[str] = []
        self.section: tuple[str, str] = ("body", "")
        self.section_ids: dict[str, str] = {}  # slug -> section title that owns it
        self.document = _Container()
        self.container = self.document
        self.attachments: list[_Container] = []
        self.text_pages: list[int] = []
        self.head: tuple[ET.Element, int | None] | None = None  # the <head> and the page it is on

    # -- the walk ------------------------------------------------------------------------------

    def read(self) -> Document:
        """The `Document`: metadata from head and dateline, paragraphs from the rest."""
        heads = _children(self.div, "head")
        title = ""
        for child in self.div:  # in order, so a page break before the head counts for it
            if heads and child is heads[0]:
                title = self._meta_text(child)
                self.head = (child, self.page)
            else:
                self._block(child)
        self.container.header.extend(self.pending_headings)
        return self._document(title)

    def _block(self, element: ET.Element) -> None:
        """An element at paragraph level: a paragraph, a heading, a list, or a container."""
        name = _local(element)
        if name == "pb":
            self.page = _page_number(element)
        elif name == "head":
            self._heading(element)
        elif name == "p" and _is_heading(element, plain_text(element)):
            self._heading(element)
        elif name == "list":
            self._list(element, "")
        elif name == "dateline":
            self._meta_text(element)
            self.container.datelines.append(element)
        elif name == "closer":
            self._closer(element)
        elif name == "attachment":
            self._attachment(element)
        elif name == "note":
            self._footnote(element, self.drafts[-1] if self.drafts else None)  # between paragraphs
        elif name in PARAGRAPH_LIKE or _has_own_text(element):
            self._paragraph(element, "")
        else:  # opener, quote, postscript, div, ...: their children are paragraphs
            for child in element:
                self._block(child)

    def _list(self, element: ET.Element, prefix: str) -> None:
        """A list: each item a paragraph labelled by the ``label`` before it (prefixed when nested)."""
        if element.get("type") in META_LISTS:
            # A memo's SUBJECT line and its list of participants describe it; they are not prose.
            self._meta_text(element)
            items = [plain_text(item) for item in _children(element, "item")]
            self.container.lists.setdefault(element.get("type"), []).extend(i for i in items if i)
            return
        label = ""
        for child in element:
            name = _local(child)
            if name == "label":
                label = plain_text(child)
            elif name == "item":
                self._paragraph(child, prefix + label)
                label = ""
            else:
                self._block(child)

    def _paragraph(self, element: ET.Element, label: str) -> _Draft:
        self._open_section()
        draft = _Draft("body", element, label, self.section)
        self.drafts.append(draft)
        self._inline(element, draft)
        return draft

    def _inline(self, element: ET.Element, draft: _Draft) -> None:
        """Text of an element into `draft`; notes, page breaks and nested lists are handled apart."""
        self._add(draft, element.text)
        for child in element:
            name = _local(child)
            if name == "pb":
                self.page = _page_number(child)
            elif name == "note" and child.get("rend") != "inline" and draft.kind != "footnote":
                self._footnote(child, draft if draft.kind == "body" else None)
            elif name == "list" and draft.kind == "body":
                self._list(child, draft.label)  # its items are paragraphs of their own
            elif name == "choice":
                self._inline(_preferred(child), draft)
            else:
                spaced = name in SPACED
                draft.pieces.append(" " if spaced else "")
                self._inline(child, draft)
                draft.pieces.append(" " if spaced else "")
            self._add(draft, child.tail)

    def _add(self, draft: _Draft, text: str | None) -> None:
        """Append text, noting the page it is printed on (a page counts once it has text)."""
        if not text:
            return
        draft.pieces.append(text)
        if text.strip() and self.page is not None:
            draft.first_page = draft.first_page if draft.first_page is not None else self.page
            draft.last_page = self.page
            self.text_pages.append(self.page)

    def _footnote(self, element: ET.Element, anchor: _Draft | None) -> None:
        label = (element.get("n") or "").strip()
        if element.get("type") == "source" and label in ("", "0"):
            label = "source"  # an unnumbered source note
        draft = _Draft("footnote", element, label, ("footnotes", "Footnotes"), anchor)
        self.footnotes.append(draft)
        self._inline(element, draft)

    def _meta_text(self, element: ET.Element) -> str:
        """Text kept as metadata (title, dateline, closer); its notes still become footnotes."""
        draft = _Draft("meta", element)
        self._inline(element, draft)
        return draft.text

    # -- sections, closers, attachments --------------------------------------------------------

    def _heading(self, element: ET.Element) -> None:
        text = self._meta_text(element)
        if _slug(text):  # an ornament ('* * *') is not a heading
            self.pending_headings.append(text)

    def _open_section(self) -> None:
        """Headings waiting for a paragraph become its section.

        Before a container's first paragraph, all but the last heading are title lines
        ('NSC 5607', 'STATEMENT OF POLICY ON ...'): they go to the header, not the body.
        """
        if self.pending_headings:
            lead, last = self.pending_headings[:-1], self.pending_headings[-1]
            if not self.container.started:
                self.container.header.extend(lead)
                lead = []
            self._set_section(" — ".join(lead + [last]))
            self.pending_headings = []
        self.container.started = True

    def _set_section(self, heading: str) -> None:
        title = f"{self.container.title} — {heading}" if self.container.title and heading else (
            heading or self.container.title
        )
        slug = _slug(title) or "body"
        base, n = slug, 1
        while self.section_ids.get(slug, title) != title:  # a new section with a used name
            n += 1
            slug = f"{base}-{n}"
        self.section_ids[slug] = title
        self.section = (slug, title)

    def _closer(self, element: ET.Element) -> None:
        text = self._meta_text(element)
        signed = [plain_text(s) for s in element.iter() if _local(s) == "signed"]
        self.container.signatures.extend(s for s in signed if s)
        if text and text != " ".join(signed):
            self.container.closers.append(text)
        for dateline in (d for d in element.iter() if _local(d) == "dateline"):
            self.container.datelines.append(dateline)

    def _attachment(self, element: ET.Element) -> None:
        """An attachment's paragraphs form a section named after its head."""
        heads = _children(element, "head")
        outer, outer_section = self.container, self.section
        self.container = _Container(title=self._meta_text(heads[0]) if heads else "Attachment")
        self.attachments.append(self.container)
        self.pending_headings = []
        self._set_section("")
        for child in element:
            if not (heads and child is heads[0]):
                self._block(child)
        self.container.header.extend(self.pending_headings)
        self.pending_headings = []
        self.container, self.section = outer, outer_section

    # -- the result ----------------------------------------------------------------------------

    def _document(self, title: str) -> Document:
        paragraphs = self._paragraphs()
        heading = self._heading_paragraph(title)
        if heading is not None:
            paragraphs.insert(0, heading)
        pages = [self.text_pages[0], max(self.text_pages)] if self.text_pages else None
        date, place = self._date_and_place()
        source = {
            "series": self.volume.series,
            "volume": self.volume.title,
            # Left empty so format_citation adds no '— FRUS ..., doc. n' tail: citation_name
            # already opens with it. The value is in extra["volume_short"].
            "volume_short": "",
            "document": int(self.number) if self.number.isdigit() else self.number,
            "url": f"{URL_BASE}/{self.volume.id}/{self.xml_id}",
        }
        if pages:
            source["pages"] = pages
        number = source["document"]
        return Document(
            id=self.doc_id,
            title=title,
            citation_name=f"{self.volume.short}, doc. {number}" if number != "" else self.volume.short,
            path=self.path,
            paragraphs=tuple(paragraphs),
            date=date,
            place=place,
            collection=COLLECTION,
            source=source,
            extra=self._extra(number),
        )

    def _heading_paragraph(self, title: str) -> Paragraph | None:
        """The printed heading as a passage of its own, as the text reader keeps it: "104.
        National Security Council Report / NSC 5607 / ... / Washington, June 29, 1956." answers
        who wrote to whom, and when. An editorial note's heading says nothing: none for it."""
        if self.head is None or not title or self.div.get("subtype") == "editorial-note":
            return None
        element, page = self.head
        dateline = " ".join(plain_text(d) for d in self.document.datelines[:1])
        if dateline.rstrip(". ") in title:
            dateline = ""  # a memorandum's title often carries it already
        text = " / ".join(line for line in [title, *self.document.header, dateline] if line.strip())
        page = page or (self.text_pages[0] if self.text_pages else None)
        return heading_paragraph(self.doc_id, text, page, self.parsed.span(element))

    def _date_and_place(self) -> tuple[str, str]:
        """ISO date from the dateline, else from the document's date range.

        An editorial note's range spans the whole volume: it is no date, so it stays empty.
        """
        when, place = "", ""
        for dateline in self.document.datelines:
            for element in dateline.iter():
                if _local(element) == "date" and element.get("when") and not when:
                    when = element.get("when")
                elif _local(element) == "placeName" and not place:
                    place = plain_text(element)
        if when:
            return when[:10], place
        if self.div.get("subtype") == "editorial-note":
            return "", place
        low = self.div.get("{http://history.state.gov/frus/ns/1.0}doc-dateTime-min", "")
        return low[:10], place

    def _extra(self, number) -> dict:
        extra = {
            "volume_id": self.volume.id,
            "volume_title": self.volume.title,
            "volume_short": self.volume.short,
            "doc_number": number,
            "xml_id": self.xml_id,
            "subtype": self.div.get("subtype", ""),
            "source_note": next((f.text for f in self.footnotes if f.element.get("type") == "source"), ""),
            "footnote_count": len(self.footnotes),
            "divisions": self.divisions,
        }
        container = self.document
        datetimes = [d.get("when") for dl in container.datelines for d in dl.iter() if _local(d) == "date"]
        optional = {
            "header": container.header,
            "subject": "; ".join(container.lists.get("subject", [])),
            "participants": container.lists.get("participants", []),
            "dateline": " ".join(plain_text(d) for d in container.datelines[:1]),
            "datetime": next((w for w in datetimes if w), ""),
            "signature": "; ".join(container.signatures),
            "closer": container.closers,
            "attachments": [_attachment_record(a) for a in self.attachments],
        }
        extra.update({key: value for key, value in optional.items() if value})
        return extra

    def _paragraphs(self) -> list[Paragraph]:
        """Body paragraphs in document order, then the footnotes; ids stable and unique."""
        body = [d for d in self.drafts if d.text]
        counts: dict[str, int] = {}
        for draft in body:
            counts[draft.label] = counts.get(draft.label, 0) + 1
        ids: dict[int, str] = {}
        paragraphs: list[Paragraph] = []
        used: dict[str, int] = {}
        positions: dict[str, int] = {}
        for draft in body:
            section_id, section_title = draft.section
            key = _slug(draft.label)
            if not key:
                # Unlabeled paragraphs are cited by their place among the section's paragraphs.
                positions[section_id] = positions.get(section_id, 0) + 1
                key = f"p{positions[section_id]}"
            paragraph_id, repeat = _unique(f"{self.doc_id}/{section_id}/{key}", used)
            ids[id(draft)] = paragraph_id
            # A label found once in the document identifies its paragraph alone ('¶9'); else
            # the section title is cited with it ('Recommendation ¶1', 'Summary para. 2').
            unique_label = bool(draft.label) and counts[draft.label] == 1
            section_label = "" if unique_label else section_title
            paragraphs.append(self._paragraph_record(draft, paragraph_id, section_label, len(paragraphs) + 1, repeat))
        for n, draft in enumerate(self.footnotes, start=1):
            paragraph_id, _ = _unique(f"{self.doc_id}/fn-{_slug(draft.label) or n}", used)
            anchor = ids.get(id(draft.anchor)) if draft.anchor is not None else None
            paragraphs.append(self._paragraph_record(draft, paragraph_id, "", len(paragraphs) + 1, 1, anchor))
        return paragraphs

    def _paragraph_record(self, draft, paragraph_id, section_label, ordinal, repeat, anchor=None) -> Paragraph:
        start, end = self.parsed.span(draft.element)
        return Paragraph(
            id=paragraph_id,
            doc_id=self.doc_id,
            section_id=draft.section[0],
            section_label=section_label,
            section_title=draft.section[1],
            label=draft.label,
            ordinal=ordinal,
            text=draft.text,
            first_page=draft.first_page,
            last_page=draft.last_page,
            start=start,
            end=end,
            kind=draft.kind,
            anchor_id=anchor,
            series_note={1: "", 2: "second list", 3: "third list"}.get(repeat, f"list {repeat}"),
        )


def _has_own_text(element: ET.Element) -> bool:
    """Mixed content (text beside or between its children) is a paragraph, not a container."""
    if (element.text or "").strip():
        return True
    return any((child.tail or "").strip() for child in element)


def _attachment_record(attachment: _Container) -> dict:
    record = {
        "title": attachment.title,
        "header": attachment.header,
        "signature": "; ".join(attachment.signatures),
        "dateline": " ".join(plain_text(d) for d in attachment.datelines[:1]),
    }
    return {key: value for key, value in record.items() if value or key == "title"}
