"""Text helpers shared by every stage: one normaliser, one analyzer, one quote matcher.

BM25, highlighting, the extractive generator, citation verification and the evaluation all
judge words and quotes through this module, so "holds the quote" and "mentions the term" mean
the same thing wherever they are asked.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

# ---------------------------------------------------------------------------------------------
# Normalising

_QUOTE_MARKS = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "*": None,
    }
)  # fmt: skip


def normalise(text: str) -> str:
    """Lower case, typographic quote marks made straight, markdown `*` dropped, whitespace runs to one space."""
    return re.sub(r"\s+", " ", text.translate(_QUOTE_MARKS).lower()).strip()


def slug(text: str) -> str:
    """'Policy Conclusions' -> 'policy-conclusions': ids and anchors."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def unique(base: str, used: dict[str, int]) -> tuple[str, int]:
    """`base`, or `base-2`, `base-3`... when it was used before; with how many times it now is."""
    used[base] = used.get(base, 0) + 1
    count = used[base]
    return (base if count == 1 else f"{base}-{count}"), count


WORD = re.compile(r"\S+")


def word_count(text: str) -> int:
    """Words as the coverage report counts them: runs of non-space characters."""
    return len(WORD.findall(text))


# ---------------------------------------------------------------------------------------------
# Matching quotes


def longest_shared_span(quote: str, passage: str, minimum: int = 1) -> int:
    """Length of the longest substring of `quote` that occurs in `passage`, if at least `minimum`, else 0.

    Exact and fast: a shared span of length >= minimum must contain one of the quote's aligned
    blocks of ceil(minimum / 2) characters whole, so only the places where such a block occurs in
    the passage are extended, instead of comparing every pair of positions.
    """
    minimum = max(1, minimum)
    if len(quote) < minimum or len(passage) < minimum:
        return 0
    block = (minimum + 1) // 2
    best = 0
    for start in range(0, len(quote) - block + 1, block):
        piece = quote[start : start + block]
        at = passage.find(piece)
        while at != -1:
            left = 0
            while left < start and left < at and quote[start - left - 1] == passage[at - left - 1]:
                left += 1
            right = block
            while start + right < len(quote) and at + right < len(passage) and quote[start + right] == passage[at + right]:
                right += 1
            best = max(best, left + right)
            at = passage.find(piece, at + 1)
    return best if best >= minimum else 0


PARTIAL_MATCH = 0.6  # share of a quote that must appear as one contiguous span


def quote_matches(quote: str, passage: str, share: float = PARTIAL_MATCH) -> bool:
    """Whether an already normalised passage holds an already normalised quote, or `share` of it in one span."""
    if not quote:
        return False
    if quote in passage:
        return True
    return longest_shared_span(quote, passage, math.ceil(share * len(quote))) > 0


def holds_quote(passage: str, quote: str, share: float = PARTIAL_MATCH) -> bool:
    """Whether a text holds a quote, or `share` of it as one contiguous span, after normalising both."""
    return quote_matches(normalise(quote), normalise(passage), share)


# ---------------------------------------------------------------------------------------------
# The analyzer: words, stop words, stems

# Words that carry no evidence in a question: "What did Kennan say about..." should neither
# light up every "say" nor count as a term a passage must contain.
QUESTION_WORDS = frozenset(
    """according say said says tell told think thought believe believed consider considered give gave
    expect expected see saw document documents passage text would could also""".split()
)
_EXTRA_STOPWORDS = frozenset(
    """a an the of to in on for by with and or but nor is are was were be been being am do does did
    done what which who whom whose why how when where whether his her hers its their theirs this that
    these those as at from into onto about over under there here any ever can may might will shall
    must has have had having not no it he she they them we us our i you your me my than then very so
    such only just more most other some all each both either neither if because while s t upon
    within without""".split()
)


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """English stop words (bm25s's list, as BM25 uses it) plus question words."""
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | _EXTRA_STOPWORDS | QUESTION_WORDS


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """The Snowball English stem of a lower-cased word (the stemmer BM25 uses)."""
    return _stemmer().stemWord(word.lower().replace("’", "'"))


_TERM = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """Lower-cased alphanumeric words, in order."""
    return _TERM.findall(text.lower().replace("\u02bc", "'"))


def content_terms(text: str, min_length: int = 1) -> set[str]:
    """Stems of a text's content words: stop words and question words left out."""
    stop = stopwords()
    return {stem(word) for word in words(text) if word not in stop and len(word) >= min_length}


# ---------------------------------------------------------------------------------------------
# Sentences

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
