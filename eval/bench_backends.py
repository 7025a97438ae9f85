"""Search latency of the seeds on each search backend: prints numbers, asserts nothing.

    .venv/bin/python eval/bench_backends.py                    # embedded and milvus (milvus-lite)
    .venv/bin/python eval/bench_backends.py --backends embedded
    .venv/bin/python eval/bench_backends.py --uri http://host:19530   # Milvus at a server

The seeds' index is built (or reused) in a temporary folder, or in --index-dir. Each backend
runs every question of eval/questions.jsonl through Retriever.search (k = 5; the question's
embedding included, as a user meets it) after a warm-up pass, without and with a date filter,
and prints p50/p95/mean in ms; then the backend's own two top-50 searches of a hybrid search
alone (backend_only: the question already encoded); and the time to open the backend (for
Milvus: connect and, the first time, push the build's passages).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def p50_p95_mean(values_ms: list[float]) -> dict:
    values = np.asarray(values_ms)
    return {"p50_ms": round(float(np.percentile(values, 50)), 2), "p95_ms": round(float(np.percentile(values, 95)), 2),
            "mean_ms": round(float(values.mean()), 2)}


def timed(retriever, questions: list[str], mode: str, **search) -> list[float]:
    times = []
    for question in questions:
        started = time.perf_counter()
        retriever.search(question, k=5, mode=mode, **search)
        times.append((time.perf_counter() - started) * 1000)
    return times


def bench_backend(name: str, loaded, embedder, settings, questions: list[str], uri: str, modes: list[str]) -> dict:
    from cwqa.backends import get_backend
    from cwqa.retrieval import Retriever

    settings = dataclasses.replace(settings, backend=name, backend_uri=uri if name == "milvus" else "")
    started = time.perf_counter()
    backend = get_backend(name)(loaded, settings)
    opened = time.perf_counter() - started
    retriever = Retriever(loaded, embedder, settings, backend)
    result = {"backend": name, "open_s": round(opened, 2), "questions": len(questions)}
    try:
        for mode in modes:
            timed(retriever, questions, mode)  # warm-up: caches, the engine's first queries
            result[mode] = p50_p95_mean(timed(retriever, questions, mode))
        result["hybrid_filtered"] = p50_p95_mean(timed(retriever, questions, "hybrid", date_from="1946-01", date_to="1946-12"))
        # The backend's own share of a hybrid search: its two top-50 searches, the question's
        # terms and vector made beforehand (what the engine costs, without the model's encoding).
        queries = [retriever.query_of(question) for question in questions]
        where = retriever.search_filter()
        times = []
        for _ in range(2):  # the first pass warms up
            times = []
            for terms, vector in queries:
                started = time.perf_counter()
                backend.dense(vector, 50, where)
                backend.lexical(terms, 50, where)
                times.append((time.perf_counter() - started) * 1000)
        result["backend_only"] = p50_p95_mean(times)
    finally:
        backend.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="embedded,milvus", help="comma-separated backend names")
    parser.add_argument("--uri", default="", help="Milvus URI (default: milvus-lite in a temporary folder)")
    parser.add_argument("--modes", default="hybrid,dense,bm25")
    parser.add_argument("--index-dir", type=Path, help="build the seeds' index here (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT / "src"))
    from cwqa.config import Settings
    from cwqa.embedding import get_embedder
    from cwqa.index import ensure_index

    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "questions.jsonl").read_text("utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as scratch:
        index_dir = args.index_dir or Path(scratch) / "index"
        settings = Settings(corpus_dir=ROOT / "corpus", index_dir=index_dir, rerank="off")
        loaded = ensure_index(settings, log=lambda message: print(message, file=sys.stderr))
        embedder = get_embedder(settings.model)
        uri = args.uri or str(Path(scratch) / "milvus.db")
        results = [bench_backend(name.strip(), loaded, embedder, settings, questions, uri, args.modes.split(","))
                   for name in args.backends.split(",") if name.strip()]
    print(f"seeds: {len(loaded.chunks)} passages, {len(questions)} questions, k = 5, warm")
    print(f"{'backend':10} {'open s':>7}  " + "  ".join(f"{m + ' p50/p95 ms':>24}" for m in [*args.modes.split(","), "hybrid_filtered", "backend_only"]))
    for result in results:
        cells = [f"{result[m]['p50_ms']:>11.1f} / {result[m]['p95_ms']:<10.1f}" for m in [*args.modes.split(","), "hybrid_filtered", "backend_only"]]
        print(f"{result['backend']:10} {result['open_s']:>7.2f}  " + "  ".join(cells))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
