"""Retrieval stage: a question becomes ranked, cited `Hit`s, by dense, BM25 or hybrid search."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from .chunking import Chunk
from .corpus import format_pages


@dataclass(frozen=True)
class Hit:
    """One ranked passage for a question, with the scores that put it there."""

    rank: int  # 1-based
    score: float  # the ranking score of the mode that produced it (fused for hybrid; blended if reranked)
    chunk: Chunk
    mode: str
    dense_score: float | None = None  # cosine similarity to the question, when known
    bm25_score: float | None = None

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
            "text": self.chunk.text,
            "start": chunk["start"],
            "end": chunk["end"],
            "text_start": chunk["text_start"],
            "text_end": chunk["text_end"],
            "dense_score": None if self.dense_score is None else round(self.dense_score, 6),
            "bm25_score": None if self.bm25_score is None else round(self.bm25_score, 6),
        }


# ---------------------------------------------------------------------------------------------
# Fusion: a pure function over ranked (position, score) lists


def fuse_rrf(rankings: list[list[tuple[int, float]]], weights: list[float] | None = None, k: int = 60) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion: score(d) = Σ weight / (k + rank(d)), best first.

    Ranks, not raw scores, are fused because cosine similarities and BM25 scores live on
    unrelated scales; k=60 is the constant of Cormack et al. (2009).
    """
    weights = weights or [1.0] * len(rankings)
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, (item, _score) in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))


def fuse_convex(
    rankings: list[list[tuple[int, float]]], weights: list[float], floors: list[float | None] | None = None
) -> list[tuple[int, float]]:
    """Weighted sum of normalised scores, best first (what txtai's hybrid search does).

    Each list is scaled to [0, 1] on its own — from its floor (default: its lowest score) to its
    best — so neither ranker dominates by units; an item missing from a list scores 0 there.
    BM25's floor is 0, the score of a passage sharing no term: a lone keyword match then counts
    in full instead of being scaled away. Unlike RRF, this keeps how far ahead the leader is,
    which on our questions gives higher MRR (README, "Evaluation").
    """
    floors = floors or [None] * len(rankings)
    fused: dict[int, float] = {}
    for ranking, weight, floor in zip(rankings, weights, floors):
        if not ranking:
            continue
        scores = [score for _item, score in ranking]
        low = min(scores) if floor is None else floor
        high = max(scores)
        span = (high - low) or 1.0
        for item, score in ranking:
            fused[item] = fused.get(item, 0.0) + weight * (score - low) / span
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))


def leader_is_clear(dense: list[tuple[int, float]], lexical: list[tuple[int, float]], fused: list[tuple[int, float]], margin: float) -> bool:
    """Whether a hybrid ranking's first passage can be trusted as it is: dense and BM25 search put
    it first both, or its fused score is at least `margin` (a share of it) ahead of the second's.

    On eval/questions.jsonl the two rankers agree on about half the questions, and there the fused
    ranking already has Hit@5 1.0 and MRR@10 0.97: reranking changes nothing. Where they disagree
    MRR@10 falls to 0.64, and reranking the close calls among those (about a third of all
    questions) brings the whole set from 0.79 to 0.85, nearly as much as reranking everything
    (README, "How retrieval works").
    """
    if (dense and lexical and dense[0][0] == lexical[0][0]) or len(fused) < 2:
        return True
    top, second = fused[0][1], fused[1][1]
    return top > 0 and (top - second) / top >= margin


def should_rerank(policy: str, mode: str, clear: bool) -> bool:
    """The rerank policy applied to one search: "on" always, "off" never, "auto" only for a
    hybrid search whose leader is not clear (`leader_is_clear`)."""
    return policy == "on" or (policy == "auto" and mode == "hybrid" and not clear)


def top_k(scores, k: int, allowed=None) -> list[tuple[int, float]]:
    """The k best (position, score) pairs of a score array, optionally among `allowed` positions."""
    import numpy as np

    if allowed is not None:
        if len(allowed) == 0:
            return []
        candidates = scores[allowed]
        order = np.argsort(-candidates, kind="stable")[:k]
        return [(int(allowed[i]), float(candidates[i])) for i in order]
    k = min(k, len(scores))
    part = np.argpartition(-scores, k - 1)[:k]
    part = part[np.argsort(-scores[part], kind="stable")]
    return [(int(i), float(scores[i])) for i in part]


class Retriever:
    """Searches one loaded index: dense, BM25 or hybrid, with document and date filters."""

    def __init__(self, loaded, embedder, settings, log=lambda message: None):
        import numpy as np

        self.log = log
        self.reranker_missing = False  # set once "auto" found no reranking model, to say so once
        self.loaded = loaded
        self.embedder = embedder
        self.settings = settings
        self.chunks: list[Chunk] = loaded.chunks
        self.documents: list[dict] = loaded.documents
        self.doc_ids = [document["id"] for document in loaded.documents]
        self._positions = {chunk.id: i for i, chunk in enumerate(self.chunks)}
        self._doc_of = np.array([self.doc_ids.index(c.doc_id) if c.doc_id in self.doc_ids else -1 for c in self.chunks])

    # -- filters --------------------------------------------------------------------------------

    def resolve_docs(self, doc_ids: list[str] | None) -> list[str] | None:
        """Document ids named by the user: exact ids, or a volume prefix ('frus1955-57v24')."""
        if not doc_ids:
            return None
        chosen = []
        for wanted in doc_ids:
            matches = [d for d in self.doc_ids if d == wanted or d.startswith(wanted + "-")]
            if not matches:
                from .errors import QueryError

                raise QueryError(f"unknown document {wanted!r} (known: {', '.join(self.doc_ids)})")
            chosen.extend(matches)
        return chosen

    def allowed_positions(self, doc_ids=None, date_from: str | None = None, date_to: str | None = None):
        """Positions of passages passing the filters, or None when nothing is filtered."""
        import numpy as np

        docs = self.resolve_docs(doc_ids)
        if docs is None and not date_from and not date_to:
            return None
        keep = np.ones(len(self.chunks), dtype=bool)
        if docs is not None:
            keep &= np.isin(self._doc_of, [self.doc_ids.index(d) for d in docs])
        if date_from or date_to:
            # Dates are ISO strings, so string order is date order; undated passages are excluded.
            dates = np.array([c.date or "" for c in self.chunks])
            keep &= dates != ""
            if date_from:
                keep &= dates >= date_from
            if date_to:
                keep &= np.array([d[: len(date_to)] <= date_to for d in dates])
        return np.flatnonzero(keep)

    # -- the two rankers ------------------------------------------------------------------------

    def dense_ranking(self, query_vector, depth: int, allowed) -> list[tuple[int, float]]:
        """Top passages by the FAISS index (approximate above the exact-search limit)."""
        import faiss
        import numpy as np

        index = self.loaded.dense
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                return []
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            if isinstance(index, faiss.IndexHNSWFlat):
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(index.hnsw.efSearch, depth))
            else:
                params = faiss.SearchParameters(sel=selector)
        depth = min(depth, index.ntotal)
        scores, ids = index.search(query_vector.reshape(1, -1).astype(np.float32), depth, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def bm25_scores(self, question: str):
        """BM25 score of every passage for the question's stemmed terms."""
        import numpy as np

        from .index import bm25_tokenize

        tokens = bm25_tokenize([question])[0]
        vocabulary = self.loaded.bm25.vocab_dict
        known = [token for token in tokens if token in vocabulary]
        if not known:
            return np.zeros(len(self.chunks), dtype=np.float32)
        return np.asarray(self.loaded.bm25.get_scores(known), dtype=np.float32)

    # -- search ---------------------------------------------------------------------------------

    def search(
        self,
        question: str,
        k: int | None = None,
        mode: str | None = None,
        doc_ids: list[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        rerank: bool | str | None = None,
    ) -> list[Hit]:
        """The k best passages for a question, best first, each with its citation and scores.

        `rerank` is a policy ("off", "auto", "on" or true/false; default: the settings'): when it
        applies (`should_rerank`), the first `rerank_depth` are reordered by a small language
        model (cwqa.reranking), which is more precise and takes seconds. Reranked hits' mode
        ends in "+rerank".
        """
        from .config import MODES, rerank_policy
        from .errors import QueryError

        question = (question or "").strip()
        if not question:
            raise QueryError("the question is empty")
        k = k or self.settings.k
        mode = mode or self.settings.mode
        if mode not in MODES:
            raise QueryError(f"unknown mode {mode!r} (choose from {', '.join(MODES)})")
        if k < 1:
            raise QueryError(f"k must be at least 1, not {k}")
        allowed = self.allowed_positions(doc_ids, date_from, date_to)
        # Rankers look deeper than k so the fused list can promote what both rank modestly.
        depth = max(50, 4 * k)
        lexical_scores = self.bm25_scores(question) if mode in ("bm25", "hybrid") else None
        lexical = [] if lexical_scores is None else [p for p in top_k(lexical_scores, depth, allowed) if p[1] > 0]
        query = None
        dense: list[tuple[int, float]] = []
        if mode in ("dense", "hybrid"):
            query = self.embedder.encode_query(question)[0]
            candidates = [position for position, _ in self.dense_ranking(query, depth, allowed)]
            candidates += [position for position, _ in lexical if position not in set(candidates)]
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
        policy = rerank_policy(self.settings.rerank if rerank is None else rerank)
        rerank = should_rerank(policy, mode, leader_is_clear(dense, lexical, ranked, self.settings.rerank_margin))
        hits = [
            Hit(
                rank=rank,
                score=score,
                chunk=self.chunks[position],
                mode=mode,
                dense_score=None if query is None else self.best_cosine(query, position),
                bm25_score=None if lexical_scores is None else float(lexical_scores[position]),
            )
            for rank, (position, score) in enumerate(ranked[: max(k, self.settings.rerank_depth) if rerank else k], start=1)
        ]
        if rerank:
            hits = self._reranked(question, hits, policy)
        return hits[:k]

    def _reranked(self, question: str, hits: list[Hit], policy: str) -> list[Hit]:
        from .errors import ConfigError
        from .reranking import get_reranker

        if self.reranker_missing and policy != "on":
            return hits
        try:
            reranker = get_reranker(self.settings)
        except ConfigError as error:
            if policy == "on":
                raise
            # "auto" is the default: without the optional model, search still works, unreranked.
            self.reranker_missing = True
            self.log(f"{error}; searching without reranking")
            return hits
        depth = self.settings.rerank_depth
        return reranker.rerank(question, hits[:depth], self.settings.rerank_weight) + hits[depth:]

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
        return [chunk for chunk in self.chunks if chunk.doc_id == doc_id]

    def document(self, doc_id: str) -> dict:
        """A document's metadata as saved with the index."""
        for document in self.documents:
            if document["id"] == doc_id:
                return document
        from .errors import QueryError

        raise QueryError(f"unknown document {doc_id!r} (known: {', '.join(self.doc_ids)})")
