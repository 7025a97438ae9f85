"""FRUS TEI reader: a volume of *Foreign Relations of the United States* becomes its documents.

A volume file (the Office of the Historian's TEI edition, e.g. ``frus1955-57v24.xml``) holds
hundreds of ``div[@type="document"]`` inside compilations and chapters, after front matter (a
preface, a table of contents, lists of sources, abbreviations and persons) and before an index.
`read_volume` gives:

- one `Document` per document div, in order, cited as printed ('FRUS 1955–57, vol. XXIV, doc.
  104, ¶9, pp. 244–245'; see `tei_document`), with its chapter and compilation, the people and
  terms it mentions, sender, recipient, classification and cross-references in ``extra``;
- the List of Persons and the List of Abbreviations and Terms as Documents of cited entries
  (see `tei_lists`);
- a `Coverage` that accounts for every word of the file: in a passage, in a document's metadata
  (head, dateline, closer, ...), skipped with a reason (TEI header, preface, table of contents,
  back-of-book index, ...), or lost, the first lost words named.

Fragments are read too: a document or chapter div cut from a volume, even one that uses the
``frus:`` prefix without declaring it. Parsing and safety: see `tei_xml`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ..documents import METADATA, Document, Reading, Span, account
from ..errors import CorpusError
from . import tei_lists
from .source import read_source_text
from .tei_document import DocumentReader, Place
from .tei_xml import (
    COLLECTION,
    URL_BASE,
    children,
    local,
    page_number,
    parse,
    plain_text,
    volume_info,
    words_only,
)

__all__ = ["COLLECTION", "URL_BASE", "plain_text", "read_volume"]

TEI_HEADER = "TEI header"


def read_volume(path: Path) -> Reading:
    """Read a FRUS TEI volume (or fragment) file: its documents, lists, and word coverage.

    Errors (not UTF-8, not well-formed, a DOCTYPE, not TEI, no documents) raise CorpusError
    naming the file and, for XML errors, the line.
    """
    text = read_source_text(path)
    parsed = parse(path, text)
    volume = volume_info(parsed.root, path)
    walk = _Walk()
    walk.run(parsed.root)
    documents: list[Document] = []
    spans = [Span(*parsed.span(e), TEI_HEADER) for e in parsed.root.iter() if local(e) == "teiHeader"]
    spans += [Span(*parsed.span(head), METADATA) for head in walk.heads]
    for place in walk.places:
        document, kept = DocumentReader(place, volume, parsed, path).read()
        documents.append(document)
        spans += kept
    if not documents:
        raise CorpusError(f'{path}: no FRUS documents (no <div type="document">) in this TEI file')
    lists, matter = tei_lists.read_matter(parsed.root, volume, parsed, path)
    documents = lists + documents
    return Reading(documents, account(path, words_only(text), documents, spans + matter))


class _Walk:
    """Finds the document divs in document order, with the page each starts on and the heads of
    the divisions around it.

    A document starts on the page of the last ``pb`` before it in document order, which may sit
    inside the previous document: a pre-order walk of the whole tree meets them in that order.
    A note on a division's head (a chapter's "Continued from ...") is handed to the next
    document, whose first note it is on history.state.gov; unclaimed, it is lost.
    """

    def __init__(self) -> None:
        self.page: int | None = None
        self.path: list[tuple[str, str]] = []  # (type, head) of the enclosing divisions
        self.places: list[Place] = []
        self.heads: list[ET.Element] = []  # division heads: kept as metadata (extra["chapter"])
        self.notes: list[tuple[ET.Element, int | None, ET.Element]] = []  # (note, page, division)

    def run(self, root: ET.Element) -> None:
        """Walk from the root: a volume, or a fragment (a document or chapter div, a body)."""
        self._visit(root)

    def _walk(self, element: ET.Element) -> None:
        for child in element:
            self._visit(child)

    def _visit(self, child: ET.Element) -> None:
        name = local(child)
        if name == "pb":
            self.page = page_number(child)
        elif name in ("front", "back"):
            self.page = _last_page_in(child, self.page)  # read apart: see tei_lists
        elif name == "div" and child.get("type") == "document":
            notes = [(note, page) for note, page, _ in self.notes]
            self.places.append(Place(child, self.page, list(self.path), notes))
            self.notes = []
            self.page = _last_page_in(child, self.page)
        elif name == "div":
            self._division(child)
        elif name != "teiHeader":
            self._walk(child)

    def _division(self, div: ET.Element) -> None:
        """A compilation, chapter or other division: its head names it for the documents inside."""
        heads = children(div, "head")
        if not heads:
            self._walk(div)
            return
        self.path.append((div.get("type", ""), plain_text(heads[0])))
        for child in div:
            if child is heads[0]:
                self.heads.append(child)
                notes = [n for n in child.iter() if local(n) == "note" and n.get("rend") != "inline"]
                self.notes += [(note, self.page, div) for note in notes]
            else:
                self._visit(child)
        self.notes = [entry for entry in self.notes if entry[2] is not div]  # no document took them
        self.path.pop()


def _last_page_in(element: ET.Element, page: int | None) -> int | None:
    for pb in element.iter():
        if local(pb) == "pb":
            page = page_number(pb)
    return page
