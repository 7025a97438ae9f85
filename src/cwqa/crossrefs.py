"""Cross-references between documents: which indexed documents a document points to.

Two sources, both from what the readers kept:
- a TEI document's `extra["refs"]`, its `ref[@target]`s already resolved to a volume and a
  document number or page ('#d39', 'frus1952-54v08#pg_954'; `cwqa.readers.tei_links`);
- "See Document 12", "see Documents 83-85 and 87-89" in the text of its passages (footnotes of
  plain-text volumes have no markup; a TEI footnote's words repeat its `ref`, and are counted once).

A reference resolves to an indexed document of the same volume or of another indexed one: by
number, or for a page reference to the document whose printed pages hold that page. What does
not resolve is kept, with its words, so that it can be shown as not indexed.

    referenced_documents(documents) -> {"frus1961-63v05-d60": ["frus1961-63v05-d12", ...], ...}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from .documents import Document, IndexedDocument

AnyDocument = Document | IndexedDocument

# "Document 12", "Documents 83-85 and 87-89", "Documents 12, 14, and 15": a number, a range, or a
# list of either after the word Document(s).
_NUMBER = r"\d{1,4}(?:\s*[-–]\s*\d{1,4})?"
_DOCUMENTS = re.compile(rf"\bDocuments?\s+({_NUMBER}(?:(?:\s*,\s*|\s*,?\s+and\s+){_NUMBER})*)")
# Words before "Document N" in the same sentence that put it in another volume or publication:
# "Foreign Relations, 1961–1963, volume I, Document 23", "vol. VIII, Document 5".
_ELSEWHERE = re.compile(r"\b(?:Foreign Relations|volume|vol\.|Part \d|microfiche|supplement)\b", re.IGNORECASE)
_LONGEST_RANGE = 50  # "Documents 83-85" is a range; "Document 1944-1985" is not one


@dataclass(frozen=True)
class Reference:
    """One cross-reference of a document, resolved to an indexed document when one matches."""

    text: str  # the words that make the reference: 'Document 47', 'footnote 4, Document 99'
    volume: str  # the volume it names ('frus1955-57v24')
    number: int | None = None  # the document number it names, if any
    page: int | None = None  # or the printed page it names
    doc_id: str = ""  # the indexed document it resolves to; '' when none is indexed
    url: str = ""  # where history.state.gov prints it, when known

    @property
    def resolved(self) -> bool:
        return bool(self.doc_id)


def volume_id(document: AnyDocument) -> str:
    """The volume a document belongs to ('frus1961-63v05'), '' for a document of no volume."""
    extra = document.extra or {}
    if extra.get("volume_id"):
        return str(extra["volume_id"])
    match = re.fullmatch(r"(.+)-d\d+", document.id)
    return match.group(1) if match else ""


def _number(document: AnyDocument) -> int | None:
    number = (document.source or {}).get("document")
    return int(number) if isinstance(number, (int, str)) and str(number).isdigit() else None


class Catalogue:
    """The indexed documents by (volume, number) and by printed pages, for resolving references."""

    def __init__(self, documents: Sequence[AnyDocument]):
        self.by_number: dict[tuple[str, int], str] = {}
        self.pages: dict[str, list[tuple[int, int, str]]] = {}
        for document in documents:
            volume, number = volume_id(document), _number(document)
            if not volume or number is None:
                continue  # the persons and terms lists, seeds: nothing refers to them by number
            self.by_number.setdefault((volume, number), document.id)
            pages = (document.source or {}).get("pages")
            if isinstance(pages, list) and len(pages) == 2 and all(isinstance(p, int) for p in pages):
                self.pages.setdefault(volume, []).append((pages[0], pages[1], document.id))

    def find(self, volume: str, number: int | None = None, page: int | None = None) -> str:
        """The indexed document with this number, or the first whose printed pages hold this page."""
        if number is not None:
            return self.by_number.get((volume, number), "")
        if page is not None:
            for first, last, doc_id in sorted(self.pages.get(volume, ())):
                if first <= page <= last:
                    return doc_id
        return ""


def numbers_in(text: str) -> list[tuple[int, str]]:
    """The document numbers a text refers to in its own volume, with the words that say so.

    'See Documents 83-85 and 87-89.' -> [(83, 'Documents 83-85 and 87-89'), (84, ...), ...].
    A number in a sentence that names another volume or publication first is left out: it is
    that volume's number, which the text does not identify well enough to resolve.
    """
    found: list[tuple[int, str]] = []
    for match in _DOCUMENTS.finditer(text):
        before = text[: match.start()]
        sentence = before[max(before.rfind(". "), before.rfind("; "), 0) :]
        if _ELSEWHERE.search(sentence):
            continue
        for part in re.split(r"\s*,\s*|\s*,?\s+and\s+", match.group(1)):
            bounds = [int(n) for n in re.split(r"\s*[-–]\s*", part) if n]
            if len(bounds) == 2 and 0 < bounds[1] - bounds[0] <= _LONGEST_RANGE:
                found.extend((n, match.group(0)) for n in range(bounds[0], bounds[1] + 1))
            elif len(bounds) == 2:
                continue  # "1944-1985": years, not documents
            else:
                found.append((bounds[0], match.group(0)))
    return found


def _texts(document: AnyDocument, texts: Mapping[str, Sequence[str]] | None) -> Iterable[str]:
    if texts is not None and document.id in texts:
        return texts[document.id]
    # An IndexedDocument keeps only how many paragraphs it has: without texts, its refs alone count.
    return [paragraph.text for paragraph in document.paragraphs] if isinstance(document, Document) else []


def document_references(
    document: AnyDocument, catalogue: Catalogue, texts: Mapping[str, Sequence[str]] | None = None
) -> list[Reference]:
    """A document's cross-references in order, each resolved against the catalogue; a document
    referred to twice is listed once (the first reference's words), and never itself.

    `texts` maps document ids to their passages' texts when the documents carry no paragraphs
    (the index's `IndexedDocument`s); a `Document`'s own paragraphs are read otherwise.
    """
    volume = volume_id(document)
    found: list[Reference] = []
    seen: set[tuple] = set()

    def add(reference: Reference) -> None:
        key = (reference.doc_id,) if reference.doc_id else (reference.volume, reference.number, reference.page)
        if reference.doc_id == document.id or key in seen:
            return
        seen.add(key)
        found.append(reference)

    for record in (document.extra or {}).get("refs") or ():
        target_volume = str(record.get("volume") or "")
        number = record.get("document") if isinstance(record.get("document"), int) else None
        page = record.get("page") if isinstance(record.get("page"), int) else None
        if not target_volume or (number is None and page is None):
            continue  # a whole volume or a web address: not a document to open here
        add(Reference(
            text=str(record.get("text") or ""), volume=target_volume, number=number, page=page,
            doc_id=catalogue.find(target_volume, number, page), url=str(record.get("url") or ""),
        ))
    if volume:
        for text in _texts(document, texts):
            for number, words in numbers_in(text):
                add(Reference(text=words, volume=volume, number=number, doc_id=catalogue.find(volume, number)))
    return found


def referenced_documents(
    documents: Sequence[AnyDocument], texts: Mapping[str, Sequence[str]] | None = None
) -> dict[str, list[str]]:
    """For each document that refers to other indexed documents, their ids, in reference order.

    `documents` are the corpus's (`Document`s, whose paragraphs are read for "See Document N", or
    the index's `IndexedDocument`s with `texts`: doc id -> its passages' texts). Documents whose
    references all fail to resolve, or that have none, are absent from the result.
    """
    catalogue = Catalogue(documents)
    graph: dict[str, list[str]] = {}
    for document in documents:
        targets = [ref.doc_id for ref in document_references(document, catalogue, texts) if ref.resolved]
        if targets:
            graph[document.id] = targets
    return graph


def passage_texts(chunks: Iterable) -> dict[str, list[str]]:
    """Doc id -> the texts of its passages (anything with `.doc_id` and `.text`, e.g. the index's
    chunks), the `texts` argument of `referenced_documents` for `IndexedDocument`s."""
    texts: dict[str, list[str]] = {}
    for chunk in chunks:
        texts.setdefault(chunk.doc_id, []).append(chunk.text)
    return texts
