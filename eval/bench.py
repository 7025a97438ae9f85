"""Benchmarks for cwqa: prints numbers, asserts nothing (timings belong here, never in tests).

    .venv/bin/python eval/bench.py                          # everything, scale 10^4 and 10^5
    .venv/bin/python eval/bench.py --scale 10000            # a quick run
    .venv/bin/python eval/bench.py --scale 1000000 --skip-real   # the 10^6 run (many minutes)

Sections:
  real   build throughput of the real index (into a temporary folder), peak memory, the model's
         embedding speed, and warm query latency per mode over eval/questions.jsonl: each mode
         unreranked, then the default hybrid search whose "auto" policy reranks unclear questions
         (share reranked, p50/p90/p95/mean; --skip-rerank leaves it out)
  scale  synthetic corpora of N passages: build time, memory, single-query search p50/p95 and
         recall@10 of the FAISS index cwqa chooses for N (cwqa.index.choose_dense_index: flat up to
         EXACT_SEARCH_LIMIT, HNSW above) against exact search; and BM25 (bm25s) over synthetic text
  frus   an estimate for the whole FRUS series (1-2 million passages) from the measured rates

Synthetic vectors are NOT uniform on the sphere: they are drawn around cluster centres so that
they resemble real sentence embeddings (anisotropic, topical). Each vector is
    normalise(a*g + b*topic + c*cluster + d*noise)
with g one shared direction (real embeddings all lean one way), ~N/5000 topics, ~N/50 clusters
and isotropic noise over all 384 dimensions. The noise in all 384 dimensions makes neighbours within a
cluster hard to tell apart, so HNSW recall here is if anything pessimistic compared with real
embeddings, whose variation lies in fewer dimensions. The printout gives the mean pairwise and
nearest-neighbour cosine of the synthetic data, and of the real index (real_mean_cos, real_nn_cos).

Each scale runs in a child process, so its peak memory (VmHWM; getrusage's ru_maxrss would carry
over the parent's peak) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

DIMENSION = 384
MIXTURE = {"global": 0.5, "topic": 0.45, "cluster": 0.5, "noise": 0.55}  # weights a, b, c, d above
FRUS_PASSAGES = (1_000_000, 2_000_000)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    The kernel's VmHWM of this process's memory map, which starts afresh at exec; getrusage's
    ru_maxrss (the fallback) would carry over the parent's peak into a child worker.
    """
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def rss_mb() -> float:
    """Current resident memory of this process, in MB."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def p50_p95(values_ms: list[float]) -> tuple[float, float]:
    """Median and 95th percentile, in ms."""
    return float(np.percentile(values_ms, 50)), float(np.percentile(values_ms, 95))


# ---------------------------------------------------------------------------------------------
# Synthetic data


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, in place."""
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix


def synthetic_vectors(n: int, seed: int = 0, dimension: int = DIMENSION) -> np.ndarray:
    """n unit vectors drawn around a hierarchy of centres (see the module docstring), float32."""
    rng = np.random.default_rng(seed)
    topics = max(4, n // 5000)
    clusters = max(8, n // 50)
    shared = unit_rows(rng.standard_normal((1, dimension), dtype=np.float32))
    topic_centres = unit_rows(rng.standard_normal((topics, dimension), dtype=np.float32))
    cluster_topic = rng.integers(0, topics, clusters)
    cluster_centres = unit_rows(rng.standard_normal((clusters, dimension), dtype=np.float32))
    out = np.empty((n, dimension), dtype=np.float32)
    block = 100_000
    for begin in range(0, n, block):  # in blocks, so the temporaries stay small at 10^6
        size = min(block, n - begin)
        member = rng.integers(0, clusters, size)
        rows = MIXTURE["global"] * shared + MIXTURE["topic"] * topic_centres[cluster_topic[member]]
        rows += MIXTURE["cluster"] * cluster_centres[member]
        rows += MIXTURE["noise"] * unit_rows(rng.standard_normal((size, dimension), dtype=np.float32))
        out[begin : begin + size] = unit_rows(rows)
    return out


def synthetic_queries(vectors: np.ndarray, count: int, spread: float = 0.8, seed: int = 7) -> np.ndarray:
    """Questions near the corpus, not in it: stored vectors moved by noise (cosine ~0.78 to their source)."""
    rng = np.random.default_rng(seed)
    noise = unit_rows(rng.standard_normal((count, vectors.shape[1]), dtype=np.float32))
    return unit_rows(vectors[rng.choice(len(vectors), count, replace=False)] + spread * noise)


def exact_top10(vectors: np.ndarray, queries: np.ndarray, block: int = 20) -> np.ndarray:
    """The true 10 nearest (by inner product) of each query, by brute force in blocks of queries."""
    rows = []
    for begin in range(0, len(queries), block):
        scores = vectors @ queries[begin : begin + block].T  # (n, block): 80 MB at 10^6
        rows.append(np.argpartition(-scores, 10, axis=0)[:10].T)
    return np.concatenate(rows)


def similarity_profile(vectors: np.ndarray, sample: int = 400, seed: int = 1) -> dict:
    """Mean pairwise cosine and mean nearest-neighbour cosine, on a sample against all vectors."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(vectors), min(sample, len(vectors)), replace=False)
    pair = vectors[rows] @ vectors[rng.choice(len(vectors), len(rows))].T
    nearest = []
    for begin in range(0, len(rows), 50):
        scores = vectors[rows[begin : begin + 50]] @ vectors.T
        scores[np.arange(len(scores)), rows[begin : begin + 50]] = -1  # not itself
        nearest.append(scores.max(axis=1))
    return {"mean_cos": round(float(pair.mean()), 3), "nn_cos": round(float(np.concatenate(nearest).mean()), 3)}


def pseudo_words(count: int = 50_000, seed: int = 0) -> list[str]:
    """A fixed vocabulary of pseudo-words of 3 to 9 letters."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    return ["".join(letters[rng.integers(0, 26, rng.integers(3, 10))]) for _ in range(count)]


def synthetic_texts(
    n: int, seed: int = 0, words_per_text: int = 60, vocabulary: int = 50_000, skip_top: int = 0
) -> list[str]:
    """n texts of pseudo-words drawn from a Zipf-like distribution, like the word counts of prose.

    `skip_top` leaves out the most frequent words: questions reach BM25 with their stop words
    removed, and the top ranks of a Zipf vocabulary play the part of stop words here.
    """
    rng = np.random.default_rng(seed)
    words = pseudo_words(vocabulary)  # the same vocabulary whatever the seed, so questions share it
    weights = 1.0 / np.arange(1, vocabulary + 1) ** 1.05
    weights[:skip_top] = 0.0
    weights /= weights.sum()
    ids = rng.choice(vocabulary, size=(n, words_per_text), p=weights)
    return [" ".join(words[i] for i in row) for row in ids]


# ---------------------------------------------------------------------------------------------
# Scale workers (each in its own process)


def scale_dense(n: int, queries: int, hnsw: str | None = None) -> dict:
    """Build the dense index cwqa would choose for n passages; time it and measure its recall@10.

    `hnsw` ("M,efConstruction,efSearch") tries other HNSW constants in this process only, to
    choose values before writing them into cwqa/index.py.
    """
    import faiss

    from cwqa import index as cwqa_index

    if hnsw:
        m, ef_construction, ef_search = (int(v) for v in hnsw.split(","))
        cwqa_index.HNSW_NEIGHBOURS, cwqa_index.HNSW_EF_CONSTRUCTION, cwqa_index.HNSW_EF_SEARCH = m, ef_construction, ef_search
    vectors = synthetic_vectors(n)
    before = rss_mb()
    query_vectors = synthetic_queries(vectors, queries)
    kind = cwqa_index.choose_dense_index(n)
    started = time.perf_counter()
    index = cwqa_index.make_dense_index(vectors, kind)
    build_s = time.perf_counter() - started
    peak_build = peak_rss_mb()  # before the exact search and the statistics below add their own
    index_mb = faiss.serialize_index(index).nbytes / 2**20
    after = rss_mb()
    for q in query_vectors[:10]:  # warm-up
        index.search(q[None, :], 10)
    found, times = [], []
    for q in query_vectors:
        started = time.perf_counter()
        _, ids = index.search(q[None, :], 10)
        times.append((time.perf_counter() - started) * 1000)
        found.append(ids[0])
    truth = exact_top10(vectors, query_vectors)
    recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)]))
    p50, p95 = p50_p95(times)
    result = {
        "n": n,
        "index": kind,
        "params": f"M={cwqa_index.HNSW_NEIGHBOURS} efC={cwqa_index.HNSW_EF_CONSTRUCTION} "
        f"efS={cwqa_index.HNSW_EF_SEARCH}" if kind == "hnsw" else f"exact (<= {cwqa_index.EXACT_SEARCH_LIMIT})",
        "build_s": round(build_s, 1),
        "vectors_per_s": round(n / build_s),
        "index_mb": round(index_mb),
        "rss_index_mb": round(after - before),
        "peak_rss_mb": round(peak_build),
        "search_p50_ms": round(p50, 3),
        "search_p95_ms": round(p95, 3),
        "recall@10": round(recall, 4),
        **similarity_profile(vectors),
    }  # fmt: skip
    if kind == "hnsw":
        result["ef_sweep"] = hnsw_ef_sweep(index, query_vectors, truth)
    return result


def hnsw_ef_sweep(index, query_vectors: np.ndarray, truth: np.ndarray) -> list[dict]:
    """Recall@10 and latency at other efSearch values of the same graph (efSearch is a search-time knob)."""
    rows = []
    original = index.hnsw.efSearch
    for ef in (64, 128, 256, 512, 1024):
        index.hnsw.efSearch = ef
        times, found = [], []
        for q in query_vectors:
            started = time.perf_counter()
            _, ids = index.search(q[None, :], 10)
            times.append((time.perf_counter() - started) * 1000)
            found.append(ids[0])
        recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)]))
        p50, p95 = p50_p95(times)
        rows.append({"efSearch": ef, "recall@10": round(recall, 4), "p50_ms": round(p50, 3), "p95_ms": round(p95, 3)})
    index.hnsw.efSearch = original
    return rows


def scale_bm25(n: int, queries: int) -> dict:
    """Tokenize and index n synthetic texts with bm25s as cwqa does; time single-question scoring."""
    import bm25s

    from cwqa.index import bm25_tokenize
    from cwqa.retrieval import top_k

    texts = synthetic_texts(n)
    questions = synthetic_texts(queries, seed=5, words_per_text=6, skip_top=100)
    before = rss_mb()
    started = time.perf_counter()
    tokens = bm25_tokenize(texts)
    tokenize_s = time.perf_counter() - started
    engine = bm25s.BM25()
    engine.index(tokens, show_progress=False)
    build_s = time.perf_counter() - started
    del tokens
    with tempfile.TemporaryDirectory() as folder:
        engine.save(folder)
        disk_mb = sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file()) / 2**20
    times = []
    for question in questions:
        started = time.perf_counter()
        known = [t for t in bm25_tokenize([question])[0] if t in engine.vocab_dict]
        if known:
            top_k(np.asarray(engine.get_scores(known), dtype=np.float32), 50)  # as Retriever.search does
        times.append((time.perf_counter() - started) * 1000)
    p50, p95 = p50_p95(times[5:])
    return {
        "n": n,
        "build_s": round(build_s, 1),
        "tokenize_s": round(tokenize_s, 1),
        "docs_per_s": round(n / build_s),
        "disk_mb": round(disk_mb),
        "rss_after_build_mb": round(rss_mb() - before),
        "peak_rss_mb": round(peak_rss_mb()),
        "search_p50_ms": round(p50, 2),
        "search_p95_ms": round(p95, 2),
    }


def run_worker(kind: str, n: int, queries: int, hnsw: str | None = None) -> dict:
    """Run one scale measurement in a child process and return its result."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--n", str(n), "--queries", str(queries)]
    command += ["--hnsw", hnsw] if hnsw else []
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        return {"n": n, "error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# The real pipeline


def query_times(retriever, questions: list[str], mode: str, rerank: str) -> tuple[list[float], int]:
    """Milliseconds per search over the questions (after a warm-up on the first five), and how
    many of the searches were reranked."""
    for question in questions[:5]:
        retriever.search(question, k=10, mode=mode, rerank=rerank)
    times, reranked = [], 0
    for question in questions:
        started = time.perf_counter()
        hits = retriever.search(question, k=10, mode=mode, rerank=rerank)
        times.append((time.perf_counter() - started) * 1000)
        reranked += bool(hits) and hits[0].mode.endswith("+rerank")
    return times, reranked


def bench_auto_rerank(retriever, questions: list[str]) -> dict:
    """The default hybrid search, whose "auto" policy reranks only unclear questions: its latency
    is two populations (fast and clear, seconds and reranked), so the tail and the share count."""
    from cwqa.reranking import get_reranker

    started = time.perf_counter()
    get_reranker(retriever.settings)  # from the converted-model cache after the first run
    load_s = time.perf_counter() - started
    times, reranked = query_times(retriever, questions, "hybrid", "auto")
    p50, p95 = p50_p95(times)
    return {
        "rerank_model_load_s": round(load_s, 2),
        "query_hybrid_auto_rerank_share": round(reranked / len(questions), 3),
        "query_hybrid_auto_rerank_p50_ms": round(p50, 2),
        "query_hybrid_auto_rerank_p90_ms": round(float(np.percentile(times, 90)), 1),
        "query_hybrid_auto_rerank_p95_ms": round(p95, 1),
        "query_hybrid_auto_rerank_mean_ms": round(float(np.mean(times)), 1),
    }


def bench_real(settings, questions: list[str], rerank: bool = True) -> dict:
    """Build the real index into a temporary folder, then time the model and the queries."""
    from cwqa.embedding import get_embedder
    from cwqa.index import build_index, load_index, open_retriever

    out: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        local = settings.replace(index_dir=Path(folder))
        started = time.perf_counter()
        get_embedder(settings.model)
        out["model_load_s"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        build_index(local)
        build_s = time.perf_counter() - started
        loaded = load_index(local)
        out["chunks"] = len(loaded.chunks)
        out["build_s"] = round(build_s, 2)
        out["build_chunks_per_s"] = round(len(loaded.chunks) / build_s, 1)
        out["index_disk_kb"] = round(sum(p.stat().st_size for p in loaded.path.rglob("*") if p.is_file()) / 1024)
        out["chunks_jsonl_bytes_per_chunk"] = round((loaded.path / "chunks.jsonl").stat().st_size / len(loaded.chunks))
        out["peak_rss_mb_after_build"] = round(peak_rss_mb())
        embedder = get_embedder(settings.model)
        texts = [chunk.context_text(settings.context_prefix) for chunk in loaded.chunks]
        texts = (texts * (512 // len(texts) + 1))[:512]
        embedder.encode(texts[:32])  # warm-up
        started, cpu = time.perf_counter(), time.process_time()
        embedder.encode(texts)
        out["embed_passages_per_s"] = round(len(texts) / (time.perf_counter() - started), 1)
        # CPU seconds are less inflated by a busy machine than wall time: passages per CPU-second
        # times the cores is roughly what an idle machine would reach.
        out["embed_passages_per_cpu_s"] = round(len(texts) / (time.process_time() - cpu), 1)
        # The index also embeds every sentence of every passage on its own (when the build does).
        out["sentences_per_chunk"] = round(loaded.manifest.get("sentences", 0) / len(loaded.chunks), 2)
        if out["sentences_per_chunk"]:
            from cwqa.index import sentence_texts

            sentences = [text for chunk in loaded.chunks for text in sentence_texts(chunk)]
            sentences = (sentences * (512 // len(sentences) + 1))[:512]
            started, cpu = time.perf_counter(), time.process_time()
            embedder.encode(sentences)
            out["embed_sentences_per_s"] = round(len(sentences) / (time.perf_counter() - started), 1)
            out["embed_sentences_per_cpu_s"] = round(len(sentences) / (time.process_time() - cpu), 1)
        out["mean_words_per_passage"] = round(float(np.mean([len(t.split()) for t in texts])), 1)
        retriever = open_retriever(local)
        for mode in ("hybrid", "dense", "bm25"):
            times, _ = query_times(retriever, questions, mode, "off")
            out[f"query_{mode}_p50_ms"], out[f"query_{mode}_p95_ms"] = (round(t, 2) for t in p50_p95(times))
        if rerank:
            out.update(bench_auto_rerank(retriever, questions))
        started = time.perf_counter()
        for question in questions:
            embedder.encode_query(question)
        out["encode_query_mean_ms"] = round((time.perf_counter() - started) * 1000 / len(questions), 2)
        out["chunk_object_bytes"] = chunk_memory(loaded.chunks)
        # To compare with the synthetic vectors (this corpus is 2 documents: neighbours are close).
        profile = similarity_profile(np.asarray(loaded.embeddings, dtype=np.float32))
        out["real_mean_cos"], out["real_nn_cos"] = profile["mean_cos"], profile["nn_cos"]
    out["peak_rss_mb"] = round(peak_rss_mb())
    return out


def chunk_memory(chunks, copies: int = 200) -> int:
    """Approximate resident bytes of one loaded Chunk (the Retriever keeps them all in memory)."""
    import dataclasses

    text_fields = [f.name for f in dataclasses.fields(chunks[0]) if isinstance(getattr(chunks[0], f.name), str)]
    before = rss_mb()
    kept = []
    for copy in range(copies):
        for chunk in chunks:  # every string distinct (ids, text, citations), as in a real corpus
            kept.append(dataclasses.replace(chunk, **{name: getattr(chunk, name) + f"~{copy}" for name in text_fields}))
    used = (rss_mb() - before) * 2**20
    return round(used / len(kept))


def frus_estimate(real: dict, scale: list[dict], bm25: list[dict]) -> list[dict]:
    """Time to embed, disk size and memory for the whole FRUS series, scaled from the measurements."""
    from cwqa.index import HNSW_NEIGHBOURS

    rows = []
    hnsw = [s for s in scale if s.get("index") == "hnsw" and "error" not in s]
    # Without an HNSW run: level 0 holds 2*M neighbour ids of 4 bytes, upper levels ~6% more
    # (271 bytes a vector measured at 10^6 with M=32).
    graph_bytes = (hnsw[-1]["index_mb"] * 2**20 / hnsw[-1]["n"] - DIMENSION * 4) if hnsw else 2 * HNSW_NEIGHBOURS * 4 * 1.06
    # Without a BM25 run at scale: 376 bytes a 60-word passage on disk and 3.4 KB of peak memory
    # while tokenizing and indexing (Python lists of tokens), measured at 10^6.
    measured = bm25 and "error" not in bm25[-1]
    bm25_bytes = bm25[-1]["disk_mb"] * 2**20 / bm25[-1]["n"] if measured else 376
    bm25_build_bytes = bm25[-1]["peak_rss_mb"] * 2**20 / bm25[-1]["n"] if measured else 3400
    cores = os.cpu_count() or 1
    ratio = real.get("sentences_per_chunk", 0.0)

    def embed_seconds(n: int, suffix: str, scale: float = 1.0) -> float:
        seconds = n / (real[f"embed_passages_{suffix}"] * scale)
        if ratio:
            seconds += n * ratio / (real[f"embed_sentences_{suffix}"] * scale)
        return seconds

    for n in FRUS_PASSAGES:
        vectors = n * DIMENSION * 4
        sentence_vectors = n * ratio * DIMENSION * 4
        faiss_bytes = vectors + n * graph_bytes  # IndexHNSWFlat stores the vectors again, plus its graph
        chunks = n * real.get("chunks_jsonl_bytes_per_chunk", 1200)
        disk = vectors + sentence_vectors + faiss_bytes + n * bm25_bytes + chunks
        rows.append(
            {
                "passages": n,
                "embed_hours": round(embed_seconds(n, "per_s") / 3600, 1),
                "embed_hours_idle": round(embed_seconds(n, "per_cpu_s", cores) / 3600, 1),
                "embeddings_npy_gb": round(vectors / 2**30, 2),
                "sentences_npy_gb": round(sentence_vectors / 2**30, 2),
                "dense_faiss_gb": round(faiss_bytes / 2**30, 2),
                "bm25_gb": round(n * bm25_bytes / 2**30, 2),
                "chunks_jsonl_gb": round(chunks / 2**30, 2),
                "disk_total_gb": round(disk / 2**30, 1),
                # In memory when serving: the FAISS index and BM25 arrays, every Chunk as a Python
                # object; the embedding files are memory-mapped and touched only for candidates.
                "serving_ram_gb": round((faiss_bytes + n * bm25_bytes + n * real.get("chunk_object_bytes", 2000)) / 2**30, 1),
                # While building, index.build_index holds every passage and sentence vector twice
                # (the encoder's output and the assembled matrix), the BM25 tokens and the chunks.
                "build_ram_gb": round(
                    (2 * (vectors + sentence_vectors) + n * bm25_build_bytes + n * real.get("chunk_object_bytes", 2000)) / 2**30, 1
                ),
            }
        )
    return rows


# ---------------------------------------------------------------------------------------------


def table(rows: list[dict], columns: list[str]) -> str:
    """A plain-text table."""
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks selected on the command line and print their numbers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="10000,100000", help="synthetic corpus sizes, comma-separated ('' for none)")
    parser.add_argument("--queries", type=int, default=200, help="queries per scale measurement")
    parser.add_argument("--skip-real", action="store_true", help="skip the real-index benchmarks")
    parser.add_argument("--skip-bm25", action="store_true", help="skip BM25 at scale")
    parser.add_argument("--skip-rerank", action="store_true", help="skip the default (auto-reranked) hybrid timing (minutes)")
    parser.add_argument("--json", type=Path, help="also write all numbers to this JSON file")
    parser.add_argument("--hnsw", help="try HNSW constants 'M,efConstruction,efSearch' instead of cwqa.index's")
    parser.add_argument("--worker", choices=["dense", "bm25"], help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        result = scale_dense(args.n, args.queries, args.hnsw) if args.worker == "dense" else scale_bm25(args.n, args.queries)
        print(json.dumps(result))
        return 0

    os.chdir(ROOT)
    from cwqa.config import load_settings
    from cwqa.evaluation import DEFAULT_QUESTIONS, read_questions

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    results: dict = {"load_average_start": os.getloadavg()}
    real: dict = {}
    if not args.skip_real:
        questions = [q.question for q in read_questions(DEFAULT_QUESTIONS)]
        real = bench_real(load_settings(), questions, rerank=not args.skip_rerank)
        results["real"] = real
        print("\n== real index ==")
        for key, value in real.items():
            print(f"{key:32} {value}")
    sizes = [int(s) for s in args.scale.split(",") if s.strip()]
    scale, bm25 = [], []
    for n in sizes:
        print(f"\n== scale {n:,} passages (dense) ==", flush=True)
        scale.append(run_worker("dense", n, args.queries, args.hnsw))
        print(json.dumps(scale[-1]), flush=True)
        if not args.skip_bm25:
            print(f"== scale {n:,} passages (bm25) ==", flush=True)
            bm25.append(run_worker("bm25", n, args.queries))
            print(json.dumps(bm25[-1]), flush=True)
    if scale:
        results["scale_dense"], results["scale_bm25"] = scale, bm25
        print("\n== dense index at scale ==")
        print(table(scale, ["n", "index", "params", "build_s", "index_mb", "peak_rss_mb", "search_p50_ms",
                            "search_p95_ms", "recall@10", "mean_cos", "nn_cos"]))  # fmt: skip
        for row in scale:
            for ef in row.get("ef_sweep", []):
                print(f"  n={row['n']:,} efSearch={ef['efSearch']}: recall@10 {ef['recall@10']}, p50 {ef['p50_ms']} ms, p95 {ef['p95_ms']} ms")
    if bm25:
        print("\n== BM25 at scale ==")
        print(table(bm25, ["n", "build_s", "tokenize_s", "disk_mb", "peak_rss_mb", "search_p50_ms", "search_p95_ms"]))
    if real:
        results["frus"] = frus_estimate(real, scale, bm25)
        print("\n== estimate for the whole FRUS series ==")
        print(table(results["frus"], list(results["frus"][0])))
    results["load_average_end"] = os.getloadavg()
    print(f"\nload average at end {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
