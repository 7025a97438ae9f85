"""The default backend: the build's own files, searched in this process.

Dense search is FAISS (exact up to cwqa.dense.EXACT_SEARCH_LIMIT passages, HNSW above); BM25 reads
only the postings of the question's terms (cwqa.lexical.bm25_top). A filter becomes one boolean
mask over the passages, made from arrays saved with the build (the passages' documents and dates),
so a filtered search costs a few vector operations whatever the corpus size.
"""

from __future__ import annotations

import numpy as np

from ..dense import dense_search
from ..lexical import bm25_at, bm25_top
from .base import Filter, Ranked, SearchBackend

# A filter that leaves this few passages is searched exactly (FAISS checks the bitmap for every
# passage and scores those it allows: ~2 ms at 200k), because a graph walk that must skip 99% of
# what it meets slows down and misses; broader filters stay in the graph, which skips what the
# mask refuses (recall@10 0.95-1.0 at 2-16% of 200k synthetic passages, eval/bench.py).
EXACT_FILTERED_LIMIT = 20_000


def passage_mask(where: Filter, docs: np.ndarray, days: np.ndarray, document_count: int) -> np.ndarray | None:
    """The passages a filter lets through, as a boolean array over all positions (None: all).

    docs[i] is passage i's document index and days[i] its date as yyyymmdd (cwqa.stores):
    the whole filter is a gather and two comparisons, whatever the number of passages."""
    if where.empty:
        return None
    keep = np.ones(len(docs), dtype=bool)
    if where.documents is not None:
        wanted = np.zeros(document_count, dtype=bool)
        wanted[np.asarray(where.documents, dtype=np.int64)] = True
        keep &= wanted[docs]
    if where.date_from or where.date_to:
        keep &= days > 0  # undated passages never pass a date bound
        earliest, latest = where.day_range
        if earliest is not None:
            keep &= days >= earliest
        if latest is not None:
            keep &= days <= latest
    return keep


class EmbeddedBackend(SearchBackend):
    """FAISS and BM25 files of one build, memory-mapped where the formats allow."""

    name = "embedded"

    def __init__(self, loaded, settings=None, log=None):
        self.loaded = loaded
        self.count = len(loaded.chunks)
        self._docs = np.asarray(loaded.chunks.docs)
        self._days = np.asarray(loaded.chunks.days)
        self._document_count = len(loaded.documents)
        self._masked: tuple[Filter | None, np.ndarray | None] = (None, None)

    def mask(self, where: Filter) -> np.ndarray | None:
        # A search asks for the same filter's mask twice (dense, then BM25): made once. The pair
        # is read and replaced whole, so searches in two threads never get each other's mask.
        masked = self._masked
        if where is not masked[0]:
            masked = (where, passage_mask(where, self._docs, self._days, self._document_count))
            self._masked = masked
        return masked[1]

    def dense(self, vector: np.ndarray, depth: int, where: Filter) -> Ranked:
        keep = self.mask(where)
        if keep is None:
            return dense_search(self.loaded.dense, vector, depth)
        return dense_search(self.loaded.dense, vector, depth, keep, exact=int(keep.sum()) <= EXACT_FILTERED_LIMIT)

    def lexical(self, terms: dict[str, float], depth: int, where: Filter) -> Ranked:
        return bm25_top(self.loaded.bm25, terms, self.count, depth, self.mask(where))

    def lexical_at(self, terms: dict[str, float], positions: list[int]) -> np.ndarray:
        return bm25_at(self.loaded.bm25, terms, positions)
