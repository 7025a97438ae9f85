"""Citation markers in answers: the `[n]` grammar, cleaning and streaming them, and cutting an
answer into the sentences whose citations are checked."""

from __future__ import annotations

import re
from typing import Iterable, Iterator, Sequence

from ..text import sentence_spans


# "[3]", "[1, 2]", "[2-4]", "[Passage 3]": one marker, possibly naming several passages.
MARKER = re.compile(r"\[\s*(?:passages?\s+)?(\d+(?:\s*(?:,|;|-|–|and)\s*\d+)*)\s*\]", re.IGNORECASE)


def marker_numbers(match: re.Match) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*(?:,|;|and)\s*", match.group(1)):
        if re.search(r"[-–]", part):
            low, high = (int(x) for x in re.split(r"\s*[-–]\s*", part))
            # A reversed or absurd range is taken as its two ends, not expanded.
            numbers.extend(range(low, high + 1) if 0 <= high - low <= 20 else [low, high])
        elif part.strip():
            numbers.append(int(part))
    return numbers


def clean_citations(text: str, count: int) -> tuple[str, list[int]]:
    """Rewrite markers as `[n]` (one per passage) and drop those not in 1..count.

    Returns the cleaned text and the removed numbers, so no answer shows a citation that does
    not point at a given passage.
    """
    invalid: list[int] = []

    def rewrite(match: re.Match) -> str:
        numbers = marker_numbers(match)
        valid = [n for n in dict.fromkeys(numbers) if 1 <= n <= count]
        invalid.extend(n for n in numbers if not 1 <= n <= count and n not in invalid)
        return "".join(f"[{n}]" for n in valid)

    cleaned = MARKER.sub(rewrite, text)
    # Removing a marker can leave "word ." or doubled spaces behind.
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned) if invalid else cleaned
    cleaned = re.sub(r"[ \t]{2,}", " ", cleaned)
    return cleaned.strip(), invalid


def filter_citation_stream(pieces: Iterable[str], count: int) -> Iterator[str]:
    """Stream pieces with invalid markers removed; a possible marker is held back until closed."""
    pending = ""
    for piece in pieces:
        pending += piece
        cut = _safe_cut(pending)
        if cut:
            yield MARKER.sub(lambda m: _valid_marker(m, count), pending[:cut])
            pending = pending[cut:]
    if pending:
        yield MARKER.sub(lambda m: _valid_marker(m, count), pending)


def _safe_cut(text: str) -> int:
    """How much of `text` can be released: all of it, unless it ends inside an open '['."""
    opening = text.rfind("[")
    if opening == -1 or "]" in text[opening:] or len(text) - opening > 40:
        return len(text)
    return opening


def _valid_marker(match: re.Match, count: int) -> str:
    return "".join(f"[{n}]" for n in dict.fromkeys(marker_numbers(match)) if 1 <= n <= count)


# A marker followed by a new sentence's start ends its sentence, even after ':' or no stop at all;
# so does a marker after a full stop, whatever follows ("[1] (a) USSR still lives ...").
MARKER_THEN_START = re.compile(r"\s+(?=(?:[-•*]\s+)?(?:[\"“(\[]?[A-Z0-9]|\(?[a-z0-9]{1,2}[.)]\s))")


def answer_sentences(text: str) -> list[tuple[str, list[int]]]:
    """The answer's sentences (as shown) with the passage numbers each cites.

    A marker belongs to the sentence it follows or stands in, so "... once. [2] Next" keeps [2]
    with the first sentence; a marker followed by a capitalised start also ends its sentence.
    """
    result: list[tuple[str, list[int]]] = []
    for segment in _segments(text):
        for shown, numbers in _split_segment(segment):
            if re.search(r"[A-Za-z0-9]", MARKER.sub("", shown)):
                result.append((shown, numbers))
            elif result:  # a stray marker on its own belongs to the sentence before it
                result[-1] = (f"{result[-1][0]} {shown}", list(dict.fromkeys(result[-1][1] + numbers)))
    return result


def _segments(text: str) -> list[str]:
    """Cut the text after every marker that is followed by the start of a new sentence."""
    pieces, begin = [], 0
    for match in MARKER.finditer(text):
        follow = MARKER_THEN_START.match(text, match.end())
        ended = re.search(r"[.!?:;][\"'”’)\]]*\s*$", text[begin : match.start()])
        if ended and not follow:  # "... once. [2] (a) Next": the stop before the marker ends it
            follow = re.compile(r"\s+").match(text, match.end())
        if follow:
            pieces.append(text[begin : match.end()])
            begin = follow.end()
    pieces.append(text[begin:])
    return [piece for piece in pieces if piece.strip()]


# Besides the corpus's sentence ends: a stop followed by a labelled item, "... risks. (b) Next".
_LABELLED_START = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)]))\s+(?=\(?[a-z0-9]{1,2}[.)]\s)")


def _answer_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans of an answer: the corpus's rule, also cutting before labelled items."""
    spans = []
    for start, end in sentence_spans(text):
        begin = start
        for match in _LABELLED_START.finditer(text, start, end):
            spans.append((begin, match.end()))
            begin = match.end()
        spans.append((begin, end))
    return merge_fragments(text, [(a, b) for a, b in spans if b > a])


def _split_segment(segment: str) -> list[tuple[str, list[int]]]:
    # Split with the markers taken out (they would look like sentence starts), then put each
    # marker back into the sentence whose span holds its position.
    plain_parts, marks, cursor, length = [], [], 0, 0
    for match in MARKER.finditer(segment):
        plain_parts.append(segment[cursor : match.start()])
        length += match.start() - cursor
        marks.append((length, match.group(0), marker_numbers(match)))
        cursor = match.end()
    plain_parts.append(segment[cursor:])
    plain = "".join(plain_parts)
    spans = _answer_spans(plain)
    sentences = []
    for index, (start, end) in enumerate(spans):
        last = index == len(spans) - 1
        owned = [mark for mark in marks if start <= mark[0] < end or (last and mark[0] >= end)]
        shown = plain[start:end]
        for position, marker, _numbers in reversed(owned):  # right to left keeps offsets valid
            offset = position - start
            shown = shown[:offset] + marker + shown[offset:]
        numbers = list(dict.fromkeys(n for _p, _m, nums in owned for n in nums))
        sentences.append((shown.strip(), numbers))
    return sentences


def merge_fragments(text: str, spans: Sequence[tuple[int, int]], min_words: int = 1) -> list[tuple[int, int]]:
    """Sentence spans with fragments (fewer than `min_words` words) joined to a neighbour.

    A fragment the splitter leaves ("511.", "(c)"; with min_words=3 also "There follows") is no
    sentence on its own but belongs to one: it joins the next span, or the previous one at the
    end. Answers are split for checking with min_words=1, labels only, so a short sentence of a
    language model's answer ("Second claim [2].") still needs its own citation.
    """
    merged: list[list[int]] = []
    pending: int | None = None  # start of fragments waiting for a sentence
    for start, end in spans:
        if len(re.findall(r"[A-Za-z]{2,}", text[start:end])) < min_words:
            pending = start if pending is None else pending
            continue
        merged.append([start if pending is None else pending, end])
        pending = None
    if pending is not None:
        if merged:
            merged[-1][1] = spans[-1][1]
        else:
            merged.append([pending, spans[-1][1]])
    return [(start, end) for start, end in merged if text[start:end].strip()]
