"""Choose the chunk budget by evaluation: every mode for several chunk_tokens, with and without context prefix.

    .venv/bin/python eval/chunk_sweep.py                                  # 96,128,160,200,256 x on/off
    .venv/bin/python eval/chunk_sweep.py --tokens 128,160 --prefix on --limit 40

Each configuration is indexed in its own temporary folder (settings.replace(index_dir=tmp)), so the
project's index is never touched. Bigger passages hold gold quotes more often just by being bigger;
words_top5 (what a reader or a generator must read) and hit@300w (a relevant passage within the
first 300 words) are printed beside hit@5 so that is not mistaken for better retrieval.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

COLUMNS = ("hit@1", "hit@5", "mrr@10", "ndcg@10", "quote_recall@5", "words_top5", "hit@300w")


def sweep_one(settings, tokens: int, prefix: bool, questions: Path, limit: int | None) -> dict:
    """Index the corpus with one chunking in a temporary folder and evaluate every mode on it."""
    from cwqa import open_pipeline
    from cwqa.config import MODES
    from cwqa.evaluation import run_evaluation

    with tempfile.TemporaryDirectory(prefix="cwqa-sweep-") as folder:
        local = settings.replace(index_dir=Path(folder), chunk_tokens=tokens, context_prefix=prefix)
        started = time.perf_counter()
        pipeline = open_pipeline(local)  # builds the index: it is missing from the new folder
        build_s = time.perf_counter() - started
        result = run_evaluation(
            local, questions_path=questions, modes=MODES, k=10, baselines=False, write=False, limit=limit, pipeline=pipeline,
            rerank="off",  # the sweep compares chunkings; the language model would only add minutes
        )
    words = [len(chunk.text.split()) for chunk in pipeline.chunks]
    return {
        "chunk_tokens": tokens,
        "context_prefix": prefix,
        "passages": len(pipeline.chunks),
        "mean_words": round(sum(words) / len(words), 1),
        "build_s": round(build_s, 1),
        "modes": result.report["modes"],
    }


def format_table(rows: list[dict]) -> str:
    """One line per configuration and mode, as a Markdown table."""
    head = ["chunk_tokens", "prefix", "passages", "words/passage", "mode", *COLUMNS, "misses@5"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for row in rows:
        for mode, metrics in row["modes"].items():
            cells = [
                str(row["chunk_tokens"]),
                "on" if row["context_prefix"] else "off",
                str(row["passages"]),
                str(row["mean_words"]),
                mode,
                *(f"{metrics[c]:.1f}" if c == "words_top5" else f"{metrics[c]:.3f}" for c in COLUMNS),
                str(len(metrics["misses@5"])),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the sweep and print the table (and write JSON with --json)."""
    from cwqa.config import Settings
    from cwqa.evaluation.questions import DEFAULT_QUESTIONS

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", default="96,128,160,200,256", help="chunk_tokens values, comma-separated")
    parser.add_argument("--prefix", default="on,off", help="context_prefix values: on, off or on,off")
    parser.add_argument("--questions", type=Path, default=ROOT / DEFAULT_QUESTIONS)
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)

    os.chdir(ROOT)
    settings = Settings()  # the defaults, not cwqa.toml: the sweep is about the default chunking
    tokens = [int(t) for t in args.tokens.split(",") if t.strip()]
    prefixes = [p.strip() == "on" for p in args.prefix.split(",") if p.strip()]
    rows = []
    for prefix in prefixes:
        for budget in tokens:
            row = sweep_one(settings, budget, prefix, args.questions, args.limit)
            hybrid = row["modes"]["hybrid"]
            print(
                f"chunk_tokens={budget} prefix={'on' if prefix else 'off'}: {row['passages']} passages, "
                f"hybrid hit@5 {hybrid['hit@5']:.3f} mrr@10 {hybrid['mrr@10']:.3f} ({row['build_s']} s to index)",
                file=sys.stderr,
                flush=True,
            )
            rows.append(row)
    print(format_table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
