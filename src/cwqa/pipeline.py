"""The public pipeline: open an index once, then search and answer. The CLI, the app and the
evaluation all go through `open_pipeline(settings)`; nothing above this layer reaches below it.

    pipeline = open_pipeline(load_settings())
    result = pipeline.search("What did Kennan say drives Soviet policy?")
    answer = pipeline.answer(result.question, result.hits)

Reranking is a step above search: the language model reorders the first hits when the rerank
policy says so (`off`, `auto`: only when the leader is unclear, `on`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from .answers.model import Answer
from .answers.plugins import Generator, get_generator
from .answers.run import AnswerStream, generate_answer, stream_answer
from .backends import Filter, get_backend
from .config import Settings, load_settings, rerank_policy
from .bibliography import FORMATS as EXPORT_STYLES  # noqa: F401  (re-exported for the CLI)
from .bibliography import export as export_citations
from .documents import FACETS, Coverage, IndexedDocument, facet_fields, matching_documents  # noqa: F401  (FACETS: for the CLI)
from . import entries
from .embedding import get_embedder
from .errors import ConfigError, QueryError
from .fusion import should_rerank
from .corpus import Corpus, read_corpus
from .index import MANIFEST, IndexStatus, Progress, build_index, ensure_index, index_status, manifest_coverage, write_build
from .passages import Chunk, Hit
from .reranking import get_reranker
from .retrieval import Retriever, checked_date
from .stores import day_number
from .verdict import MatchVerdict, assess_match

Log = Callable[[str], None]


@dataclass(frozen=True)
class SearchResult:
    """What one search gives: the hits, whether the language model reordered them, and whether
    any of them is a good match."""

    question: str
    hits: list[Hit]
    mode: str
    reranked: bool
    verdict: MatchVerdict
    notes: list[str] = field(default_factory=list)  # e.g. "the reranking model is not installed"
    documents: dict[str, IndexedDocument] = field(default_factory=dict)  # the hits' documents

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "mode": self.mode,
            "reranked": self.reranked,
            "good_match": self.verdict.good,
            "verdict": self.verdict.reason,
            "notes": list(self.notes),
            "hits": [{**hit.to_dict(), **self._facets(hit)} for hit in self.hits],
        }

    def _facets(self, hit: Hit) -> dict:
        document = self.documents.get(hit.doc_id)
        return facet_fields(document) if document is not None else {}


class Pipeline:
    """One opened index with its model: search, rerank by policy, answer."""

    def __init__(self, settings: Settings, retriever: Retriever, log: Log = lambda message: None):
        self.settings = settings
        self.retriever = retriever
        self.log = log
        self._reranker_missing = ""  # why "auto" found no reranking model, said once

    # -- the corpus, as indexed -----------------------------------------------------------------

    @property
    def documents(self) -> list[IndexedDocument]:
        return self.retriever.documents

    @property
    def chunks(self) -> list[Chunk]:
        return self.retriever.chunks

    @property
    def manifest(self) -> dict:
        return self.retriever.loaded.manifest

    @property
    def build_path(self) -> Path:
        """The folder of the index build in use."""
        return self.retriever.loaded.path

    @property
    def coverage(self) -> list[Coverage]:
        """Where every word of each corpus file went, as recorded by the build in use."""
        return manifest_coverage(self.manifest)

    def document(self, doc_id: str) -> IndexedDocument:
        return self.retriever.document(doc_id)

    def document_chunks(self, doc_id: str) -> list[Chunk]:
        return self.retriever.document_chunks(doc_id)

    def chunk(self, chunk_id: str) -> Chunk:
        return self.retriever.chunk(chunk_id)

    def neighbours(self, chunk_id: str, before: int = 1, after: int = 1) -> tuple[list[Chunk], list[Chunk]]:
        return self.retriever.neighbours(chunk_id, before, after)

    def resolve_docs(self, doc_ids: Sequence[str] | None) -> list[str] | None:
        return self.retriever.resolve_docs(list(doc_ids) if doc_ids else None)

    # -- search ---------------------------------------------------------------------------------

    def search(
        self,
        question: str,
        k: int | None = None,
        mode: str | None = None,
        doc_ids: Sequence[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        rerank: bool | str | None = None,
        facets: dict[str, str] | None = None,
    ) -> SearchResult:
        """The k best passages for a question, reranked when the policy says so."""
        k = k or self.settings.k
        if k < 1:
            raise QueryError(f"k must be at least 1, not {k}")
        try:
            policy = rerank_policy(self.settings.rerank if rerank is None else rerank)
        except ValueError as error:
            raise QueryError(str(error)) from None
        wanted = max(k, self.settings.rerank_depth) if policy != "off" else k
        ranking = self.retriever.rank(question, wanted, mode, list(doc_ids) if doc_ids else None, date_from, date_to, facets)
        hits, notes = ranking.hits, []
        reranked = False
        if should_rerank(policy, ranking.mode, ranking.leader_clear) and len(hits) > 1:
            reordered = self._rerank(question, hits, policy, notes)
            reranked = reordered is not None
            hits = reordered if reordered is not None else hits

        # "Who was Thompson?": the List of Persons / Abbreviations entry that prints the name asked
        # comes first, ahead of passages that only mention it; only when nothing narrows the search.
        lists = entries.list_documents(self.documents) if entries.asked_name(question) else []
        if lists and not (doc_ids or date_from or date_to or facets):
            named = entries.naming_entries(question, self.retriever.rank(question, entries.DEPTH, mode, lists).hits)
            hits = entries.entries_first(hits, named)
        hits = hits[:k]
        documents = {hit.doc_id: self.retriever.document(hit.doc_id) for hit in hits}
        return SearchResult(question.strip(), hits, ranking.mode, reranked, assess_match(hits), notes, documents)

    def _rerank(self, question: str, hits: list[Hit], policy: str, notes: list[str]) -> list[Hit] | None:
        if self._reranker_missing and policy != "on":
            notes.append(self._reranker_missing)
            return None
        try:
            reranker = get_reranker(self.settings)
        except ConfigError as error:
            if policy == "on":
                raise
            # "auto": without the optional model, search still works, unreranked; said once.
            self._reranker_missing = f"{error}; searching without reranking"
            self.log(self._reranker_missing)
            notes.append(self._reranker_missing)
            return None
        depth = self.settings.rerank_depth
        return reranker.rerank(question, hits[:depth], self.settings.rerank_weight) + hits[depth:]

    def export(self, hits: Sequence[Hit], style: str) -> str:
        """The hits' documents as Chicago notes, BibTeX or RIS (cwqa.bibliography), each once."""
        return export_citations([self.document(hit.doc_id) for hit in hits], list(hits), style)

    # -- answers --------------------------------------------------------------------------------

    def generator(self, name: str | None = None) -> Generator:
        """The generator by name (default: the settings'), built with these settings."""
        return get_generator(name, self.settings)

    def answer(self, question: str, hits: Sequence[Hit], generator: str | Generator | None = None) -> Answer:
        """A verified answer from the hits, by the named generator (default: the settings')."""
        chosen = generator if isinstance(generator, Generator) else self.generator(generator)
        return generate_answer(chosen, question, hits, self.retriever.embedder)

    def stream(self, question: str, hits: Sequence[Hit], generator: str | Generator | None = None) -> AnswerStream:
        """An answer as a stream of text pieces; `.answer` holds the verified answer at the end."""
        chosen = generator if isinstance(generator, Generator) else self.generator(generator)
        return stream_answer(chosen, question, hits, self.retriever.embedder)


def open_pipeline(
    settings: Settings | None = None, progress: Progress | None = None, log: Log = lambda message: None, rebuild: bool = False
) -> Pipeline:
    """A ready pipeline over the index for these settings, building the index first when it is
    missing, stale or corrupt (saying why through `log`), or when `rebuild` asks."""
    settings = settings or load_settings()
    if rebuild:
        build_index(settings, progress=progress, log=log)
    loaded = ensure_index(settings, progress=progress, log=log)
    backend = get_backend(settings.backend)(loaded, settings, log=log)
    return Pipeline(settings, Retriever(loaded, get_embedder(settings.model), settings, backend), log)


def push(settings: Settings, uri: str | None = None, progress: Progress | None = None, log: Log = lambda message: None) -> str:
    """Fill the build's Milvus collection now (at `uri`, else the settings' backend_uri), building
    the index first if it is stale; returns one line saying what is there."""
    settings = settings.replace(backend="milvus", backend_uri=uri)
    loaded = ensure_index(settings, progress=progress, log=log)
    backend = get_backend("milvus")(loaded, settings, log=log)
    try:
        return (f"{backend.collection} at {backend.uri}: {backend.stored()} passages "
                f"({backend.pushed} pushed now, {len(loaded.chunks) - backend.pushed} already there)")
    finally:
        backend.close()


def status(settings: Settings) -> IndexStatus:
    """The saved index's state relative to the corpus and settings, without opening it."""
    return index_status(settings)


def build(settings: Settings, progress: Progress | None = None, log: Log = lambda message: None) -> tuple[Path, list[Coverage]]:
    """Build the index now (atomically: the previous build stays in use until this one is
    complete); returns its folder and where every word of each corpus file went."""
    path = build_index(settings, progress=progress, log=log)
    manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    return path, manifest_coverage(manifest)


def build_from_vectors(
    settings: Settings, documents: list[IndexedDocument], chunks: list[Chunk], vectors, sentence_vectors, sentence_offsets,
) -> Path:
    """Write an index from passages whose vectors were made elsewhere (a GPU machine, a
    benchmark's synthetic corpus), atomically, as `build` would; returns the build's folder.

    vectors[i] is passage i's unit vector; its sentences' vectors are
    sentence_vectors[sentence_offsets[i]:sentence_offsets[i + 1]]."""
    texts = [chunk.context_text(settings.context_prefix) for chunk in chunks]
    keys = [f"external-{i}" for i in range(len(chunks) + int(sentence_offsets[-1]))]  # never reused by a build
    return write_build(settings, documents, chunks, texts, vectors, sentence_vectors, sentence_offsets, keys, {"vectors": "external"})


def filter_documents(documents, date_from: str | None = None, date_to: str | None = None, facets: dict | None = None) -> list:
    """The documents whose date and facets match, as `search` filters them (for a chronology).

    A value no document has is a one-line QueryError, as in search."""
    where = Filter(None, checked_date(date_from, "from"), checked_date(date_to, "to"))
    chosen = matching_documents(documents, facets)
    kept = list(documents) if chosen is None else [documents[i] for i in chosen]
    if where.empty:
        return kept
    # The bounds as search compares them (cwqa.backends.Filter.day_range); undated never pass.
    earliest, latest = where.day_range
    days = [(d, day_number(d.date)) for d in kept]
    return [d for d, day in days if day > 0 and (earliest is None or day >= earliest) and (latest is None or day <= latest)]


def read_documents(settings: Settings) -> Corpus:
    """The corpus as its readers see it, without building anything: documents and coverage."""
    return read_corpus(settings.corpus_dir)
