"""The lexical index: BM25 (bm25s) over passages, with the analyzer saved beside it.

The analyzer is named in the manifest (`ANALYZER`): an index built with another analyzer is
stale, because question tokens would no longer match the saved vocabulary.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .text import _stemmer

# Lower-cased, Snowball-stemmed, bm25s's English stop words removed: the same for passages and questions.
ANALYZER = "bm25s-en-stopwords+snowball-english"


def bm25_tokenize(texts: list[str]) -> list[list[str]]:
    """The analyzer, applied to each text."""
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


def write_bm25(texts: list[str], folder: Path) -> None:
    """Index the passages' texts with BM25 and save the index as bm25s's folder of files."""
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(bm25_tokenize(texts), show_progress=False)
    retriever.save(str(folder))


def load_bm25(folder: Path):
    """A saved BM25 index (memory-mapped where bm25s allows)."""
    import bm25s

    return bm25s.BM25.load(str(folder), mmap=True)


def bm25_scores(bm25, question: str, count: int) -> np.ndarray:
    """BM25 score of every passage for the question's analyzed terms (zeros when none is known).

    Scores every passage: for evaluation and small corpora. Search uses `bm25_top`, which only
    touches the postings of the question's terms."""
    tokens = bm25_tokenize([question])[0]
    vocabulary = bm25.vocab_dict
    known = [token for token in tokens if token in vocabulary]
    if not known:
        return np.zeros(count, dtype=np.float32)
    return np.asarray(bm25.get_scores(known), dtype=np.float32)


def weighted_terms(text: str, weight: float = 1.0, into: dict[str, float] | None = None) -> dict[str, float]:
    """The analyzed terms of a text, each with `weight` per occurrence (a repeated word counts
    twice, as bm25s counts it), added to `into` when given."""
    terms = dict(into or {})
    for token in bm25_tokenize([text])[0] if text.strip() else []:
        terms[token] = terms.get(token, 0.0) + weight
    return terms


def _postings(bm25, term: str) -> tuple[np.ndarray, np.ndarray]:
    """(passage positions, BM25 weights) of one term: a column of bm25s's sparse matrix, whose
    positions are in increasing order."""
    token = bm25.vocab_dict.get(term)
    if token is None:
        return _NONE, _NONE_F
    indptr = bm25.scores["indptr"]
    begin, end = int(indptr[token]), int(indptr[token + 1])
    return bm25.scores["indices"][begin:end], bm25.scores["data"][begin:end]


_NONE = np.zeros(0, dtype=np.int64)
_NONE_F = np.zeros(0, dtype=np.float32)


def bm25_top(bm25, terms: dict[str, float], count: int, depth: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
    """The `depth` best (position, score) pairs by BM25, among `mask` when given.

    Only the postings of the question's terms are read and summed; passages with none of the
    terms are never scored or scanned: the top is chosen among the postings themselves, so the
    cost follows the question's terms, not the corpus (at 10^6 passages a scan of all scores
    alone takes longer than the whole sum)."""
    lists = [(_postings(bm25, term), weight) for term, weight in terms.items()]
    lists = [(postings, weight) for postings, weight in lists if len(postings[0])]
    if not lists:
        return []
    scores = np.zeros(count, dtype=np.float32)
    for (positions, weights), weight in lists:
        # Within one term the positions are distinct, so fancy-index += is an exact sum.
        scores[positions] += weight * weights
    found = np.concatenate([np.asarray(positions) for (positions, _), _ in lists])
    if mask is not None:
        found = found[mask[found]]
    values = scores[found]
    # A passage is listed once per question term it holds, so the `depth` best distinct ones are
    # among the best depth x terms entries; ties at that cut all stay in.
    wanted = depth * len(lists)
    if len(found) > wanted:
        cut = values[np.argpartition(-values, wanted - 1)[wanted - 1]]
        keep = values >= cut
        found, values = found[keep], values[keep]
    candidates, first = np.unique(found, return_index=True)
    values = values[first]
    # At most depth x terms candidates (and their ties) are left: one sort orders them, best
    # first and ties by position, as top_k orders them, so every backend gives the same top.
    order = np.lexsort((candidates, -values))[:depth]
    return [(int(candidates[i]), float(values[i])) for i in order if values[i] > 0]


def bm25_at(bm25, terms: dict[str, float], positions: list[int]) -> np.ndarray:
    """BM25 scores of some passages only: a binary search in each term's postings."""
    wanted = np.asarray(positions, dtype=np.int64)
    scores = np.zeros(len(wanted), dtype=np.float32)
    for term, weight in terms.items():
        found, weights = _postings(bm25, term)
        if not len(found):
            continue
        at = np.searchsorted(found, wanted)
        inside = at < len(found)
        hit = np.zeros(len(wanted), dtype=bool)
        hit[inside] = np.asarray(found)[at[inside]] == wanted[inside]
        scores[hit] += weight * np.asarray(weights)[at[hit]]
    return scores
