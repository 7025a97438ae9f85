"""Benchmarks for cwqa: prints numbers, asserts nothing (timings belong here, never in tests).

    .venv/bin/python eval/bench.py                          # everything, scale 10^4 and 10^5
    .venv/bin/python eval/bench.py --scale 10000            # a quick run
    .venv/bin/python eval/bench.py --scale 1000000 --skip-real   # the 10^6 run (many minutes)

Sections:
  real   build throughput of the real index (into a temporary folder), peak memory, the model's
         embedding speed, and warm query latency per mode over eval/questions.jsonl: each mode
         unreranked (the default policy is "off"), then hybrid search under the "auto" policy,
         which reranks unclear questions (share reranked, p50/p90/p95/mean; --skip-rerank leaves
         it out)
  scale  synthetic corpora of N passages: build time, memory, single-query search p50/p95 and
         recall@10 of the FAISS index cwqa chooses for N (cwqa.dense.choose_dense_index: flat up to
         EXACT_SEARCH_LIMIT, HNSW above) against exact search; and BM25 (bm25s) over synthetic text
  frus   an estimate for the whole FRUS series (1-2 million passages) from the measured rates

A whole FRUS volume as a user meets it (only this, with --volume):

    .venv/bin/python eval/bench.py --volume tests/data/frus1961-63v05.txt
    .venv/bin/python eval/bench.py --volume tests/data/frus1961-63v05.txt --index-dir DIR --skip-build

  build   `cwqa --corpus DIR --index DIR index` in a fresh process over a corpus folder holding
          only that file: wall time of the whole command (Python start, imports, model load,
          parse, embed, FAISS, BM25), its CPU time and peak resident memory
  search  in this process, after opening the pipeline and a warm-up: hybrid search latency
          (p50/p95/mean) over the questions of eval/realistic/questions.jsonl asked of that
          volume (both splits), without and with a date filter (March 1961)
  open    one document's passages and its HTML as the app shows it (document 212)
--index-dir keeps the index in DIR (built there if missing or stale, else reused as it is);
--skip-build never builds and measures the search part alone.

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

import bench_scale

ROOT = Path(__file__).resolve().parent.parent

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
    choose values before writing them into cwqa/dense.py.
    """
    import faiss

    from cwqa import dense as cwqa_dense

    if hnsw:
        m, ef_construction, ef_search = (int(v) for v in hnsw.split(","))
        cwqa_dense.HNSW_NEIGHBOURS, cwqa_dense.HNSW_EF_CONSTRUCTION, cwqa_dense.HNSW_EF_SEARCH = m, ef_construction, ef_search
    vectors = synthetic_vectors(n)
    before = rss_mb()
    query_vectors = synthetic_queries(vectors, queries)
    kind = cwqa_dense.choose_dense_index(n)
    started = time.perf_counter()
    index = cwqa_dense.make_dense_index(vectors, kind)
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
        "params": f"M={cwqa_dense.HNSW_NEIGHBOURS} efC={cwqa_dense.HNSW_EF_CONSTRUCTION} "
        f"efS={cwqa_dense.HNSW_EF_SEARCH}" if kind == "hnsw" else f"exact (<= {cwqa_dense.EXACT_SEARCH_LIMIT})",
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

    from cwqa.fusion import top_k
    from cwqa.lexical import bm25_tokenize

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
            top_k(np.asarray(engine.get_scores(known), dtype=np.float32), 50)  # as Retriever.rank does
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
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"n": n, "error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# The real pipeline


def query_times(pipeline, questions: list[str], mode: str, rerank: str) -> tuple[list[float], int]:
    """Milliseconds per search over the questions (after a warm-up on the first five), and how
    many of the searches were reranked."""
    for question in questions[:5]:
        pipeline.search(question, k=10, mode=mode, rerank=rerank)
    times, reranked = [], 0
    for question in questions:
        started = time.perf_counter()
        result = pipeline.search(question, k=10, mode=mode, rerank=rerank)
        times.append((time.perf_counter() - started) * 1000)
        reranked += result.reranked
    return times, reranked


def bench_auto_rerank(pipeline, questions: list[str]) -> dict:
    """Hybrid search under the "auto" policy (not the default, which is "off"), which reranks only
    unclear questions: its latency is two populations (fast and clear, seconds and reranked), so
    the tail and the share count."""
    from cwqa.reranking import get_reranker

    started = time.perf_counter()
    get_reranker(pipeline.settings)  # from the converted-model cache after the first run
    load_s = time.perf_counter() - started
    times, reranked = query_times(pipeline, questions, "hybrid", "auto")
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
    from cwqa import open_pipeline
    from cwqa.embedding import get_embedder
    from cwqa.pipeline import build

    out: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        local = settings.replace(index_dir=Path(folder))
        started = time.perf_counter()
        get_embedder(settings.model)
        out["model_load_s"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        build(local)
        build_s = time.perf_counter() - started
        pipeline = open_pipeline(local)  # the fresh build just made: loaded, not rebuilt
        loaded = pipeline.retriever.loaded
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
        for mode in ("hybrid", "dense", "bm25"):
            times, _ = query_times(pipeline, questions, mode, "off")
            out[f"query_{mode}_p50_ms"], out[f"query_{mode}_p95_ms"] = (round(t, 2) for t in p50_p95(times))
        if rerank:
            out.update(bench_auto_rerank(pipeline, questions))
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
    from cwqa.dense import HNSW_NEIGHBOURS

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
                # While building, cwqa.index.build_index holds every passage and sentence vector twice
                # (the encoder's output and the assembled matrix), the BM25 tokens and the chunks.
                "build_ram_gb": round(
                    (2 * (vectors + sentence_vectors) + n * bm25_build_bytes + n * real.get("chunk_object_bytes", 2000)) / 2**30, 1
                ),
            }
        )
    return rows


# ---------------------------------------------------------------------------------------------
# A whole volume, as a user meets it


REALISTIC_QUESTIONS = ROOT / "eval" / "realistic" / "questions.jsonl"
FILTER = {"date_from": "1961-03-01", "date_to": "1961-03-31"}


def volume_corpus(volume: Path, folder: Path) -> Path:
    """A corpus folder holding only the volume (a link to it, and to its metadata file if any).

    The index fingerprints corpus files by name and content, so an index built over another
    folder holding the same file is fresh for this one."""
    from cwqa.readers.source import metadata_path

    corpus = folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for source in (volume, metadata_path(volume)):
        if source.exists() and not (corpus / source.name).exists():
            os.symlink(source.resolve(), corpus / source.name)
    return corpus


def cwqa_command() -> list[str]:
    """The `cwqa` command of this environment (its console script, else `python -m cwqa.cli`)."""
    script = Path(sys.executable).with_name("cwqa")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cwqa.cli"]


def build_volume_index(settings) -> dict:
    """`cwqa --corpus DIR --index DIR index` in a fresh process: the whole build as a user runs it
    (interpreter start, imports, model load included), its CPU time and peak resident memory."""
    command = [*cwqa_command(), "--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir), "index"]
    with tempfile.TemporaryDirectory(prefix="cwqa-bench-build-") as folder:
        output, timing = Path(folder) / "output.txt", Path(folder) / "time.txt"
        # /usr/bin/time reports the peak of the command alone. getrusage(RUSAGE_CHILDREN) is the
        # largest of all children so far, and a child starts from its parent's memory map (so its
        # peak can carry over the parent's): this process is still small here, but it is the fallback.
        timed = Path("/usr/bin/time").exists()
        wrapped = ["/usr/bin/time", "-f", "%M", "-o", str(timing), *command] if timed else command
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        with open(output, "w", encoding="utf-8") as handle:
            done = subprocess.run(wrapped, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT, check=False)
        wall_s = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        text = output.read_text(encoding="utf-8", errors="replace")
        if done.returncode != 0:
            raise SystemExit(f"bench: {' '.join(command)} failed (exit {done.returncode}):\n{text[-2000:]}")
        peak_kb = int(timing.read_text().split()[-1]) if timed else after.ru_maxrss
    lines = [line.rsplit("\r", 1)[-1] for line in text.splitlines() if line.strip()]  # progress bars redraw with \r
    return {
        "build_command": " ".join(command),
        "build_wall_s": round(wall_s, 1),
        "build_cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
        "build_peak_rss_mb": round(peak_kb / 1024),
        "build_peak_rss_by": "/usr/bin/time" if timed else "getrusage(RUSAGE_CHILDREN)",
        "build_output_tail": lines[-3:],
    }


def latency(pipeline, questions: list[str], **search) -> dict:
    """Warm search latency over the questions (after a warm-up on the first five): p50, p95, mean."""
    for question in questions[:5]:
        pipeline.search(question, **search)
    times, hits = [], 0
    for question in questions:
        started = time.perf_counter()
        result = pipeline.search(question, **search)
        times.append((time.perf_counter() - started) * 1000)
        hits += len(result.hits)
    p50, p95 = p50_p95(times)
    return {"queries": len(times), "p50_ms": round(p50, 1), "p95_ms": round(p95, 1),
            "mean_ms": round(float(np.mean(times)), 1), "hits_per_query": round(hits / len(times), 1)}


def volume_id_of(pipeline, volume: Path) -> str:
    """The volume's id as its documents carry it ("frus1961-63v05"), else the file's name."""
    for document in pipeline.documents:
        found = document.source.get("volume") or document.extra.get("volume_id")
        if found:
            return str(found)
    return volume.name.split(".")[0]


def bench_volume(volume: Path, index_dir: Path | None, skip_build: bool, document: int, limit: int | None,
                 volume_id: str | None = None) -> dict:
    """Build (in a fresh process) and search one whole volume, as a user meets it."""
    from cwqa import load_settings, open_pipeline
    from cwqa.evaluation.questions import read_questions
    from cwqa.pipeline import status
    from cwqa.web import document_html

    if not volume.is_file():
        raise SystemExit(f"bench: no such file: {volume}")
    out: dict = {"volume_file": str(volume), "volume_mb": round(volume.stat().st_size / 2**20, 2)}
    with tempfile.TemporaryDirectory(prefix="cwqa-bench-volume-") as folder:
        corpus = volume_corpus(volume, Path(folder))
        settings = load_settings().replace(corpus_dir=corpus, index_dir=index_dir or Path(folder) / "index")
        state = status(settings)
        out["index_dir"] = str(settings.index_dir) if index_dir else "(temporary)"
        if skip_build:
            if not state.fresh:
                raise SystemExit(f"bench: --skip-build, but the index in {settings.index_dir} is {state.describe()}")
            out["build"] = "skipped (--skip-build)"
        elif index_dir and state.fresh:
            out["build"] = f"skipped (the index in {index_dir} is fresh)"
        else:
            print(f"building the index of {volume.name} in a fresh process ...", flush=True)
            out.update(build_volume_index(settings))
            state = status(settings)
            if not state.fresh:
                raise SystemExit(f"bench: after the build the index is {state.describe()}")
        manifest = state.manifest
        out.update({key: manifest.get(key) for key in ("documents", "chunks", "sentences", "dense_index", "build_seconds")})
        out["index_disk_mb"] = round(sum(p.stat().st_size for p in state.path.rglob("*") if p.is_file()) / 2**20, 1)

        started = time.perf_counter()
        pipeline = open_pipeline(settings)  # fresh, so loaded only (model included), never built here
        out["open_pipeline_s"] = round(time.perf_counter() - started, 2)
        out["peak_rss_mb_after_open"] = round(peak_rss_mb())
        volume_id = volume_id or volume_id_of(pipeline, volume)
        out["volume_id"] = volume_id
        questions = [q.question for q in read_questions(REALISTIC_QUESTIONS) if str(q.doc or "").startswith(volume_id)]
        questions = questions[:limit] if limit else questions
        if not questions:
            raise SystemExit(f"bench: no question of {REALISTIC_QUESTIONS} is asked of {volume_id}")
        out["rerank_policy"] = pipeline.settings.rerank
        out["k"] = pipeline.settings.k
        dated = [d for d in pipeline.documents if d.date and FILTER["date_from"] <= d.date[:10] <= FILTER["date_to"]]
        out["search"] = [
            {"search": "hybrid", **latency(pipeline, questions, mode="hybrid")},
            {"search": f"hybrid, {FILTER['date_from']}..{FILTER['date_to']} ({len(dated)} documents)",
             **latency(pipeline, questions, mode="hybrid", **FILTER)},
        ]

        doc_id = f"{volume_id}-d{document}"
        times = []
        for _ in range(6):  # the first call, then warm ones
            started = time.perf_counter()
            chunks = pipeline.document_chunks(doc_id)
            html = document_html(pipeline.document(doc_id), chunks)
            times.append((time.perf_counter() - started) * 1000)
        out["open_document"] = {"document": doc_id, "passages": len(chunks), "html_kb": round(len(html.encode()) / 1024, 1),
                                "first_ms": round(times[0], 1), "warm_p50_ms": round(float(np.median(times[1:])), 1)}
    out["peak_rss_mb"] = round(peak_rss_mb())
    return out


def print_volume(result: dict) -> None:
    """The volume benchmark as a few lines and a small table."""
    print(f"\n== volume {result['volume_id']} ({result['volume_mb']} MB; {result['documents']} documents, "
          f"{result['chunks']:,} passages, {result['sentences']:,} sentences; {result['dense_index']} dense index) ==")
    if "build_wall_s" in result:
        print(f"build (fresh process, model load included): {result['build_wall_s']} s wall, {result['build_cpu_s']} CPU-s, "
              f"peak {result['build_peak_rss_mb']} MB ({result['build_peak_rss_by']}); "
              f"{result['build_seconds']} s inside the build; index {result['index_disk_mb']} MB on disk")
        for line in result["build_output_tail"]:
            print(f"  | {line}")
    else:
        print(f"build: {result['build']}; index {result['index_dir']}, {result['index_disk_mb']} MB on disk")
    print(f"open_pipeline: {result['open_pipeline_s']} s (model load included); this process peaks at "
          f"{result['peak_rss_mb']} MB; searches k={result['k']}, rerank policy {result['rerank_policy']!r}\n")
    print(table(result["search"], ["search", "queries", "p50_ms", "p95_ms", "mean_ms", "hits_per_query"]))
    opened = result["open_document"]
    print(f"\nopen {opened['document']} (document_chunks + document_html): {opened['passages']} passages, "
          f"{opened['html_kb']} KB of HTML; first {opened['first_ms']} ms, then {opened['warm_p50_ms']} ms")


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
    parser.add_argument("--queries", type=int, default=200,
                        help="queries per scale measurement; with --volume, at most this many questions")
    parser.add_argument("--skip-real", action="store_true", help="skip the real-index benchmarks")
    parser.add_argument("--skip-bm25", action="store_true", help="skip BM25 at scale")
    parser.add_argument("--skip-rerank", action="store_true", help="skip the hybrid timing under the \"auto\" rerank policy (minutes)")
    parser.add_argument("--json", type=Path, help="also write all numbers to this JSON file")
    parser.add_argument("--hnsw", help="try HNSW constants 'M,efConstruction,efSearch' instead of cwqa.dense's")
    parser.add_argument("--volume", type=Path, metavar="FILE",
                        help="benchmark only this whole FRUS volume as a user meets it (build, search, open a document)")
    parser.add_argument("--index-dir", type=Path, metavar="DIR",
                        help="--volume: keep the index in DIR (built if missing or stale, else reused)")
    parser.add_argument("--skip-build", action="store_true", help="--volume: never build; the index must be fresh")
    parser.add_argument("--volume-id", help="--volume: the id its document ids start with (default: read from the index)")
    parser.add_argument("--document", type=int, default=212, help="--volume: the document number to open (default 212)")
    parser.add_argument("--components", action="store_true",
                        help="also the dense index alone (with an efSearch sweep) and BM25 alone at each scale")
    parser.add_argument("--skip-search", action="store_true", help="skip the end-to-end search through Pipeline.search at scale")
    parser.add_argument("--worker", choices=["dense", "bm25", "build", "search"], help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        workers = {
            "dense": lambda: scale_dense(args.n, args.queries, args.hnsw),
            "bm25": lambda: scale_bm25(args.n, args.queries),
            "build": lambda: bench_scale.synthetic_build(args.n),
            "search": lambda: bench_scale.search_at_scale(args.n, args.queries),
        }
        print(json.dumps(workers[args.worker]()))
        return 0

    if (args.index_dir or args.skip_build or args.volume_id) and not args.volume:
        parser.error("--index-dir, --skip-build and --volume-id go with --volume")
    if args.volume:
        volume = args.volume.resolve()
        index_dir = args.index_dir.resolve() if args.index_dir else None
        os.chdir(ROOT)
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
        result = {"load_average_start": os.getloadavg()}
        result["volume"] = bench_volume(volume, index_dir, args.skip_build, args.document, args.queries, args.volume_id)
        print_volume(result["volume"])
        result["load_average_end"] = os.getloadavg()
        print(f"\nload average at end {os.getloadavg()[0]:.2f}")
        if args.json:
            args.json.write_text(json.dumps(result, indent=1))
        return 0

    os.chdir(ROOT)
    from cwqa.config import load_settings
    from cwqa.evaluation.questions import DEFAULT_QUESTIONS, read_questions

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
    scale, bm25, searches = [], [], []
    for n in sizes:
        if not args.skip_search:
            print(f"\n== scale {n:,} passages: end-to-end search through Pipeline.search ==", flush=True)
            built = run_worker("build", n, args.queries)
            print(json.dumps(built), flush=True)
            searched = run_worker("search", n, args.queries)
            searched.setdefault("build_passages_per_s", built.get("build_passages_per_s"))
            searches.append({**searched, "build": built})
            print(json.dumps(searched), flush=True)
        if not args.components:
            continue
        print(f"\n== scale {n:,} passages (dense) ==", flush=True)
        scale.append(run_worker("dense", n, args.queries, args.hnsw))
        print(json.dumps(scale[-1]), flush=True)
        if not args.skip_bm25:
            print(f"== scale {n:,} passages (bm25) ==", flush=True)
            bm25.append(run_worker("bm25", n, args.queries))
            print(json.dumps(bm25[-1]), flush=True)
    if searches:
        # One entry per N with the keys the issue tracker reads (hybrid_p50_ms, ..., build_passages_per_s).
        results["scale"] = searches
        print("\n== end-to-end search at scale (synthetic passages, real model and pipeline) ==")
        print(table(searches, ["n", "hybrid_p50_ms", "hybrid_p95_ms", "filtered_hybrid_p50_ms", "filtered_hybrid_p95_ms",
                               "recall_at_10", "open_s", "peak_rss_mb", "build_passages_per_s"]))  # fmt: skip
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
