"""Systems under evaluation: cwqa's own modes, and naive baselines built in memory from the raw text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple, Sequence


from ..dense import make_dense_index
from ..errors import CwqaError
from ..fusion import top_k
from ..lexical import bm25_tokenize
from .metrics import Judged


BASELINES = ("bm25-paragraphs", "dense-paragraphs", "dense-fixed-1000")


FIXED_CHARS = 1000


FIXED_OVERLAP = 200


class Ranked(NamedTuple):
    """One ranked passage of a system's answer to a question."""

    passage_id: str
    text: str
    score: float


Search = Callable[[str, int], list[Ranked]]


@dataclass
class System:
    """A retrieval system under evaluation: its whole passage collection and its search function."""

    name: str
    kind: str  # "mode" or "baseline"
    passages: list[tuple[str, str]]  # (id, text) of every passage it can return
    search: Search
    description: str = ""


RERANK_SUFFIX = {"off": "", "auto": "+auto-rerank", "on": "+rerank"}


RERANK_DESCRIPTION = {
    "off": "",
    "auto": ", reranked by a language model when its leader is unclear",
    "on": ", reranked by a language model",
}


def mode_system(pipeline, mode: str, rerank: str = "off") -> System:
    """One retrieval mode of the real index as a System, under a rerank policy whatever the
    settings say; its name carries the policy ("hybrid", "hybrid+auto-rerank", "hybrid+rerank")."""

    def search(question: str, k: int) -> list[Ranked]:
        hits = pipeline.search(question, k=k, mode=mode, rerank=rerank).hits
        return [Ranked(hit.chunk.id, hit.chunk.text, hit.score) for hit in hits]

    passages = [(chunk.id, chunk.text) for chunk in pipeline.chunks]
    described = f"cwqa {mode} over the structure-aware index{RERANK_DESCRIPTION[rerank]}"
    return System(mode + RERANK_SUFFIX[rerank], "mode", passages, search, described)


def raw_text_files(corpus_dir: Path) -> list[Path]:
    """The corpus's plain-text files, which the naive baselines read without any parsing."""
    return sorted(path for path in Path(corpus_dir).glob("*.txt") if not path.name.lower().startswith("readme"))


def blank_line_paragraphs(files: Sequence[Path]) -> list[tuple[str, str]]:
    """Passages split on blank lines, nothing else: headings, page markers and page-break splits stay."""
    passages = []
    for path in files:
        blocks = re.split(r"\n[ \t]*\n", path.read_text(encoding="utf-8"))
        texts = [block.strip() for block in blocks if block.strip()]
        passages += [(f"{path.name}#{n}", text) for n, text in enumerate(texts, start=1)]
    return passages


def fixed_windows(files: Sequence[Path], size: int = FIXED_CHARS, overlap: int = FIXED_OVERLAP) -> list[tuple[str, str]]:
    """Passages of `size` characters, each starting `size - overlap` after the previous, per file."""
    passages = []
    step = size - overlap
    for path in files:
        text = path.read_text(encoding="utf-8")
        for start in range(0, max(1, len(text) - overlap), step):
            window = text[start : start + size].strip()
            if window:
                passages.append((f"{path.name}@{start}", window))
    return passages


def bm25_search(passages: list[tuple[str, str]]) -> Search:
    """BM25 (bm25s, same tokenizer as the real index) over passages, in memory."""
    import bm25s

    engine = bm25s.BM25()
    engine.index(bm25_tokenize([text for _, text in passages]), show_progress=False)

    def search(question: str, k: int) -> list[Ranked]:
        known = [token for token in bm25_tokenize([question])[0] if token in engine.vocab_dict]
        if not known:
            return []
        scores = engine.get_scores(known)
        return [Ranked(*passages[i], score) for i, score in top_k(scores, k) if score > 0]

    return search


def dense_search(passages: list[tuple[str, str]], embedder) -> Search:
    """Exact inner-product search (temporary FAISS flat index) over the passages' embeddings."""
    vectors = embedder.encode([text for _, text in passages])  # shortest first inside, rows in order
    index = make_dense_index(vectors, "flat")

    def search(question: str, k: int) -> list[Ranked]:
        scores, ids = index.search(embedder.encode_query(question), min(k, index.ntotal))
        return [Ranked(*passages[i], float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    return search


def baseline_systems(corpus_dir: Path, embedder) -> list[System]:
    """The three naive baselines over the raw .txt files of a corpus, built in memory."""
    files = raw_text_files(corpus_dir)
    if not files:
        raise CwqaError(f"{corpus_dir}: no .txt files for the baselines (use --no-baselines)")
    paragraphs = blank_line_paragraphs(files)
    windows = fixed_windows(files)
    bm25_paragraphs, dense_paragraphs, dense_fixed = BASELINES
    return [
        System(bm25_paragraphs, "baseline", paragraphs, bm25_search(paragraphs), "BM25, raw text split on blank lines"),
        System(dense_paragraphs, "baseline", paragraphs, dense_search(paragraphs, embedder), "dense, raw text split on blank lines"),
        System(
            dense_fixed,
            "baseline",
            windows,
            dense_search(windows, embedder),
            f"dense, fixed {FIXED_CHARS}-character windows, {FIXED_OVERLAP} overlap",
        ),
    ]


@dataclass
class SystemResult:
    """A system's metrics, with the per-question judgements and rankings they came from."""

    system: System
    metrics: dict
    judged: list[Judged]
    rankings: dict[str, list[Ranked]]
    latencies_ms: list[float]
