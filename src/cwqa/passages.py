"""The retrievable units: a `Chunk` (a passage as indexed) and a `Hit` (a passage ranked for a question)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .documents import format_pages


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: a paragraph or one window of it, with its citation."""

    id: str  # paragraph id, plus "#2", "#3" for later windows
    paragraph_id: str
    doc_id: str
    doc_title: str
    section_id: str
    section_label: str
    section_title: str
    label: str
    ordinal: int  # the paragraph's position in its document
    window: int  # 1-based window number within the paragraph
    windows: int
    text: str
    text_start: int  # where this window's text sits in the paragraph's text
    text_end: int
    start: int  # the paragraph's span in the source file
    end: int
    first_page: int | None
    last_page: int | None
    citation: str
    url: str = ""
    kind: str = "body"
    date: str = ""
    lead_in: str = ""  # the paragraph that introduces this list item ("... as follows:")
    doc_name: str = ""  # the document as citations name it: 'Kennan, "Long Telegram", 22 Feb 1946'

    def context_text(self, prefix: bool = True) -> str:
        """The text that is embedded and indexed: where it stands, then what it says.

        A list item is read with the sentence that announces the list: "(a) Everything must be
        done ..." only means "a Soviet deduction" after "To what deductions do they lead? To
        following:", and questions are asked in the words of that lead-in.
        """
        if not prefix:
            return self.text
        lead = f"{self.lead_in}\n" if self.lead_in else ""
        return f"{self.doc_name} {self.doc_title} — {self.section_title}\n{lead}{self.text}"


@dataclass(frozen=True)
class Hit:
    """One ranked passage for a question, with the scores that put it there."""

    rank: int  # 1-based
    score: float  # the ranking score of the mode that produced it (fused for hybrid; blended if reranked)
    chunk: Chunk
    mode: str  # "hybrid", "dense" or "bm25": the search that found it
    dense_score: float | None = None  # cosine similarity to the question
    bm25_score: float | None = None
    reranked: bool = False  # reordered by the language-model reranker

    # Flat accessors, so callers rarely need `hit.chunk.`.
    @property
    def chunk_id(self) -> str:
        return self.chunk.id

    @property
    def doc_id(self) -> str:
        return self.chunk.doc_id

    @property
    def text(self) -> str:
        return self.chunk.text

    @property
    def citation(self) -> str:
        return self.chunk.citation

    @property
    def pages(self) -> str:
        return format_pages(self.chunk.first_page, self.chunk.last_page)

    def to_dict(self) -> dict:
        """The JSON form used by `cwqa ask --json`, the app's download and the eval run files."""
        chunk = asdict(self.chunk)
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            "mode": self.mode,
            "reranked": self.reranked,
            "chunk_id": self.chunk.id,
            "doc_id": self.chunk.doc_id,
            "title": self.chunk.doc_title,
            "section": self.chunk.section_title,
            "section_label": self.chunk.section_label,
            "label": self.chunk.label,
            "paragraph_id": self.chunk.paragraph_id,
            "window": self.chunk.window,
            "page": self.pages,
            "first_page": self.chunk.first_page,
            "last_page": self.chunk.last_page,
            "citation": self.chunk.citation,
            "url": self.chunk.url,
            "date": self.chunk.date,
            "kind": self.chunk.kind,
            "text": self.chunk.text,
            "start": chunk["start"],
            "end": chunk["end"],
            "text_start": chunk["text_start"],
            "text_end": chunk["text_end"],
            "dense_score": None if self.dense_score is None else round(self.dense_score, 6),
            "bm25_score": None if self.bm25_score is None else round(self.bm25_score, 6),
        }
