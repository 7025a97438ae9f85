"""The nouns of the corpus: `Paragraph`, `Document`, how they are cited, and what a reader kept.

Every reader (plain text, FRUS plain-text volumes, FRUS TEI) turns a file into these, plus a
`Coverage` record that accounts for every word of the file: in a passage, in a document's
metadata, or skipped with a reason. Nothing is lost without the user being told.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import QueryError
from .text import WORD, normalise


@dataclass(frozen=True)
class Paragraph:
    """One paragraph as printed, with everything needed to cite it and to find it in its file."""

    id: str  # stable: "long-telegram/part-3/b"
    doc_id: str
    section_id: str  # "part-3", "policy-conclusions"
    section_label: str  # as cited: "Part 3", "Policy Conclusions"
    section_title: str  # as displayed: "Part 3: Projection of Soviet Outlook ..."
    label: str  # as printed: "(b)", "1.", "9"; "" when the paragraph has none
    ordinal: int  # 1-based position among the document's paragraphs
    text: str
    first_page: int | None
    last_page: int | None
    start: int  # character offsets of the paragraph's span in the source file
    end: int
    kind: str = "body"  # "body", "heading" (the printed title lines), "footnote" or "source-note"
    anchor_id: str | None = None  # for a footnote: the paragraph it hangs from
    series_note: str = ""  # "second list" when a label repeats within its section


@dataclass(frozen=True)
class Document:
    """A document of the corpus: its metadata, its paragraphs, and the file it was read from."""

    id: str
    title: str
    citation_name: str  # how citations open: 'Kennan, "Long Telegram", 22 Feb 1946'
    path: Path
    paragraphs: tuple[Paragraph, ...]
    author: str = ""
    date: str = ""  # ISO 8601, as precise as known
    place: str = ""
    collection: str = ""
    source: dict = field(default_factory=dict)  # printed source: volume, document, pages, url
    extra: dict = field(default_factory=dict)  # signature, source note, header lines, ...

    @property
    def url(self) -> str:
        """Where the printed document can be read online, if known."""
        return self.source.get("url", "")


# ---------------------------------------------------------------------------------------------
# Citations


def format_pages(first: int | None, last: int | None) -> str:
    """'p. 245' or 'pp. 244–245'; empty when the pages are unknown."""
    if first is None:
        return ""
    if last is None or last == first:
        return f"p. {first}"
    return f"pp. {first}–{last}"


def heading_paragraph(doc_id: str, text: str, page: int | None, span: tuple[int, int], last_page: int | None = None) -> Paragraph:
    """A document's printed heading lines as its first passage ('{doc_id}/heading', ordinal 0).

    Every reader keeps one: "The Chargé in Moscow (Kennan) to the Secretary of State" answers
    who wrote to whom, which no body paragraph says.
    """
    return Paragraph(
        id=f"{doc_id}/heading", doc_id=doc_id, section_id="heading", section_label="Heading",
        section_title="Heading", label="", ordinal=0, text=text,
        first_page=page, last_page=last_page if last_page is not None else page,
        start=span[0], end=span[1], kind="heading",
    )


def paragraph_mark(paragraph: Paragraph) -> str:
    """How a paragraph is named inside its section: '¶(b)', '¶9', or 'para. 3' when unlabeled."""
    if paragraph.label:
        mark = "¶" + paragraph.label.rstrip(".")
    else:
        mark = f"para. {section_position(paragraph)}"
    if paragraph.series_note:
        mark += f" ({paragraph.series_note})"
    return mark


def section_position(paragraph: Paragraph) -> int:
    """1-based position of a paragraph in its section, encoded in its id for unlabeled ones."""
    tail = paragraph.id.rsplit("/", 1)[-1]
    match = re.fullmatch(r"p(\d+)", tail)
    return int(match.group(1)) if match else paragraph.ordinal


ENTRY_KINDS = ("person", "term")  # a List of Persons or List of Abbreviations entry (readers/tei_lists)


def format_citation(document: Document, paragraph: Paragraph) -> str:
    """A citation a reader can check in print.

    'Kennan, "Long Telegram", 22 Feb 1946, Part 3 ¶(b), pp. 696–709 — FRUS 1946, vol. VI, doc. 475'
    'FRUS 1955–57, vol. XXIV, List of Persons, Dulles, John Foster, p. xiii' (an entry: the volume's
    front matter is cited as the volume, the list and the name printed there)
    """
    printed = document.source.get("volume_short", "")
    if paragraph.kind in ENTRY_KINDS:
        pages = format_pages(paragraph.first_page, paragraph.last_page)
        return ", ".join(part for part in (printed, document.citation_name, paragraph.section_label, pages) if part)
    where = [document.citation_name]
    if paragraph.kind == "footnote":
        where.append(f"n. {paragraph.label}" if paragraph.label else "note")
    elif paragraph.kind == "source-note":
        where.append("source note")
    elif paragraph.kind == "heading":
        where.append("heading")
    else:
        section = paragraph.section_label
        where.append(f"{section} {paragraph_mark(paragraph)}".strip())
    pages = format_pages(paragraph.first_page, paragraph.last_page)
    if pages:
        where.append(pages)
    citation = ", ".join(part for part in where if part)
    if printed:
        number = document.source.get("document")
        citation += f" — {printed}" + (f", doc. {number}" if number else "")
    return citation


# ---------------------------------------------------------------------------------------------
# Accounting for every word of a file

PASSAGE, METADATA = "passage", "metadata"
LOST_WARNING = 0.99  # a file with less of its body in passages and metadata is a warning


@dataclass(frozen=True)
class Span:
    """A stretch of a source file and where its words went: 'passage', 'metadata', or a skip reason."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Coverage:
    """Where every word of one source file ended up."""

    path: str
    documents: int
    passages: int  # paragraphs read (before chunking)
    source_words: int
    passage_words: int
    metadata_words: int
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> words
    lost_words: int = 0
    first_lost: str = ""  # the opening words of the first stretch that went nowhere
    guessed: tuple[str, ...] = ()  # what the reader had to guess ("title from the first heading")

    @property
    def body_words(self) -> int:
        """Words that should be in passages or metadata: everything not skipped with a reason."""
        return self.source_words - sum(self.skipped.values())

    @property
    def kept_share(self) -> float:
        """Share of the body in passages or metadata."""
        body = self.body_words
        return 1.0 if body <= 0 else (self.passage_words + self.metadata_words) / body

    def warning(self) -> str | None:
        """A one-line warning when less than 99% of the body was kept, naming the first lost span."""
        if self.kept_share >= LOST_WARNING:
            return None
        return (
            f"{self.path}: only {self.kept_share:.1%} of the body's words are in passages or metadata; "
            f"{self.lost_words} words were lost, the first at: {self.first_lost!r}"
        )

    def to_dict(self) -> dict:
        return {
            "path": self.path, "documents": self.documents, "passages": self.passages,
            "source_words": self.source_words, "passage_words": self.passage_words,
            "metadata_words": self.metadata_words, "skipped_words": dict(self.skipped),
            "lost_words": self.lost_words, "first_lost": self.first_lost,
            "kept_share": round(self.kept_share, 5), "guessed": list(self.guessed),
        }

    @classmethod
    def from_dict(cls, record: dict) -> "Coverage":
        return cls(
            path=record["path"], documents=record["documents"], passages=record["passages"],
            source_words=record["source_words"], passage_words=record["passage_words"],
            metadata_words=record["metadata_words"], skipped=dict(record.get("skipped_words", {})),
            lost_words=record.get("lost_words", 0), first_lost=record.get("first_lost", ""),
            guessed=tuple(record.get("guessed", ())),
        )


@dataclass(frozen=True)
class Reading:
    """What a reader makes of one file: its documents and the account of its words."""

    documents: list[Document]
    coverage: Coverage


_PRIORITY = {PASSAGE: 0, METADATA: 1}  # a word in both a passage and metadata counts as passage


def account(path: Path, text: str, documents: list[Document], spans: list[Span], guessed: tuple[str, ...] = ()) -> Coverage:
    """Account for each word of `text` by the spans that claim it; what no span claims is lost.

    Paragraph spans are taken from the documents; `spans` adds metadata and skipped stretches.
    For markup (TEI) the reader blanks the tags out of `text` first, keeping offsets.
    """
    claims = [Span(p.start, p.end, PASSAGE) for d in documents for p in d.paragraphs if p.end > p.start]
    claims += [s for s in spans if s.end > s.start]
    claims.sort(key=lambda s: (s.start, _PRIORITY.get(s.kind, 2)))
    # A word is claimed when some claim starting at or before it ends after it.
    counts: dict[str, int] = {}
    lost, first_lost = 0, ""
    active: list[Span] = []
    next_claim = 0
    for match in WORD.finditer(text):
        at = match.start()
        while next_claim < len(claims) and claims[next_claim].start <= at:
            active.append(claims[next_claim])
            next_claim += 1
        active = [s for s in active if s.end > at]
        if not active:
            lost += 1
            if not first_lost:
                first_lost = " ".join(text[at : at + 200].split()[:12])
            continue
        kind = min(active, key=lambda s: _PRIORITY.get(s.kind, 2)).kind
        counts[kind] = counts.get(kind, 0) + 1
    return Coverage(
        path=str(path), documents=len(documents), passages=sum(len(d.paragraphs) for d in documents),
        source_words=sum(counts.values()) + lost, passage_words=counts.pop(PASSAGE, 0),
        metadata_words=counts.pop(METADATA, 0), skipped=counts, lost_words=lost, first_lost=first_lost,
        guessed=guessed,
    )


@dataclass(frozen=True)
class IndexedDocument:
    """What the index keeps of a document: its metadata, without its paragraphs."""

    id: str
    title: str
    citation_name: str
    path: str
    paragraphs: int  # how many paragraphs it has
    author: str = ""
    date: str = ""
    place: str = ""
    collection: str = ""
    source: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.source.get("url", "")

    @property
    def number(self) -> int | None:
        """The printed document number (FRUS), when there is one."""
        number = self.source.get("document")
        return int(number) if isinstance(number, (int, str)) and str(number).isdigit() else None

    @classmethod
    def of(cls, document: Document) -> "IndexedDocument":
        return cls(
            id=document.id, title=document.title, citation_name=document.citation_name,
            path=str(document.path), paragraphs=len(document.paragraphs), author=document.author,
            date=document.date, place=document.place, collection=document.collection,
            source=dict(document.source), extra=dict(document.extra),
        )

    def to_dict(self) -> dict:
        return {
            "id": self.id, "title": self.title, "citation_name": self.citation_name, "author": self.author,
            "date": self.date, "place": self.place, "collection": self.collection, "source": self.source,
            "extra": self.extra, "path": self.path, "paragraphs": self.paragraphs,
        }

    @classmethod
    def from_dict(cls, record: dict) -> "IndexedDocument":
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in record.items() if key in names})


def document_citation(document: Document | IndexedDocument) -> str:
    """How a whole document is cited: its name, then where it is printed ('— FRUS 1961–63, vol. V, doc. 41')."""
    citation = document.citation_name
    printed = document.source.get("volume_short", "")
    if printed:
        number = document.source.get("document")
        part = document.source.get("part")
        citation += f" — {printed}" + (f", doc. {number}" if number else f", {part}" if part else "")
    pages = document.source.get("pages")
    if isinstance(pages, list) and len(pages) == 2:
        citation += f", {format_pages(pages[0], pages[1])}"
    return citation


# ---------------------------------------------------------------------------------------------
# Facets: what a search can be narrowed by, from each document's metadata

FACETS = ("place", "sender", "recipient", "classification", "volume", "chapter", "doc_number")


def facet_value(document: Document | IndexedDocument, name: str) -> str:
    """A document's value for one facet ('' when its source does not say)."""
    source, extra = document.source or {}, document.extra or {}
    if name == "place":
        return document.place or ""
    if name == "volume":
        # The volume's id (the documents' id prefix, 'frus1961-63v05'), short name and title.
        volume_id = document.id.rsplit("-d", 1)[0] if re.search(r"-d\d+$", document.id) else ""
        return " ".join(str(v) for v in (volume_id, source.get("volume_short"), source.get("volume")) if v)
    if name == "doc_number":
        number = source.get("document")
        return str(number) if number not in (None, "") else ""
    return str(extra.get(name) or "")


def facet_fields(document: Document | IndexedDocument) -> dict[str, str]:
    """Every facet of a document, for a hit's JSON."""
    return {name: facet_value(document, name) for name in FACETS}


def close_values(wanted: str, values: Sequence[str], limit: int = 8) -> str:
    """What to suggest for a value nothing matched: the close ones, else a few that exist."""
    known = sorted({value for value in values if value})
    close = difflib.get_close_matches(wanted, known, n=5, cutoff=0.4)
    if close:
        return "close: " + ", ".join(close)
    if not known:
        return "none recorded"
    more = f" and {len(known) - limit} more" if len(known) > limit else ""
    return "known: " + ", ".join(known[:limit]) + more


@dataclass(frozen=True)
class FacetColumn:
    """One facet over all documents, as its distinct values and each document's value number:
    matching a question's value then loops over the few hundred distinct values, not over every
    document (a series has hundreds of thousands)."""

    values: list[str]  # distinct values, as documents give them
    of_document: np.ndarray  # of_document[i] is document i's value number

    @classmethod
    def of(cls, values: Sequence[str]) -> "FacetColumn":
        distinct: dict[str, int] = {}
        numbers = np.fromiter((distinct.setdefault(value, len(distinct)) for value in values), dtype=np.int32, count=len(values))
        return cls(list(distinct), numbers)

    @cached_property
    def normalised(self) -> list[str]:
        """The distinct values as the normaliser gives them, made once: matching compares these."""
        return [normalise(value) for value in self.values]

    def matching(self, wanted: str, name: str) -> np.ndarray:
        """Which documents satisfy what the user asked for, as a boolean array: the same document
        number, or the asked words within the value ('moscow' matches 'Moscow, USSR')."""
        if name == "doc_number":
            found = [number for number, value in enumerate(self.values) if value == wanted.strip()]
        else:
            key = normalise(wanted)
            found = [number for number, value in enumerate(self.normalised) if value and key in value]
        chosen = np.zeros(len(self.values), dtype=bool)
        chosen[found] = True
        return chosen[self.of_document]  # one gather over the documents, whatever their number


def facet_table(documents: Sequence[Document | IndexedDocument]) -> dict[str, FacetColumn]:
    """Every facet of every document, computed once when an index is opened, matched often."""
    return {name: FacetColumn.of([facet_value(document, name) for document in documents]) for name in FACETS}


def matching_documents(
    documents: Sequence[Document | IndexedDocument], facets: dict | None, table: dict[str, FacetColumn] | None = None
) -> np.ndarray | None:
    """Positions of the documents matching every facet asked for (ascending); None when none is asked.

    `table` is `facet_table(documents)` when the caller keeps one (the retriever does, so a search
    does not read every document's metadata again). An unknown facet, or a value no document has,
    is a one-line QueryError naming close values.
    """
    facets = {name: str(value) for name, value in (facets or {}).items() if value not in (None, "")}
    if not facets:
        return None
    for name in facets:
        if name not in FACETS:
            raise QueryError(f"unknown facet {name!r} (known: {', '.join(FACETS)})")
    # An index's documents carry their facet table (cwqa.stores); a plain list is tabled here.
    table = table if table is not None else getattr(documents, "facets", None) or facet_table(documents)
    chosen = np.ones(len(documents), dtype=bool)
    for name, wanted in facets.items():
        column = table[name]
        found = column.matching(wanted, name)
        if not found.any():
            raise QueryError(f"no document has {name.replace('_', ' ')} {wanted!r} ({close_values(wanted, column.values)})")
        chosen &= found
    return np.flatnonzero(chosen)
