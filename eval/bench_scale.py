"""End-to-end search at scale: a synthetic build of N passages searched through `Pipeline.search`,
the same call the CLI makes. Used by `eval/bench.py --scale N` (the "search" rows).

What is synthetic, and what is real:
- passages: pseudo-word texts with Zipf word counts (bench.synthetic_texts), 2 sentences each;
- vectors: clustered synthetic unit vectors (bench.synthetic_vectors), not the model's;
- documents: 2.4 passages each on average (the FRUS series: 723,557 chunks in 306,016 documents),
  spread over 700 volumes, dated 1945-1990, with 300 senders (Zipf) and 40 places;
- questions: 3-7 pseudo-words, encoded by the real model (so query encoding is timed as users
  meet it), BM25 over the real analyzer, fusion, rescoring and hit building all real.
Recall@10 is measured for the dense index on synthetic query vectors near the corpus against exact
search (bench.synthetic_queries), as the dense-only rows do.

Two processes: one builds (or reuses .cache/bench-scale/N), a fresh one opens and searches, so the
opening time and the peak memory are what a user's process would meet.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "bench-scale"
VOLUMES, SENDERS, PLACES = 700, 300, 40


def settings_for(n: int):
    from cwqa.config import Settings

    folder = CACHE / str(n)
    (folder / "corpus").mkdir(parents=True, exist_ok=True)  # empty: the build's corpus is {}
    return Settings(corpus_dir=folder / "corpus", index_dir=folder / "index")


def synthetic_build(n: int) -> dict:
    """Write the synthetic build of n passages (reused when present and complete)."""
    from bench import synthetic_texts, synthetic_vectors

    from cwqa.documents import IndexedDocument
    from cwqa.passages import Chunk
    from cwqa.pipeline import build_from_vectors, status

    settings = settings_for(n)
    current = status(settings)
    if current.fresh:  # the rate its build was written at, as that build recorded it
        seconds = current.manifest.get("build_seconds") or 0
        return {"n": n, "reused": True, "build_s": seconds, "build_passages_per_s": round(n / seconds) if seconds else None}
    shutil.rmtree(settings.index_dir, ignore_errors=True)
    rng = np.random.default_rng(11)
    sizes = rng.integers(1, 5, size=n)  # passages per document: 1-4, mean 2.5
    ends = np.cumsum(sizes)
    sizes = sizes[: int(np.searchsorted(ends, n)) + 1]
    sizes[-1] -= int(sizes.sum() - n)
    days = rng.integers(0, 45 * 365, size=len(sizes))
    sender_weights = 1.0 / np.arange(1, SENDERS + 1)
    senders = rng.choice(SENDERS, size=len(sizes), p=sender_weights / sender_weights.sum())
    documents, chunks = [], []
    texts = synthetic_texts(n)
    started = time.perf_counter()
    position = 0
    for number, size in enumerate(sizes):
        volume = number % VOLUMES
        doc_id = f"synth{volume:03d}-d{number // VOLUMES + 1}"
        date = str(np.datetime64("1945-01-01") + int(days[number]))
        sender, place = f"Sender {senders[number]}", f"Place {number % PLACES}"
        documents.append(IndexedDocument(
            id=doc_id, title=f"Telegram From {sender} to the Department of State", citation_name=doc_id,
            path="synthetic", paragraphs=int(size), date=date, place=place,
            source={"document": number // VOLUMES + 1, "volume": f"Synthetic volume {volume}"},
            extra={"sender": sender, "recipient": "Department of State"},
        ))
        for paragraph in range(int(size)):
            text = texts[position]
            chunks.append(Chunk(
                id=f"{doc_id}-p{paragraph + 1}", paragraph_id=f"{doc_id}-p{paragraph + 1}", doc_id=doc_id,
                doc_title=documents[-1].title, section_id="body", section_label="", section_title="",
                label=f"¶{paragraph + 1}", ordinal=paragraph + 1, window=1, windows=1, text=text,
                text_start=0, text_end=len(text), start=0, end=len(text), first_page=None, last_page=None,
                citation=f"{doc_id}, ¶{paragraph + 1}", date=date,
            ))
            position += 1
    vectors = synthetic_vectors(n)
    sentences = synthetic_vectors(2 * n, seed=3)
    offsets = np.arange(0, 2 * n + 1, 2, dtype=np.int64)
    prepare_s = time.perf_counter() - started
    started = time.perf_counter()
    build_from_vectors(settings, documents, chunks, vectors, sentences, offsets)
    build_s = time.perf_counter() - started
    return {"n": n, "reused": False, "documents": len(documents), "prepare_s": round(prepare_s, 1),
            "build_s": round(build_s, 1), "build_passages_per_s": round(n / build_s)}


def questions(count: int, seed: int = 5) -> list[str]:
    from bench import synthetic_texts

    rng = np.random.default_rng(seed)
    texts = synthetic_texts(count, seed=seed, words_per_text=7, skip_top=100)
    return [" ".join(text.split()[: int(rng.integers(3, 8))]) for text in texts]


def search_at_scale(n: int, count: int) -> dict:
    """Open the build in this (fresh) process and time searches through Pipeline.search."""
    from bench import exact_top10, p50_p95, peak_rss_mb, synthetic_queries

    from cwqa.embedding import get_embedder
    from cwqa.pipeline import open_pipeline

    settings = settings_for(n)
    started = time.perf_counter()
    get_embedder(settings.model)
    model_s = time.perf_counter() - started
    started = time.perf_counter()
    pipeline = open_pipeline(settings)
    open_s = time.perf_counter() - started
    asked = questions(count)
    rng = np.random.default_rng(2)
    filters, kinds = [], [("volume", "dates", "sender")[i % 3] for i in range(count)]
    for kind in kinds:
        if kind == "volume":
            filters.append({"doc_ids": [f"synth{int(rng.integers(0, VOLUMES)):03d}"]})
        elif kind == "dates":
            year, month = int(rng.integers(1946, 1990)), int(rng.integers(1, 13))
            filters.append({"date_from": f"{year}-{month:02d}", "date_to": f"{year}-{month:02d}"})
        else:
            filters.append({"facets": {"sender": f"Sender {int(rng.integers(0, 20))}"}})

    def timed(search) -> list[float]:
        for question in asked[:5]:  # warm-up
            search(question, 0)
        times = []
        for i, question in enumerate(asked):
            begin = time.perf_counter()
            search(question, i)
            times.append((time.perf_counter() - begin) * 1000)
        return times

    plain = timed(lambda question, i: pipeline.search(question, k=10))
    filtered = timed(lambda question, i: pipeline.search(question, k=10, **filters[i]))
    by_kind = {kind: [t for t, k in zip(filtered, kinds) if k == kind] for kind in ("volume", "dates", "sender")}
    hybrid_p50, hybrid_p95 = p50_p95(plain)
    filtered_p50, filtered_p95 = p50_p95(filtered)
    searching_peak = peak_rss_mb()  # before the recall check below reads every vector
    # Dense recall@10 of the index as built (HNSW above cwqa.dense.EXACT_SEARCH_LIMIT) against
    # exact search, on query vectors near the corpus.
    backend = pipeline.retriever.backend
    vectors = np.asarray(pipeline.retriever.loaded.embeddings)
    probe = synthetic_queries(vectors, 100)
    truth = exact_top10(vectors, probe)
    found = [[p for p, _ in backend.dense(q, 10, _no_filter())] for q in probe]
    recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)]))
    result = {
        "n": n,
        "hybrid_p50_ms": round(hybrid_p50, 2),
        "hybrid_p95_ms": round(hybrid_p95, 2),
        "filtered_hybrid_p50_ms": round(filtered_p50, 2),
        "filtered_hybrid_p95_ms": round(filtered_p95, 2),
        "recall_at_10": round(recall, 3),
        "open_s": round(open_s, 2),
        "model_load_s": round(model_s, 2),
        "peak_rss_mb": round(searching_peak),
        "peak_rss_with_recall_check_mb": round(peak_rss_mb()),
        "dense_index": pipeline.manifest.get("dense_index"),
        "documents": len(pipeline.documents),
    }
    for kind, times in by_kind.items():
        p50, p95 = p50_p95(times)
        result[f"filtered_{kind}_p50_ms"], result[f"filtered_{kind}_p95_ms"] = round(p50, 2), round(p95, 2)
    return result


def _no_filter():
    from cwqa.backends import Filter

    return Filter()


if __name__ == "__main__":  # a quick look: python eval/bench_scale.py N
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    print(json.dumps(synthetic_build(size)))
