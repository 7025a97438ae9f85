"""What the app shows, as plain data: where a passage stands, paragraphs in context, document
rows, answers read defensively, evaluation tables, build facts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..answers.model import Answer
from ..answers.plugins import list_generators
from ..documents import IndexedDocument
from ..errors import CwqaError
from .escape import safe_url


def chunk_where(chunk, citation_name: str = "") -> str:
    """Where a passage stands inside its document, as cited: 'Part 3 ¶(b), pp. 696–709'.

    The citation starts with the document's citation name and ends with ' — <printed source>';
    what lies between is the part, paragraph and pages.
    """
    citation = chunk.citation
    if citation_name and citation.startswith(citation_name):
        citation = citation[len(citation_name) :].lstrip(", ")
    return citation.split(" — ")[0]


def section_subtitle(chunk) -> str:
    """The section's title without what its label already says: 'Projection of Soviet Outlook ...'
    for 'Part 3: Projection of Soviet Outlook ...'; '' when the title is just the label."""
    title, label = chunk.section_title or "", chunk.section_label or ""
    if title == label:
        return ""
    if label and title.startswith(label):
        return title[len(label) :].lstrip(" :.—-")
    return title


def paragraph_mark(chunk, citation_name: str = "") -> str:
    """The paragraph's name in its section, for the margin: '¶(b)', 'para. 3', 'n. 2'."""
    where = chunk_where(chunk, citation_name).split(", p")[0]
    section = chunk.section_label
    if where.startswith(section):
        where = where[len(section) :].strip()
    return where or (chunk.label or "")


@dataclass
class ParagraphView:
    """One paragraph of a document as shown: its passages (windows) in order."""

    paragraph_id: str
    chunks: list

    @property
    def first(self):
        return self.chunks[0]

    @property
    def text(self) -> str:
        return " ".join(chunk.text for chunk in self.chunks)


def group_paragraphs(chunks: Sequence) -> list[ParagraphView]:
    """A document's passages grouped into its paragraphs, in order (windows of one paragraph join)."""
    paragraphs: list[ParagraphView] = []
    for chunk in chunks:
        if paragraphs and paragraphs[-1].paragraph_id == chunk.paragraph_id:
            paragraphs[-1].chunks.append(chunk)
        else:
            paragraphs.append(ParagraphView(chunk.paragraph_id, [chunk]))
    return paragraphs


def paragraph_context(document_chunks: Sequence, chunk_id: str) -> tuple[ParagraphView | None, ParagraphView | None, ParagraphView | None]:
    """(previous paragraph, the passage's paragraph, next paragraph) within its document."""
    paragraphs = group_paragraphs(document_chunks)
    for index, paragraph in enumerate(paragraphs):
        if any(chunk.id == chunk_id for chunk in paragraph.chunks):
            before = paragraphs[index - 1] if index > 0 else None
            after = paragraphs[index + 1] if index + 1 < len(paragraphs) else None
            return before, paragraph, after
    return None, None, None


def document_rows(documents: Sequence[IndexedDocument], chunks: Sequence) -> list[dict]:
    """One row per document for the documents table: the short metadata and how many passages it
    has (author and place, often long, are on each document's card)."""
    counts: dict[str, int] = {}
    for chunk in chunks:
        counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
    rows = []
    for document in documents:
        source = document.source or {}
        extra = document.extra or {}
        rows.append(
            {
                "doc": source.get("document", ""),
                "title": document.title,
                "date": document.date,
                "place": document.place,
                "from": extra.get("sender", ""),
                "to": extra.get("recipient", ""),
                "classification": extra.get("classification", ""),
                "chapter": extra.get("chapter", ""),
                "source": source.get("volume_short") or source.get("volume", ""),
                "paragraphs": document.paragraphs,
                "passages": counts.get(document.id, 0),
                "url": safe_url(source.get("url")),
                "id": document.id,
            }
        )
    return rows


def source_span(document: IndexedDocument, chunk, corpus_hashes: dict | None = None) -> tuple[str | None, str]:
    """The exact source text of a passage's paragraph (chars start–end of the file), and a note.

    Returns (None, why) when the file is gone or has changed since the index was built, since
    the saved offsets would then point at the wrong text.
    """
    path = Path(document.path)
    if not path.is_file():
        return None, f"source file {path} not found"
    data = path.read_bytes()
    if corpus_hashes and path.name in corpus_hashes:
        if hashlib.sha256(data).hexdigest() != corpus_hashes[path.name]:
            return None, f"{path.name} has changed since the index was built; rebuild the index"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, f"{path.name} is not UTF-8"
    return text[chunk.start : chunk.end], f"{path.name}, characters {chunk.start}–{chunk.end}"


def generator_choices() -> tuple[list[str], dict[str, str], str]:
    """(names, descriptions, problem): 'none' first, then the generators that can run here.

    Generators that cannot run here (a missing extra, no API key) are left out of the choice and
    named in `problem`, so picking one never fails.
    """
    try:
        listed = list_generators()
    except CwqaError as error:  # a plug-in that fails to load: retrieval still works
        return ["none"], {"none": "passages only"}, one_line(error)
    descriptions = {name: info.description for name, info in listed.items() if info.available and name != "none"}
    problem = "; ".join(f"{name} unavailable ({info.problem})" for name, info in listed.items() if not info.available)
    return ["none", *descriptions], {"none": "passages only", **descriptions}, problem


@dataclass
class AnswerView:
    """A generated answer, reduced to what the page shows."""

    text: str
    abstained: bool = False
    reason: str = ""
    sentences: list[tuple[str, bool | None]] = field(default_factory=list)  # (text, supported)
    cited_ranks: list[int] = field(default_factory=list)
    raw: dict = field(default_factory=dict)
    notice: str = ""  # e.g. that a fallback generator's answer is shown


def answer_view(answer: Answer) -> AnswerView:
    """A verified Answer reduced to what the page shows; cited numbers are 1-based hit positions."""
    sentences = [(sentence.text, sentence.supported) for sentence in answer.sentences]
    return AnswerView(
        answer.text, answer.abstained, answer.abstain_reason, sentences, answer.citation_numbers,
        answer.to_dict(), answer.notice,
    )


def report_tables(report: dict) -> list[dict]:
    """One row per mode and baseline of an evaluation report, metrics as columns (misses counted)."""
    rows = []
    for kind, section in (("mode", report.get("modes") or {}), ("baseline", report.get("baselines") or {})):
        for name, metrics in section.items():
            row = {"system": name, "kind": kind}
            for key, value in (metrics or {}).items():
                if isinstance(value, (list, tuple)):
                    row[key] = len(value)
                elif isinstance(value, (int, float)):
                    row[key] = round(float(value), 3)
            rows.append(row)
    return rows


def one_line(error: BaseException) -> str:
    """An error as one line for the user: the message of a CwqaError, else 'Type: message'."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if isinstance(error, CwqaError):
        return text or type(error).__name__
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def describe_build(manifest: dict | None) -> dict:
    """Facts about a loaded build for the sidebar: model, passages, documents, built when."""
    manifest = manifest or {}
    built = manifest.get("built_at", "")
    return {
        "model": manifest.get("model", "?"),
        "chunks": manifest.get("chunks", 0),
        "documents": manifest.get("documents", 0),
        "built_at": built.replace("T", " ")[:16] if built else "?",
        "dense_index": manifest.get("dense_index", ""),
    }


def coverage_rows(coverage) -> list[dict]:
    """One row per corpus file: where its words went (the Documents page's coverage table)."""
    rows = []
    for c in coverage:
        rows.append(
            {
                "file": Path(c.path).name,
                "documents": c.documents,
                "source words": c.source_words,
                "in passages": c.passage_words,
                "in metadata": c.metadata_words,
                "skipped": ", ".join(f"{words} ({reason})" for reason, words in sorted(c.skipped.items())),
                "lost": c.lost_words,
                "kept": f"{c.kept_share:.1%}",
                "guessed": "; ".join(c.guessed),
            }
        )
    return rows


def row_matches(row: dict, wanted: str) -> bool:
    """Whether every word of a filter occurs in a documents-table row (title, place, date, number...)."""
    haystack = " ".join(str(value) for key, value in row.items() if key != "url").lower()
    return all(word in haystack for word in wanted.lower().split())
