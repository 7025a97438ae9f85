"""Index stage: passages → FAISS (dense) and BM25 (lexical) indexes, saved as a folder of files.

Layout of the index folder (default `index/`):

    CURRENT                 name of the build in use (replaced atomically)
    build-<time>-<pid>-<random>/  one complete build:
        manifest.json       how it was built: settings, model, corpus file hashes, file checksums
        chunks.jsonl        the passages, one JSON object a line, in index order, with the
                            arrays that read them one at a time (cwqa.stores)
        documents.jsonl     document metadata (title, date, source, ...), one a line, with its
                            ids, numbers and facets beside it (cwqa.stores)
        embeddings.npy      unit vectors, float32, one row per passage
        sentences.npy       unit vectors of each passage's sentences, float32
        sentence_offsets.npy  passage i's sentences are rows offsets[i]:offsets[i+1]
        embedding_keys.txt  hash of (model, text) per vector row, to reuse vectors next build
        dense.faiss         FAISS index over those vectors
        bm25/               bm25s index over the passages' text

A build is written to a temporary folder and only then named in CURRENT, so a build killed midway
leaves the previous one in use. A manifest that no longer matches the corpus, the model or the
settings makes the index stale; a file whose checksum differs makes it corrupt. Either way
`ensure_index` rebuilds and says why.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .chunking import chunk_documents
from .stores import ChunkStore, DocumentStore, write_chunks, write_documents
from .config import VERSION as __version__, Settings
from .corpus import corpus_fingerprint, file_sha256, read_corpus
from .crossrefs import referenced_documents
from .dense import read_dense_index, write_dense_index
from .documents import Coverage, IndexedDocument
from .embedding import ParallelEncoder, get_embedder, resolve_device
from .errors import IndexFileError
from .lexical import ANALYZER, load_bm25, write_bm25
from .passages import Chunk
from .text import split_sentences
from .vectors import clear_checkpoints
from .vectors import embed as embed_resumably

FORMAT_VERSION = 3  # 2: passages and documents read on demand (cwqa.stores), sampled checksums; 3: resolved references
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
EMBEDDINGS = "embeddings.npy"
SENTENCES = "sentences.npy"
SENTENCE_OFFSETS = "sentence_offsets.npy"
EMBEDDING_KEYS = "embedding_keys.txt"
DENSE = "dense.faiss"
BM25_DIR = "bm25"
Progress = Callable[[int, int], None]
Log = Callable[[str], None]


@dataclass
class IndexStatus:
    """What state the saved index is in, relative to the corpus and settings in force."""

    state: str  # "fresh", "stale", "missing" or "corrupt"
    reasons: list[str] = field(default_factory=list)
    manifest: dict | None = None
    path: Path | None = None

    @property
    def fresh(self) -> bool:
        return self.state == "fresh"

    def describe(self) -> str:
        """One line for the user: 'fresh', or the state and its first reasons."""
        if self.fresh:
            return "fresh"
        return f"{self.state}: " + "; ".join(self.reasons[:3])


@dataclass
class LoadedIndex:
    """A build in memory: passages, vectors and both search structures."""

    path: Path
    manifest: dict
    chunks: ChunkStore  # a Sequence[Chunk], decoded on demand
    documents: DocumentStore  # a Sequence[IndexedDocument], decoded on demand
    embeddings: np.ndarray
    sentences: np.ndarray
    sentence_offsets: np.ndarray
    dense: object  # faiss.Index
    bm25: object  # bm25s.BM25


# ---------------------------------------------------------------------------------------------
# Fingerprints and status


def current_build(index_dir: Path) -> Path | None:
    """The folder of the build in use, if any."""
    pointer = index_dir / CURRENT
    if not pointer.exists():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    return index_dir / name if name else None


def index_status(settings: Settings) -> IndexStatus:
    """Compare the saved index with the corpus and settings in force, and check its files."""
    build = current_build(settings.index_dir)
    if build is None:
        return IndexStatus("missing", ["no index has been built"])
    try:
        manifest = json.loads((build / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return IndexStatus("corrupt", [f"{build / MANIFEST} unreadable ({error.__class__.__name__})"], path=build)
    problems = _checksum_problems(build, manifest)
    if problems:
        return IndexStatus("corrupt", problems, manifest, build)
    reasons = _stale_reasons(manifest, settings)
    return IndexStatus("stale" if reasons else "fresh", reasons, manifest, build)


def _checksum_problems(build: Path, manifest: dict) -> list[str]:
    problems = []
    for name, expected in manifest.get("files", {}).items():
        path = build / name
        if not path.exists():
            problems.append(f"{path} is missing")
        elif _checksum(path) != expected:
            problems.append(f"{path} does not match its checksum")
    if not manifest.get("files"):
        problems.append(f"{build / MANIFEST} lists no files")
    return problems


def _stale_reasons(manifest: dict, settings: Settings) -> list[str]:
    reasons = []
    if manifest.get("format") != FORMAT_VERSION or manifest.get("cwqa_version") != __version__:
        reasons.append(f"built by cwqa {manifest.get('cwqa_version')}, this is {__version__}")
    if manifest.get("analyzer") != ANALYZER:
        reasons.append(f"BM25 analyzer changed ({manifest.get('analyzer')!r} → {ANALYZER!r})")
    for key, value in settings.index_settings().items():
        if manifest.get("settings", {}).get(key) != value:
            reasons.append(f"setting {key} changed ({manifest.get('settings', {}).get(key)!r} → {value!r})")
    saved = manifest.get("corpus", {})
    now = corpus_fingerprint(settings.corpus_dir)
    for name in sorted(now.keys() - saved.keys()):
        reasons.append(f"{name} was added")
    for name in sorted(saved.keys() - now.keys()):
        reasons.append(f"{name} was removed")
    for name in sorted(now.keys() & saved.keys()):
        if now[name] != saved[name]:
            reasons.append(f"{name} changed")
    return reasons


# Files up to this size are hashed whole on every status check; above it (the vectors of a
# million passages are gigabytes) by their size and SAMPLES evenly spaced blocks, so opening an
# index costs milliseconds, not a minute of reading, and truncation, replacement or a damaged
# region of a sampled block is still caught.
WHOLE_CHECKSUM_LIMIT = 64 << 20
SAMPLES, SAMPLE_BYTES = 64, 1 << 20


def _checksum(path: Path) -> str:
    size = path.stat().st_size
    if size <= WHOLE_CHECKSUM_LIMIT:
        return file_sha256(path)
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as handle:
        for i in range(SAMPLES):
            handle.seek((size - SAMPLE_BYTES) * i // (SAMPLES - 1))
            digest.update(handle.read(SAMPLE_BYTES))
    return "sampled:" + digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# Building


def build_index(settings: Settings, progress: Progress | None = None, log: Log = lambda message: None) -> Path:
    """Parse, chunk, embed and index the corpus; switch to the new build only when it is complete.

    Passages whose text (and model) are unchanged since the previous build reuse its vectors, so
    adding or editing one document re-embeds only that document's passages.
    """
    started = time.time()
    corpus_hashes = corpus_fingerprint(settings.corpus_dir)
    corpus = read_corpus(settings.corpus_dir)
    documents = corpus.documents
    for coverage in corpus.coverage:
        warning = coverage.warning()
        if warning:
            log(f"warning: {warning}")
    embedder = get_embedder(settings.model)
    prefix = settings.context_prefix
    chunks = chunk_documents(
        documents,
        settings.chunk_tokens,
        fits_model=lambda text: embedder.count_tokens(text) <= embedder.max_tokens,
        prefix=prefix,
    )
    if not chunks:
        raise IndexFileError(f"{settings.corpus_dir}: the corpus has no text to index")
    texts = [chunk.context_text(prefix) for chunk in chunks]
    # MiniLM averages a passage into one vector, which blurs the one sentence a question is
    # about; each sentence gets a vector too, and dense scores use the best one (eval: +16 points
    # Hit@5 for dense over passage vectors alone).
    sentences = [sentence_texts(chunk) for chunk in chunks]
    offsets = np.cumsum([0] + [len(group) for group in sentences]).astype(np.int64)
    all_texts = texts + [sentence for group in sentences for sentence in group]
    keys = [_embedding_key(settings.model, text) for text in all_texts]
    previous = _previous_vectors(settings.index_dir, embedder.dimension)
    reused = sum(key in previous for key in keys)
    log(f"embedding {len(all_texts) - reused} of {len(all_texts)} passages and sentences ({reused} reused from the previous build)")
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    with encoder_for(settings, embedder) as encoder:
        vectors, embedded = embed_resumably(encoder, all_texts, keys, previous, settings.index_dir, progress)
    # Each document's resolved cross-references are saved with it, so that a search can follow
    # them from a hit without reading any passage (cwqa.retrieval, `follow_references`).
    references = referenced_documents(documents)
    indexed = [IndexedDocument.of(d) for d in documents]
    for record in indexed:
        if references.get(record.id):
            record.extra["references"] = references[record.id]
    final = write_build(
        settings, indexed, chunks, texts, vectors[: len(chunks)],
        vectors[len(chunks):], offsets, keys,
        {"max_seq_length": embedder.max_tokens, "coverage": [c.to_dict() for c in corpus.coverage],
         "embedded": embedded, "reused": len(all_texts) - embedded, "corpus": corpus_hashes},
        started,
    )
    clear_checkpoints(settings.index_dir)
    log(f"index built: {len(chunks)} passages from {len(documents)} documents in {time.time() - started:.1f} s")
    return final


@contextmanager
def encoder_for(settings: Settings, embedder):
    """What embeds a build's texts: the model on a GPU when `device` finds one, else on the CPU in
    `workers` processes (one: this process's model, which has already counted the tokens)."""
    device = resolve_device(settings.device)
    if device != "cpu":
        yield get_embedder(settings.model, device)
    elif settings.workers > 1:
        with ParallelEncoder(settings.model, settings.workers) as encoder:
            yield encoder
    else:
        yield embedder


def write_build(
    settings: Settings, documents: list[IndexedDocument], chunks: list[Chunk], texts: list[str],
    vectors: np.ndarray, sentence_vectors: np.ndarray, sentence_offsets: np.ndarray, keys: list[str],
    facts: dict, started: float | None = None,
) -> Path:
    """Write a complete build from passages and their vectors, and make it the one in use.

    `texts` are what BM25 indexes (the passages' context texts); `keys` the (model, text) hashes of
    the passages then the sentences, in vector order. Used by `build_index` and by whoever has
    vectors made elsewhere (a benchmark's synthetic corpus, a GPU machine).
    """
    started = time.time() if started is None else started
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    # Everything is written under a temporary name first: a build killed at any point leaves
    # the previous build (named in CURRENT) untouched and in use.
    # Unique even for two builds in the same second by the same process (a rebuild right after
    # a build): the final name must never be that of the build in use.
    temporary = settings.index_dir / f".tmp-build-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    temporary.mkdir()
    try:
        doc_index = {document.id: i for i, document in enumerate(documents)}
        write_chunks(temporary, chunks, doc_index, [{"embedding_key": key} for key in keys[: len(chunks)]])
        write_documents(temporary, documents)
        np.save(temporary / EMBEDDINGS, np.asarray(vectors, dtype=np.float32))
        np.save(temporary / SENTENCES, np.asarray(sentence_vectors, dtype=np.float32))
        np.save(temporary / SENTENCE_OFFSETS, np.asarray(sentence_offsets, dtype=np.int64))
        (temporary / EMBEDDING_KEYS).write_text("\n".join(keys) + "\n", encoding="utf-8")
        kind = write_dense_index(vectors, temporary / DENSE)
        write_bm25(texts, temporary / BM25_DIR)
        manifest = {
            "format": FORMAT_VERSION,
            "cwqa_version": __version__,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "build_seconds": round(time.time() - started, 2),
            "settings": settings.index_settings(),
            "model": settings.model,
            "dimension": int(vectors.shape[1]),
            "dense_index": kind,
            "chunks": len(chunks),
            "documents": len(documents),
            "sentences": int(sentence_offsets[-1]),
            "analyzer": ANALYZER,
            "corpus": {},
            **facts,
            "files": {},
        }
        manifest["files"] = {
            str(path.relative_to(temporary)): _checksum(path) for path in sorted(temporary.rglob("*")) if path.is_file()
        }
        (temporary / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        final = settings.index_dir / temporary.name.replace(".tmp-build", "build")
        temporary.rename(final)
        _point_current(settings.index_dir, final.name)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    _remove_old_builds(settings.index_dir, keep=final.name)
    return final


def _point_current(index_dir: Path, name: str) -> None:
    """Replace CURRENT atomically: readers see the old build or the new one, never neither."""
    pointer = index_dir / f".{CURRENT}.{os.getpid()}"
    pointer.write_text(name + "\n", encoding="utf-8")
    with open(pointer, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer, index_dir / CURRENT)


def _remove_old_builds(index_dir: Path, keep: str) -> None:
    hour_ago = time.time() - 3600
    for path in index_dir.iterdir():
        if path.name == keep or not path.is_dir():
            continue
        # Another process may be writing a temporary build right now: leave recent ones alone.
        if path.name.startswith("build-") or (path.name.startswith(".tmp-build-") and path.stat().st_mtime < hour_ago):
            shutil.rmtree(path, ignore_errors=True)


def sentence_texts(chunk: Chunk) -> list[str]:
    """The sentences of a passage that get vectors of their own (at least one per passage)."""
    return split_sentences(chunk.text) or [chunk.text]


def _embedding_key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\n{text}".encode("utf-8")).hexdigest()


def _previous_vectors(index_dir: Path, dimension: int) -> dict[str, np.ndarray]:
    """Vectors of the build in use, by (model, text) key: unchanged passages are not re-embedded."""
    build = current_build(index_dir)
    if build is None:
        return {}
    try:
        old_keys = (build / EMBEDDING_KEYS).read_text("utf-8").split()
        old = np.concatenate([np.load(build / EMBEDDINGS), np.load(build / SENTENCES)])
        if old.shape != (len(old_keys), dimension):
            return {}
    except (OSError, ValueError, KeyError):
        return {}  # an unreadable previous build just means embedding everything
    return dict(zip(old_keys, old))


# ---------------------------------------------------------------------------------------------
# Loading


def load_index(settings: Settings) -> LoadedIndex:
    """Load the build in use; raises IndexFileError if it is missing or unreadable."""
    build = current_build(settings.index_dir)
    if build is None:
        raise IndexFileError(f"{settings.index_dir}: no index has been built (run `cwqa index`)")
    try:
        manifest = json.loads((build / MANIFEST).read_text(encoding="utf-8"))
        chunks = ChunkStore(build)
        documents = DocumentStore(build)
        embeddings = np.load(build / EMBEDDINGS, mmap_mode="r")
        sentences = np.load(build / SENTENCES, mmap_mode="r")
        sentence_offsets = np.load(build / SENTENCE_OFFSETS)
        dense = read_dense_index(build / DENSE)
        bm25 = load_bm25(build / BM25_DIR)
    except Exception as error:  # any unreadable file means the same to the user: rebuild
        raise IndexFileError(f"{build}: index files unreadable ({type(error).__name__}: {error})")
    if dense.ntotal != len(chunks) or embeddings.shape[0] != len(chunks) or len(sentence_offsets) != len(chunks) + 1:
        raise IndexFileError(f"{build}: index files disagree on the number of passages")
    return LoadedIndex(build, manifest, chunks, documents, embeddings, sentences, sentence_offsets, dense, bm25)


def ensure_index(settings: Settings, progress: Progress | None = None, log: Log = lambda message: None) -> LoadedIndex:
    """The index for these settings, rebuilt first if it is missing, stale or corrupt (saying why)."""
    status = index_status(settings)
    if not status.fresh:
        log(f"index {status.describe()}; rebuilding")
        build_index(settings, progress=progress, log=log)
    try:
        return load_index(settings)
    except IndexFileError as error:
        log(f"{error}; rebuilding")
        build_index(settings, progress=progress, log=log)
        return load_index(settings)


def manifest_coverage(manifest: dict | None) -> list[Coverage]:
    """The coverage report saved with a build: where every word of each corpus file went."""
    return [Coverage.from_dict(record) for record in (manifest or {}).get("coverage", [])]
