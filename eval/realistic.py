"""Evaluate cwqa on the realistic question sets (eval/realistic/), over the seeds and FRUS 1961–63 vol. V.

The questions were written the way people ask (eval/realistic/README.md). They span two corpora, so
this script assembles one corpus folder for them: the bundled seeds and the whole plain-text volume
(tests/data/frus1961-63v05.txt), linked, not copied, into a work folder that also holds their index.

    .venv/bin/python eval/realistic.py                  # the tune half: the one to develop on
    .venv/bin/python eval/realistic.py --split heldout  # the held-out half: report it, never tune on it
    .venv/bin/python eval/realistic.py --split heldout --generator extractive --rerank auto

Prints Hit@k/MRR per system, Hit@5 by kind of question, and (with --generator) the answer metrics
over the realistic answerable and near-miss unanswerable questions. The report folder is written
under the work folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from cwqa import load_settings
from cwqa.evaluation import report_markdown, run_evaluation

ROOT = Path(__file__).resolve().parents[1]
SETS = ROOT / "eval" / "realistic"
SOURCES = [*sorted((ROOT / "corpus").glob("*.txt")), *sorted((ROOT / "corpus").glob("*.meta.json")),
           ROOT / "tests" / "data" / "frus1961-63v05.txt"]


def assemble(work: Path) -> Path:
    """The corpus folder of the realistic sets: links to the seeds and to the volume."""
    corpus = work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for source in SOURCES:
        link = corpus / source.name
        if not link.exists():
            os.symlink(source, link)
    return corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("tune", "heldout"), default="tune")
    parser.add_argument("--work", type=Path, default=ROOT / ".cache" / "realistic", help="corpus links, index and reports")
    parser.add_argument("--modes", default="hybrid,dense,bm25")
    parser.add_argument("--generator", help="also score this generator's answers (e.g. extractive)")
    parser.add_argument("--rerank", choices=("off", "auto", "on"), default="off")
    parser.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)

    corpus = assemble(args.work)
    settings = load_settings().replace(corpus_dir=corpus, index_dir=args.work / "index")
    say = lambda message: print(f"realistic: {message}", file=sys.stderr)  # noqa: E731
    result = run_evaluation(
        settings,
        questions_path=SETS / "questions.jsonl",
        unanswerable_path=SETS / "unanswerable.jsonl",
        modes=[mode for mode in args.modes.split(",") if mode],
        baselines=args.baselines,
        generator=args.generator,
        out_dir=args.work / "reports" / args.split,
        log=say,
        rerank=args.rerank,
        split=args.split,
    )
    report = result.report
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return 0
    print(f"split: {args.split}, {report['meta']['questions']} questions")
    print(report_markdown(report))
    kinds = sorted({kind for table in report["by_kind"].values() for kind in table})
    print("\nHit@5 by kind of question\n")
    print("| system | " + " | ".join(f"{kind} (n={report['by_kind'][next(iter(report['by_kind']))][kind]['questions']})" for kind in kinds) + " |")
    print("|---|" + "---:|" * len(kinds))
    for system, table in report["by_kind"].items():
        print(f"| {system} | " + " | ".join(f"{table[kind]['hit@5']:.3f}" for kind in kinds) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
