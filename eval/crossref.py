"""Measure following cross-references in search (`follow_references`), off against on.

The cross-reference set (eval/realistic/crossref.jsonl) asks, from the context of a vol. V document,
about what that document's "See Document N" footnote points to: the gold passage is in document N.
This script reports, for hybrid search with the step off and on, Hit@5, Hit@10 and MRR@10 of the
gold passage by split, and the regression checks: the realistic vol. V questions (the
`eval/realistic.py --corpus volume` set) and the reference questions over the seeds
(eval/questions.jsonl, what `cwqa eval --rerank off --generator none` scores).

    .venv/bin/python eval/crossref.py                 # everything, both splits
    .venv/bin/python eval/crossref.py --only crossref  # the cross-reference set alone

Its indexes live under .cache/crossref/ (a corpus folder of links, as eval/realistic.py makes). The
first run seeds each from eval/realistic.py's cached build when there is one, so no passage is
embedded again, and rebuilds it once so that its documents carry their saved references.
Only hybrid rows are printed: dense and BM25 searches do not follow references.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from cwqa import load_settings
from cwqa.evaluation import run_evaluation
from cwqa.pipeline import open_pipeline
from realistic import assemble  # the realistic sets' corpus folders, links to their files

ROOT = Path(__file__).resolve().parents[1]
SETS = ROOT / "eval" / "realistic"
REALISTIC_CACHE = ROOT / ".cache" / "realistic"
METRICS = ("hit@5", "hit@10", "mrr@10")


def open_with_references(work: Path, corpus: str, say):
    """A pipeline over this corpus whose documents carry their saved references (an index built
    before references were saved is stale, and open_pipeline rebuilds it reusing its vectors)."""
    settings = load_settings().replace(corpus_dir=assemble(work, corpus), index_dir=work / corpus / "index")
    index, cached = settings.index_dir, REALISTIC_CACHE / corpus / "index"
    if not (index / "CURRENT").exists() and (cached / "CURRENT").exists():
        build = cached / (cached / "CURRENT").read_text(encoding="utf-8").strip()
        say(f"seeding {index} from {build} (its vectors are reused)")
        shutil.copytree(build, index / build.name)
        (index / "CURRENT").write_text(build.name + "\n", encoding="utf-8")
    return settings, open_pipeline(settings, log=say)


def volume_questions(work: Path) -> Path:
    """The realistic answerable questions asked of the volume (as eval/realistic.py --corpus volume)."""
    rows = [json.loads(line) for line in (SETS / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    path = work / "volume" / "questions.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows if str(r.get("doc")).startswith("frus1961-63v05")), encoding="utf-8")
    return path


def measure(settings, pipeline, questions: Path, split: str | None) -> dict[str, dict]:
    """Hybrid metrics with the step off and on, and the questions whose Hit@5 changed."""
    rows = {}
    for follow in (False, True):
        pipeline.retriever.settings = settings.replace(follow_references=follow, rerank="off")
        result = run_evaluation(
            settings, questions_path=questions, modes=["hybrid"], baselines=False, write=False,
            pipeline=pipeline, rerank="off", split=split, unanswerable_path=None,
        )
        metrics = result.results[0].metrics
        rows["on" if follow else "off"] = {**{m: metrics[m] for m in METRICS}, "misses@5": metrics["misses@5"],
                                           "questions": result.report["meta"]["questions"],
                                           "p50_ms": metrics["latency_ms_p50"], "p95_ms": metrics["latency_ms_p95"]}
    rows["gained@5"] = sorted(set(rows["off"]["misses@5"]) - set(rows["on"]["misses@5"]))
    rows["lost@5"] = sorted(set(rows["on"]["misses@5"]) - set(rows["off"]["misses@5"]))
    return rows


def document_hits(pipeline, settings, split: str) -> dict[str, dict]:
    """How often the referenced document itself (any of its passages) is in the first 5 / 10 hits."""
    rows = [json.loads(line) for line in (SETS / "crossref.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [row for row in rows if row["split"] == split]
    found = {}
    for follow in (False, True):
        pipeline.retriever.settings = settings.replace(follow_references=follow, rerank="off")
        ranks = []
        for row in rows:
            hits = pipeline.retriever.search(row["question"], k=10, mode="hybrid")
            ranks.append(next((hit.rank for hit in hits if hit.chunk.doc_id == row["doc"]), None))
        found["on" if follow else "off"] = {f"doc@{k}": round(sum(r is not None and r <= k for r in ranks) / len(rows), 4) for k in (5, 10)}
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=ROOT / ".cache" / "crossref")
    parser.add_argument("--only", choices=("crossref", "volume", "seeds"), action="append",
                        help="run only these sets (repeatable; default: all three)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    say = lambda message: print(f"crossref: {message}", file=sys.stderr)  # noqa: E731
    wanted = args.only or ["crossref", "volume", "seeds"]
    report: dict[str, dict] = {}
    if {"crossref", "volume"} & set(wanted):
        settings, pipeline = open_with_references(args.work, "volume", say)
        if "crossref" in wanted:
            for split in ("tune", "heldout"):
                report[f"crossref {split}"] = measure(settings, pipeline, SETS / "crossref.jsonl", split)
                documents = document_hits(pipeline, settings, split)
                for state in ("off", "on"):
                    report[f"crossref {split}"][state].update(documents[state])
        if "volume" in wanted:
            path = volume_questions(args.work)
            for split in ("tune", "heldout"):
                report[f"realistic volume {split}"] = measure(settings, pipeline, path, split)
    if "seeds" in wanted:
        settings, pipeline = open_with_references(args.work, "seeds", say)
        report["seeds eval/questions.jsonl"] = measure(settings, pipeline, ROOT / "eval" / "questions.jsonl", None)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print("| set | n | follow_references | Hit@5 | Hit@10 | MRR@10 | referenced doc in top 5 / 10 | ms p50 / p95 | Hit@5 gained / lost |")
    print("|---|---:|---|---:|---:|---:|---|---|---|")
    for name, rows in report.items():
        for state in ("off", "on"):
            row = rows[state]
            change = f"+{', '.join(rows['gained@5']) or '—'} / -{', '.join(rows['lost@5']) or '—'}" if state == "on" else ""
            documents = f"{row['doc@5']:.3f} / {row['doc@10']:.3f}" if "doc@5" in row else ""
            print(f"| {name} | {row['questions']} | {state} | {row['hit@5']:.3f} | {row['hit@10']:.3f} | {row['mrr@10']:.3f} | {documents} | {row['p50_ms']:.0f} / {row['p95_ms']:.0f} | {change} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
