"""Retrieval stage: a question becomes ranked, cited `Hit`s, by dense, BM25 or hybrid search.

Every hit carries both its dense and its BM25 score, whatever the mode, so the good-match
verdict and the app never need a second search. Reranking is a step above this one
(`cwqa.pipeline`).
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass

import numpy as np

from .backends import EmbeddedBackend, Filter, SearchBackend
from .backends.embedded import passage_mask
from .config import MODES
from .documents import IndexedDocument, close_values, matching_documents
from .errors import QueryError
from .expansion import period_words
from .fusion import fuse_convex, fuse_rrf, leader_is_clear
from .lexical import weighted_terms
from .passages import Chunk, Hit

# What the period words of a question's modern terms count for, against the question's own words.
EXPANSION_WEIGHT = 0.5
# Following cross-references (`follow_references`): the documents that the first FOLLOW_FROM
# documents of the dense and of the BM25 candidates refer to lend up to FOLLOW_PASSAGES of their
# passages to the candidates (half the best by dense score, half by BM25), chosen among at most
# FOLLOW_GATHER of their passages.
FOLLOW_FROM = 3
FOLLOW_PASSAGES = 32
FOLLOW_GATHER = 256
# After fusion, a passage of a referenced document gains this share of the best fused score of the
# leading document that refers to it: a question worded from the referring document's context
# seldom matches the referenced one well enough on its own (README, "Cross-references in search":
# 0.1 chosen on the tune half of eval/realistic/crossref.jsonl; 0.2 and more cost ordinary questions).
FOLLOW_CREDIT = 0.1


@dataclass(frozen=True)
class Ranking:
    """One search's hits, deeper than asked (for a reranker), and whether its leader is clear."""

    hits: list[Hit]
    leader_clear: bool
    mode: str


class Retriever:
    """Searches one loaded index: dense, BM25 or hybrid, with document, facet and date filters.

    The top-k searches go to a backend (cwqa.backends: the build's own files by default); the
    exact rescoring of the ~100 candidates, fusion and the hits' citations happen here, the same
    whatever backend found them.
    """

    def __init__(self, loaded, embedder, settings, backend: SearchBackend | None = None):
        self.loaded = loaded
        self.embedder = embedder
        self.settings = settings
        self.backend = backend or EmbeddedBackend(loaded)
        self.chunks = loaded.chunks  # a ChunkStore: passages are decoded when a hit needs them
        self.documents = loaded.documents  # a DocumentStore, likewise
        self.doc_ids: list[str] = loaded.documents.ids
        self._doc_index = {doc_id: i for i, doc_id in enumerate(self.doc_ids)}
        self._sorted_ids = sorted(self.doc_ids)  # volume prefixes by binary search
        self._facets = loaded.documents.facets

    # -- filters --------------------------------------------------------------------------------

    def resolve_docs(self, doc_ids: list[str] | None) -> list[str] | None:
        """Document ids named by the user: exact ids, or a volume prefix ('frus1955-57v24')."""
        if not doc_ids:
            return None
        chosen = []
        for wanted in doc_ids:
            wanted = str(wanted).strip()
            matches = [wanted] if wanted in self._doc_index else self._with_prefix(wanted + "-")
            if not matches and wanted.isdigit():
                # A printed document number ("41"): every indexed document with that number.
                matches = [self.doc_ids[i] for i in np.flatnonzero(self.documents.numbers == int(wanted))]
            if not matches:
                raise QueryError(f"unknown document {wanted!r} ({close_values(wanted, self.doc_ids)})")
            chosen.extend(matches)
        return chosen

    def _with_prefix(self, prefix: str) -> list[str]:
        at = bisect.bisect_left(self._sorted_ids, prefix)
        found = []
        while at < len(self._sorted_ids) and self._sorted_ids[at].startswith(prefix):
            found.append(self._sorted_ids[at])
            at += 1
        return found

    def search_filter(self, doc_ids=None, date_from: str | None = None, date_to: str | None = None, facets=None) -> Filter:
        """The filter a search runs under: named documents and facet matches (as document
        indices) and checked date bounds; a bad value is a one-line QueryError."""
        docs = self.resolve_docs(doc_ids)
        date_from, date_to = checked_date(date_from, "from"), checked_date(date_to, "to")
        faceted = matching_documents(self.documents, facets, self._facets)
        chosen = None
        if docs is not None:
            chosen = np.unique([self._doc_index[d] for d in docs])
        if faceted is not None:
            faceted = np.asarray(faceted, dtype=np.int64)
            chosen = faceted if chosen is None else np.intersect1d(chosen, faceted)
        return Filter(chosen, date_from, date_to)

    def allowed_positions(self, doc_ids=None, date_from: str | None = None, date_to: str | None = None, facets=None):
        """Positions of passages passing the filters, or None when nothing is filtered."""
        where = self.search_filter(doc_ids, date_from, date_to, facets)
        mask = passage_mask(where, self.chunks.docs, self.chunks.days, len(self.documents))
        return None if mask is None else np.flatnonzero(mask)

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
        where = self.search_filter(doc_ids, date_from, date_to, facets)
        # Rankers look deeper than k so the fused list can promote what both rank modestly.
        pool = max(50, 4 * depth)
        terms, query = self.query_of(question)
        lexical = self.backend.lexical(terms, pool, where)
        dense: list[tuple[int, float]] = []
        if mode in ("dense", "hybrid"):
            candidates = [position for position, _ in self.backend.dense(query, pool, where)]
            if mode == "hybrid":  # BM25's finds are rescored too, so fusion sees both scores for them
                seen = set(candidates)
                candidates += [position for position, _ in lexical if position not in seen]
            dense = sorted(self.dense_rescore(query, candidates), key=lambda pair: (-pair[1], pair[0]))
        # The dense scale is the ordinary candidates': a followed passage below their lowest
        # dense score does not stretch it (and so leaves their fused scores as they were).
        dense_floor = min((score for _, score in dense), default=None)
        links: dict[int, list[int]] = {}
        if mode == "hybrid" and self.settings.follow_references:
            links = self.reference_links(dense, lexical)
            extra_dense, extra_lexical = self.followed_references(query, terms, dense, lexical, where, links)
            dense = sorted(dense + extra_dense, key=lambda pair: (-pair[1], pair[0]))
            lexical = sorted(lexical + extra_lexical, key=lambda pair: (-pair[1], pair[0]))
        if mode == "dense":
            ranked = dense
        elif mode == "bm25":
            ranked = lexical
        elif self.settings.fusion == "rrf":
            weight = self.settings.dense_weight
            ranked = fuse_rrf([dense, lexical], [weight, 1.0 - weight], self.settings.rrf_k)
        else:
            weight = self.settings.dense_weight
            ranked = fuse_convex([dense, lexical], [weight, 1.0 - weight], floors=[dense_floor, 0.0])
        if FOLLOW_CREDIT and links:
            ranked = self._with_reference_credit(ranked, links, FOLLOW_CREDIT)
        if self.settings.neighbour_weight and mode == "hybrid":
            ranked = self._with_neighbours(ranked, self.settings.neighbour_weight)
        shown = ranked[:depth]
        bm25 = dict(lexical)
        unscored = [position for position, _ in shown if position not in bm25]
        if unscored:  # a dense find outside BM25's pool: its BM25 score, for the verdict and display
            bm25.update(zip(unscored, self.backend.lexical_at(terms, unscored).tolist()))
        closeness = self.best_cosines(query, [position for position, _ in shown])
        hits = [
            Hit(
                rank=rank,
                score=score,
                chunk=self.chunks[position],
                mode=mode,
                dense_score=cosine,
                bm25_score=float(bm25[position]),
            )
            for rank, ((position, score), cosine) in enumerate(zip(shown, closeness), start=1)
        ]
        clear = leader_is_clear(dense, lexical, ranked, self.settings.rerank_margin)
        return Ranking(hits, clear, mode)

    def reference_links(self, dense: list[tuple[int, float]], lexical: list[tuple[int, float]]) -> dict[int, list[int]]:
        """The documents (as indices) that the first FOLLOW_FROM documents of the dense and of the
        BM25 candidates refer to, each with the leading documents that refer to it, in order: the
        references of the first dense document, then the first BM25 one's, then the second's, ..."""
        doc_of = self.chunks.docs
        leading: list[list[int]] = []
        for ranking in (dense, lexical):
            docs: list[int] = []
            for position, _ in ranking:
                doc = int(doc_of[position])
                if doc not in docs:
                    docs.append(doc)
                    if len(docs) == FOLLOW_FROM:
                        break
            leading.append(docs)
        sources = dict.fromkeys(doc for pair in itertools.zip_longest(*leading) for doc in pair if doc is not None)
        links: dict[int, list[int]] = {}
        for doc in sources:
            for doc_id in (self.documents[doc].extra or {}).get("references") or ():
                index = self._doc_index.get(doc_id)
                if index is not None and doc not in links.setdefault(index, []):
                    links[index].append(doc)
        return links

    def followed_references(
        self, query, terms: dict[str, float], dense: list[tuple[int, float]], lexical: list[tuple[int, float]], where: Filter,
        links: dict[int, list[int]] | None = None,
    ) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        """Passages of the documents that the leading candidates' documents refer to ("See
        Document 12"), as (dense, BM25) score lists to join the candidates before fusion.

        The references are those saved with each document at build time (`extra["references"]`);
        `links` is `reference_links(dense, lexical)` when the caller has it already.
        Only passages that are not candidates already and pass the search's filter join; they
        are scored exactly as the candidates are, and one without a BM25 score above 0 joins the
        dense list only (as a dense find outside BM25's pool does).
        """
        candidates = {position for position, _ in dense} | {position for position, _ in lexical}
        if not candidates:
            return [], []
        doc_of = self.chunks.docs
        targets = list(self.reference_links(dense, lexical) if links is None else links)
        gathered: list[int] = []
        for index in targets:
            gathered += [p for p in self.chunks.of_document(index) if p not in candidates]
            if len(gathered) >= FOLLOW_GATHER:
                gathered = gathered[:FOLLOW_GATHER]
                break
        if not gathered:
            return [], []
        positions = np.asarray(gathered, dtype=np.int64)
        mask = passage_mask(where, np.asarray(doc_of[positions]), np.asarray(self.chunks.days[positions]), len(self.documents))
        if mask is not None:
            positions = positions[mask]
        if positions.size == 0:
            return [], []
        rescored = self.dense_rescore(query, positions.tolist())
        bm25 = self.backend.lexical_at(terms, positions.tolist())
        half = FOLLOW_PASSAGES // 2
        by_dense = sorted(range(len(rescored)), key=lambda i: (-rescored[i][1], rescored[i][0]))
        by_bm25 = [i for i in sorted(range(len(rescored)), key=lambda i: (-bm25[i], rescored[i][0])) if bm25[i] > 0]
        chosen = list(dict.fromkeys(by_bm25[:half] + by_dense))[:FOLLOW_PASSAGES]
        extra_dense = [rescored[i] for i in chosen]
        extra_lexical = [(rescored[i][0], float(bm25[i])) for i in chosen if bm25[i] > 0]
        return extra_dense, extra_lexical

    def _with_reference_credit(self, ranked, links: dict[int, list[int]], credit: float) -> list[tuple[int, float]]:
        """A passage of a referenced document gains `credit` of the best fused score of the leading
        documents that refer to it."""
        doc_of = self.chunks.docs
        best: dict[int, float] = {}
        for position, score in ranked:  # best first: a document's first passage is its best
            best.setdefault(int(doc_of[position]), score)
        credited = []
        for position, score in ranked:
            sources = links.get(int(doc_of[position]))
            if sources:
                score += credit * max(best.get(source, 0.0) for source in sources)
            credited.append((position, score))
        return sorted(credited, key=lambda pair: (-pair[1], pair[0]))

    def _with_neighbours(self, ranked: list[tuple[int, float]], weight: float) -> list[tuple[int, float]]:
        """A passage read with its neighbours: it gains `weight` of the better of the fused scores
        of the passages just before and after it in its document (an answer often spans two)."""
        scores = dict(ranked)
        doc_of = self.chunks.docs
        boosted = []
        for position, score in ranked:
            near = [scores.get(n, 0.0) for n in (position - 1, position + 1)
                    if 0 <= n < len(doc_of) and doc_of[n] == doc_of[position]]
            boosted.append((position, score + weight * max(near, default=0.0)))
        return sorted(boosted, key=lambda pair: (-pair[1], pair[0]))

    def query_of(self, question: str) -> tuple[dict[str, float], np.ndarray]:
        """The question's weighted BM25 terms and its vector, with the period words of its modern
        terms added at a lower weight when expansion is on (cwqa.expansion)."""
        terms = weighted_terms(question)
        query = self.embedder.encode_query(question)[0]
        extra = period_words(question) if self.settings.expand else ""
        if extra:
            terms = weighted_terms(extra, EXPANSION_WEIGHT, into=terms)
            blended = query + EXPANSION_WEIGHT * self.embedder.encode_query(extra)[0]
            query = (blended / np.linalg.norm(blended)).astype(np.float32)
        return terms, query

    def cosines(self, query, positions) -> tuple[np.ndarray, np.ndarray]:
        """For each passage: the question's cosine with the passage's vector, and with its best
        sentence's (0 for a passage without sentence vectors). Two gathers from the memory-mapped
        vectors for all candidates at once: one row at a time costs ~80 µs a row in numpy's memmap."""
        positions = np.asarray(positions, dtype=np.int64)
        if positions.size == 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.float32)
        passages = np.asarray(self.loaded.embeddings[positions]) @ query
        offsets = self.loaded.sentence_offsets
        begins, ends = offsets[positions], offsets[positions + 1]
        best = np.zeros(len(positions), dtype=np.float32)
        has = ends > begins
        if has.any():
            rows = np.concatenate([np.arange(b, e) for b, e in zip(begins[has], ends[has])])
            scores = np.asarray(self.loaded.sentences[rows]) @ query
            starts = np.concatenate([[0], np.cumsum((ends - begins)[has])[:-1]])
            best[has] = np.maximum.reduceat(scores, starts)
        return passages, best

    def dense_rescore(self, query, positions: list[int]) -> list[tuple[int, float]]:
        """Exact dense score of candidates: passage cosine plus its best sentence's cosine."""
        passages, best = self.cosines(query, positions)
        return [(int(p), float(a + b)) for p, a, b in zip(positions, passages, best)]

    def best_cosines(self, query, positions: list[int]) -> list[float]:
        """How close the question is to each passage or any of its sentences (a cosine, -1..1)."""
        passages, best = self.cosines(query, positions)
        return [float(max(a, b)) for a, b in zip(passages, best)]

    # -- navigation -----------------------------------------------------------------------------

    def chunk(self, chunk_id: str) -> Chunk:
        """A passage by id."""
        return self.chunks[self._position(chunk_id)]

    def _position(self, chunk_id: str) -> int:
        position = self.chunks.position(chunk_id)
        if position is None:
            raise KeyError(chunk_id)
        return position

    def neighbours(self, chunk_id: str, before: int = 1, after: int = 1) -> tuple[list[Chunk], list[Chunk]]:
        """The passages just before and after one, within the same document (for context)."""
        position = self._position(chunk_id)
        doc = self.chunks[position].doc_id
        previous = [c for c in self.chunks[max(0, position - before) : position] if c.doc_id == doc]
        following = [c for c in self.chunks[position + 1 : position + 1 + after] if c.doc_id == doc]
        return previous, following

    def document_chunks(self, doc_id: str) -> list[Chunk]:
        """All passages of one document, in order."""
        index = self._doc_index.get(doc_id)
        return [] if index is None else [self.chunks[position] for position in self.chunks.of_document(index)]

    def document(self, doc_id: str) -> IndexedDocument:
        """A document's metadata as saved with the index."""
        try:
            return self.documents[self._doc_index[doc_id]]
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
