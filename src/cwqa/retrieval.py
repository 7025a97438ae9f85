"""Retrieval stage: a question becomes ranked, cited `Hit`s, by dense, BM25 or hybrid search.

Every hit carries both its dense and its BM25 score, whatever the mode, so the good-match
verdict and the app never need a second search. Reranking is a step above this one
(`cwqa.pipeline`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .config import MODES
from .dense import dense_search
from .documents import IndexedDocument, close_values, facet_table, matching_documents
from .errors import QueryError
from .expansion import period_words
from .fusion import fuse_convex, fuse_rrf, leader_is_clear, top_k
from .lexical import bm25_scores
from .passages import Chunk, Hit

# What the period words of a question's modern terms count for, against the question's own words.
EXPANSION_WEIGHT = 0.5


@dataclass(frozen=True)
class Ranking:
    """One search's hits, deeper than asked (for a reranker), and whether its leader is clear."""

    hits: list[Hit]
    leader_clear: bool
    mode: str


class Retriever:
    """Searches one loaded index: dense, BM25 or hybrid, with document and date filters."""

    def __init__(self, loaded, embedder, settings):
        self.loaded = loaded
        self.embedder = embedder
        self.settings = settings
        self.chunks: list[Chunk] = loaded.chunks
        self.documents: list[IndexedDocument] = loaded.documents
        self.doc_ids = [document.id for document in loaded.documents]
        self._documents = {document.id: document for document in loaded.documents}
        self._positions = {chunk.id: i for i, chunk in enumerate(self.chunks)}
        # Filter arrays, built once at load: a filtered search then costs vector operations, not
        # a Python loop over every passage.
        self._doc_index = {doc_id: i for i, doc_id in enumerate(self.doc_ids)}
        self._doc_of = np.array([self._doc_index.get(c.doc_id, -1) for c in self.chunks], dtype=np.int64)
        self._facets = facet_table(self.documents)
        self._dates = np.array([c.date or "" for c in self.chunks])
        self._by_doc: dict[str, list[int]] = {}
        for position, chunk in enumerate(self.chunks):
            self._by_doc.setdefault(chunk.doc_id, []).append(position)

    # -- filters --------------------------------------------------------------------------------

    def resolve_docs(self, doc_ids: list[str] | None) -> list[str] | None:
        """Document ids named by the user: exact ids, or a volume prefix ('frus1955-57v24')."""
        if not doc_ids:
            return None
        chosen = []
        for wanted in doc_ids:
            wanted = str(wanted).strip()
            matches = [d for d in self.doc_ids if d == wanted or d.startswith(wanted + "-")]
            if not matches and wanted.isdigit():
                # A printed document number ("41"): every indexed document with that number.
                matches = [d.id for d in self.documents if d.number == int(wanted)]
            if not matches:
                raise QueryError(f"unknown document {wanted!r} ({close_values(wanted, self.doc_ids)})")
            chosen.extend(matches)
        return chosen

    def allowed_positions(self, doc_ids=None, date_from: str | None = None, date_to: str | None = None, facets=None):
        """Positions of passages passing the filters, or None when nothing is filtered."""
        docs = self.resolve_docs(doc_ids)
        date_from, date_to = checked_date(date_from, "from"), checked_date(date_to, "to")
        faceted = matching_documents(self.documents, facets, self._facets)
        if docs is None and not date_from and not date_to and faceted is None:
            return None
        keep = np.ones(len(self.chunks), dtype=bool)
        if docs is not None:
            keep &= np.isin(self._doc_of, [self._doc_index[d] for d in docs])
        if faceted is not None:
            keep &= np.isin(self._doc_of, faceted)
        if date_from or date_to:
            # Dates are ISO strings, so string order is date order; undated passages are excluded.
            dates = self._dates
            keep &= dates != ""
            if date_from:
                keep &= dates >= date_from
            if date_to:
                # "1961-03" includes every day of March: compare as far as the bound is precise.
                keep &= dates.astype(f"U{len(date_to)}") <= date_to
        return np.flatnonzero(keep)

    # -- the two rankers ------------------------------------------------------------------------

    def dense_ranking(self, query_vector, depth: int, allowed) -> list[tuple[int, float]]:
        """Top passages by the FAISS index (approximate above the exact-search limit)."""
        return dense_search(self.loaded.dense, query_vector, depth, allowed)

    def bm25_scores(self, question: str) -> np.ndarray:
        """BM25 score of every passage for the question's analyzed terms."""
        return bm25_scores(self.loaded.bm25, question, len(self.chunks))

    # -- search ---------------------------------------------------------------------------------

    def search(
        self,
        question: str,
        k: int | None = None,
        mode: str | None = None,
        doc_ids: list[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        facets: dict[str, str] | None = None,
    ) -> list[Hit]:
        """The k best passages for a question, best first, each with its citation and both scores."""
        k = k or self.settings.k
        return self.rank(question, k, mode, doc_ids, date_from, date_to, facets).hits[:k]

    def rank(
        self,
        question: str,
        depth: int,
        mode: str | None = None,
        doc_ids: list[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        facets: dict[str, str] | None = None,
    ) -> Ranking:
        """The `depth` best passages and whether the leader is clear (dense and BM25 agree on it,
        or it is well ahead): what the rerank policy decides on."""
        question = (question or "").strip()
        if not question:
            raise QueryError("the question is empty")
        mode = mode or self.settings.mode
        if mode not in MODES:
            raise QueryError(f"unknown mode {mode!r} (choose from {', '.join(MODES)})")
        if depth < 1:
            raise QueryError(f"k must be at least 1, not {depth}")
        allowed = self.allowed_positions(doc_ids, date_from, date_to, facets)
        # Rankers look deeper than k so the fused list can promote what both rank modestly.
        pool = max(50, 4 * depth)
        lexical_scores, query = self.score_question(question)
        lexical = [p for p in top_k(lexical_scores, pool, allowed) if p[1] > 0]
        dense: list[tuple[int, float]] = []
        if mode in ("dense", "hybrid"):
            candidates = [position for position, _ in self.dense_ranking(query, pool, allowed)]
            if mode == "hybrid":  # BM25's finds are rescored too, so fusion sees both scores for them
                seen = set(candidates)
                candidates += [position for position, _ in lexical if position not in seen]
            dense = sorted(self.dense_rescore(query, candidates), key=lambda pair: (-pair[1], pair[0]))
        if mode == "dense":
            ranked = dense
        elif mode == "bm25":
            ranked = lexical
        elif self.settings.fusion == "rrf":
            weight = self.settings.dense_weight
            ranked = fuse_rrf([dense, lexical], [weight, 1.0 - weight], self.settings.rrf_k)
        else:
            weight = self.settings.dense_weight
            ranked = fuse_convex([dense, lexical], [weight, 1.0 - weight], floors=[None, 0.0])
        if self.settings.neighbour_weight and mode == "hybrid":
            ranked = self._with_neighbours(ranked, self.settings.neighbour_weight)
        hits = [
            Hit(
                rank=rank,
                score=score,
                chunk=self.chunks[position],
                mode=mode,
                dense_score=self.best_cosine(query, position),
                bm25_score=float(lexical_scores[position]),
            )
            for rank, (position, score) in enumerate(ranked[:depth], start=1)
        ]
        clear = leader_is_clear(dense, lexical, ranked, self.settings.rerank_margin)
        return Ranking(hits, clear, mode)

    def _with_neighbours(self, ranked: list[tuple[int, float]], weight: float) -> list[tuple[int, float]]:
        """A passage read with its neighbours: it gains `weight` of the better of the fused scores
        of the passages just before and after it in its document (an answer often spans two)."""
        scores = dict(ranked)
        doc_of = self._doc_of
        boosted = []
        for position, score in ranked:
            near = [scores.get(n, 0.0) for n in (position - 1, position + 1)
                    if 0 <= n < len(doc_of) and doc_of[n] == doc_of[position]]
            boosted.append((position, score + weight * max(near, default=0.0)))
        return sorted(boosted, key=lambda pair: (-pair[1], pair[0]))

    def score_question(self, question: str) -> tuple[np.ndarray, np.ndarray]:
        """BM25 scores of every passage and the question's vector, with the period words of its
        modern terms added at a lower weight when expansion is on (cwqa.expansion)."""
        lexical = self.bm25_scores(question)
        query = self.embedder.encode_query(question)[0]
        extra = period_words(question) if self.settings.expand else ""
        if extra:
            lexical = lexical + EXPANSION_WEIGHT * self.bm25_scores(extra)
            blended = query + EXPANSION_WEIGHT * self.embedder.encode_query(extra)[0]
            query = (blended / np.linalg.norm(blended)).astype(np.float32)
        return lexical, query

    def dense_rescore(self, query, positions: list[int]) -> list[tuple[int, float]]:
        """Exact dense score of candidates: passage cosine plus its best sentence's cosine."""
        return [(p, float(self.loaded.embeddings[p] @ query) + self._best_sentence(query, p)) for p in positions]

    def _best_sentence(self, query, position: int) -> float:
        begin, end = self.loaded.sentence_offsets[position], self.loaded.sentence_offsets[position + 1]
        return float((self.loaded.sentences[begin:end] @ query).max()) if end > begin else 0.0

    def best_cosine(self, query, position: int) -> float:
        """How close the question is to the passage or any of its sentences (a cosine, -1..1)."""
        return max(float(self.loaded.embeddings[position] @ query), self._best_sentence(query, position))

    # -- navigation -----------------------------------------------------------------------------

    def chunk(self, chunk_id: str) -> Chunk:
        """A passage by id."""
        return self.chunks[self._positions[chunk_id]]

    def neighbours(self, chunk_id: str, before: int = 1, after: int = 1) -> tuple[list[Chunk], list[Chunk]]:
        """The passages just before and after one, within the same document (for context)."""
        position = self._positions[chunk_id]
        doc = self.chunks[position].doc_id
        previous = [c for c in self.chunks[max(0, position - before) : position] if c.doc_id == doc]
        following = [c for c in self.chunks[position + 1 : position + 1 + after] if c.doc_id == doc]
        return previous, following

    def document_chunks(self, doc_id: str) -> list[Chunk]:
        """All passages of one document, in order."""
        return [self.chunks[position] for position in self._by_doc.get(doc_id, ())]

    def document(self, doc_id: str) -> IndexedDocument:
        """A document's metadata as saved with the index."""
        try:
            return self._documents[doc_id]
        except KeyError:
            raise QueryError(f"unknown document {doc_id!r} ({close_values(doc_id, self.doc_ids)})") from None


_DATE = re.compile(r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?")


def checked_date(value: str | None, name: str) -> str | None:
    """An ISO date bound (YYYY, YYYY-MM or YYYY-MM-DD), or a one-line QueryError naming it."""
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    if not _DATE.fullmatch(value):
        raise QueryError(f"--{name} {value!r} is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)")
    return value
