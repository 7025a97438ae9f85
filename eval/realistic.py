"""Evaluate cwqa on the realistic question sets (eval/realistic/), over the seeds and FRUS 1961–63 vol. V.

The questions were written the way people ask (eval/realistic/README.md). They span two corpora, and
each is evaluated as a user meets it: the seed questions over the bundled corpus (`--corpus seeds`),
the volume's questions over the whole plain-text volume alone (`--corpus volume`,
tests/data/frus1961-63v05.txt), and all of them over both together (`--corpus both`). Each corpus is
a folder of links (not copies) in a work folder that also holds its index.

    .venv/bin/python eval/realistic.py --corpus volume                  # develop on the tune half
    .venv/bin/python eval/realistic.py --corpus volume --split heldout  # report; never tune on it
    .venv/bin/python eval/realistic.py --corpus seeds --split heldout --generator extractive

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
SEEDS = [*sorted((ROOT / "corpus").glob("*.txt")), *sorted((ROOT / "corpus").glob("*.meta.json"))]
VOLUME = [ROOT / "tests" / "data" / "frus1961-63v05.txt"]
CORPORA = {"seeds": SEEDS, "volume": VOLUME, "both": SEEDS + VOLUME}


def assemble(work: Path, corpus: str = "both") -> Path:
    """The folder of one corpus of the realistic sets: links to its files."""
    folder = work / corpus / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    for source in CORPORA[corpus]:
        link = folder / source.name
        if not link.exists():
            os.symlink(source, link)
    return folder


def belongs(doc: str | None, corpus: str) -> bool:
    """Whether a question (by its `doc`) is asked of this corpus."""
    on_volume = (doc or "").startswith("frus1961-63v05")
    return corpus == "both" or on_volume == (corpus == "volume")


def question_file(work: Path, corpus: str, name: str) -> Path:
    """The questions of one set file asked of this corpus (unanswerable ones: all of them)."""
    rows = [json.loads(line) for line in (SETS / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    kept = [row for row in rows if not row.get("quotes") or belongs(row.get("doc"), corpus)]
    path = work / corpus / name
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in kept), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("tune", "heldout"), default="tune")
    parser.add_argument("--corpus", choices=tuple(CORPORA), default="volume")
    parser.add_argument("--work", type=Path, default=ROOT / ".cache" / "realistic", help="corpus links, index and reports")
    parser.add_argument("--modes", default="hybrid,dense,bm25")
    parser.add_argument("--generator", help="also score this generator's answers (e.g. extractive)")
    parser.add_argument("--rerank", choices=("off", "auto", "on"), default="off")
    parser.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)

    corpus = assemble(args.work, args.corpus)
    settings = load_settings().replace(corpus_dir=corpus, index_dir=args.work / args.corpus / "index")
    say = lambda message: print(f"realistic: {message}", file=sys.stderr)  # noqa: E731
    result = run_evaluation(
        settings,
        questions_path=question_file(args.work, args.corpus, "questions.jsonl"),
        unanswerable_path=question_file(args.work, args.corpus, "unanswerable.jsonl"),
        modes=[mode for mode in args.modes.split(",") if mode],
        baselines=args.baselines,
        generator=args.generator,
        out_dir=args.work / args.corpus / "reports" / args.split,
        log=say,
        rerank=args.rerank,
        split=args.split,
    )
    report = result.report
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return 0
    print(f"corpus: {args.corpus}, split: {args.split}, {report['meta']['questions']} questions")
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
