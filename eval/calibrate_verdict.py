"""Re-run the "no good match" calibration: the numbers cwqa.verdict's DENSE_GOOD and BM25_GOOD rest on.

For each group of questions (answerable, unanswerable, off-topic probes) and each retrieval mode,
prints the best cosine among the top k hits, its range over the group, and how many of the group
the current thresholds would refuse (one JSON object a line). Answerable questions should pass,
off-topic probes should be refused; unanswerable questions about the corpus's subject lie between.

    .venv/bin/python eval/calibrate_verdict.py
    .venv/bin/python eval/calibrate_verdict.py --questions eval/realistic/questions.jsonl \\
        --unanswerable eval/realistic/unanswerable.jsonl --index-dir DIR --corpus-dir DIR

(This was `python -m cwqa.presentation`.) Searches are never reranked: the verdict is about what
retrieval found.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cwqa import load_settings, open_pipeline
from cwqa.verdict import BM25_GOOD, DENSE_GOOD, OFF_TOPIC_PROBES, calibrate

ROOT = Path(__file__).resolve().parent.parent


def read_question_texts(path: Path) -> list[str]:
    """The question texts of a JSONL file."""
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, default=ROOT / "eval" / "questions.jsonl",
                        help="answerable questions (default eval/questions.jsonl)")
    parser.add_argument("--unanswerable", type=Path, default=ROOT / "eval" / "unanswerable.jsonl",
                        help="unanswerable questions (default eval/unanswerable.jsonl)")
    parser.add_argument("--k", type=int, default=5, help="hits per question whose best scores count (default 5)")
    parser.add_argument("--modes", default="hybrid,dense,bm25", help="retrieval modes, comma-separated")
    parser.add_argument("--index-dir", type=Path, default=None, help="default: settings.index_dir")
    parser.add_argument("--corpus-dir", type=Path, default=None, help="default: settings.corpus_dir")
    args = parser.parse_args(argv)

    settings = load_settings().replace(index_dir=args.index_dir, corpus_dir=args.corpus_dir)
    pipeline = open_pipeline(settings, log=lambda message: print(message, file=sys.stderr))
    groups = {
        "answerable": read_question_texts(args.questions),
        "unanswerable": read_question_texts(args.unanswerable),
        "off-topic": list(OFF_TOPIC_PROBES),
    }
    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    print(f"DENSE_GOOD={DENSE_GOOD} BM25_GOOD={BM25_GOOD}")
    # The raw Retriever: its .search returns the hits, never reranked, each with both scores.
    for row in calibrate(pipeline.retriever, groups, k=args.k, modes=modes):
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
