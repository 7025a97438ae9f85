"""Calibrate the extractive generator's abstention threshold.

For every question of eval/questions.jsonl (answerable) and eval/unanswerable.jsonl, retrieve the
top k passages, compute the extractive evidence score (best sentence score less the penalties for
key terms no passage mentions and for unmet needs such as a date) and the answer the generator
would give. Questions are split in two halves by a hash of their id: the threshold is chosen on the calibration half (the one that
abstains on the most unanswerable questions while abstaining on at most 5% of answerable ones)
and reported on the held-out half, with the answer metrics there.

    python eval/calibrate_abstention.py [--k 5] [--index-dir DIR] [--max-false-abstain 0.05] [--json FILE]

The chosen value belongs in cwqa.answers.extractive.ABSTAIN_THRESHOLD (the penalty is its MISSING_TERM_PENALTY).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from pathlib import Path

from cwqa import load_settings, open_pipeline
from cwqa.answers import extractive
from cwqa.answers.extractive import ExtractiveGenerator, evidence_score
from cwqa.answers.model import ABSTAIN_PHRASE
from cwqa.evaluation.metrics import answer_metrics

ROOT = Path(__file__).resolve().parent.parent

def load_questions(path: Path) -> list[dict]:
    """The questions of a JSONL file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def held_out(question_id: str) -> bool:
    """Half the questions, chosen by a hash of the id so the split is stable as files grow."""
    return hashlib.sha1(question_id.encode("utf-8")).digest()[0] % 2 == 1


def evidence(row: dict, penalty: float) -> float:
    """The extractive evidence score of a question, as the generator computes it, at a penalty."""
    return evidence_score(row["best"], len(row["missing"]), penalty, unmet=len(row["unmet"]))


def rates(rows: list[dict], threshold: float, penalty: float) -> tuple[float | None, float | None]:
    """(abstain recall on unanswerable, false-abstain rate on answerable) at a threshold."""
    def abstains(row):
        return evidence(row, penalty) < threshold

    unanswerable = [row for row in rows if not row["quotes"]]
    answerable = [row for row in rows if row["quotes"]]
    recall = sum(map(abstains, unanswerable)) / len(unanswerable) if unanswerable else None
    false = sum(map(abstains, answerable)) / len(answerable) if answerable else None
    return recall, false


def choose_threshold(rows: list[dict], penalty: float, max_false: float) -> float:
    """The threshold with the best abstain recall whose false-abstain rate is within `max_false`.

    Candidates sit midway between consecutive evidence scores, so the choice is not on top of a
    question; among equally good ones the lowest (fewest abstentions) wins.
    """
    scores = sorted({evidence(row, penalty) for row in rows})
    candidates = [scores[0] - 0.01] + [(a + b) / 2 for a, b in zip(scores, scores[1:])]
    best, best_recall = candidates[0], -1.0
    for threshold in candidates:
        recall, false = rates(rows, threshold, penalty)
        if false is not None and false <= max_false and (recall or 0) > best_recall:
            best, best_recall = threshold, recall or 0
    return round(best, 3)


def collect(pipeline, questions: list[dict], k: int, generator: ExtractiveGenerator) -> list[dict]:
    """Evidence components and the (never abstaining) answer for each question."""
    rows = []
    for question in questions:
        hits = pipeline.search(question["question"], k=k).hits  # under the settings' rerank policy
        answer = pipeline.answer(question["question"], hits, generator)  # verified with the pipeline's embedder
        # The generator reports the parts of its evidence score; keeping them apart lets other
        # penalties be tried without running it again.
        rows.append({
            "id": question["id"],
            "quotes": question.get("quotes") or [],
            "best": answer.diagnostics.get("best_score"),
            "missing": answer.diagnostics.get("missing", []),
            "unmet": answer.diagnostics.get("unmet", []),
            "answer": answer.to_dict(),
        })
    return rows


def metrics_at(rows: list[dict], threshold: float, penalty: float) -> dict:
    """Answer metrics when answers below the threshold are replaced by abstentions."""
    results = {}
    for row in rows:
        answer = dict(row["answer"])
        if evidence(row, penalty) < threshold:
            answer.update(abstained=True, sentences=[], citations=[], text=ABSTAIN_PHRASE)
        results[row["id"]] = answer
    return answer_metrics(results, {row["id"]: row["quotes"] for row in rows})


def fmt(value) -> str:
    return "  n/a" if value is None else f"{value:5.1%}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=None, help="passages per question (default: settings.k)")
    parser.add_argument("--index-dir", type=Path, default=None, help="default: settings.index_dir")
    parser.add_argument("--corpus-dir", type=Path, default=None, help="default: settings.corpus_dir")
    parser.add_argument("--questions", type=Path, default=ROOT / "eval" / "questions.jsonl")
    parser.add_argument("--unanswerable", type=Path, default=ROOT / "eval" / "unanswerable.jsonl")
    parser.add_argument("--max-false-abstain", type=float, default=0.05)
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers to this file")
    parser.add_argument("--rerank", choices=["off", "auto", "on"], default="off",
                        help="rerank policy of the retrieval (default off: the threshold was chosen on unreranked passages)")
    args = parser.parse_args(argv)

    settings = load_settings().replace(index_dir=args.index_dir, corpus_dir=args.corpus_dir, rerank=args.rerank)
    k = args.k or settings.k
    started = time.time()
    pipeline = open_pipeline(settings, log=lambda message: print(message, file=sys.stderr))
    generator = ExtractiveGenerator(settings, embedder=pipeline.retriever.embedder)
    # Never abstain, so every question's answer and evidence are at hand for any threshold. The
    # typed option accepts only non-negative numbers (a config value), so it is set here instead.
    generator.options = dataclasses.replace(generator.options, abstain_threshold=float("-inf"))
    questions = load_questions(args.questions) + load_questions(args.unanswerable)
    rows = collect(pipeline, questions, k, generator)
    calibration = [row for row in rows if not held_out(row["id"])]
    holdout = [row for row in rows if held_out(row["id"])]

    def count(part):
        return f"{sum(bool(r['quotes']) for r in part)} answerable + {sum(not r['quotes'] for r in part)} unanswerable"

    print(f"k={k}; calibration: {count(calibration)}; held out: {count(holdout)}")
    print("\npenalty (x missing terms squared) -> threshold chosen on calibration, then held-out rates")
    print("penalty  threshold  cal.recall  cal.false  held.recall  held.false")
    for penalty in (0.0, 0.15, 0.25, 0.35, 0.5):
        threshold = choose_threshold(calibration, penalty, args.max_false_abstain)
        cal, held = rates(calibration, threshold, penalty), rates(holdout, threshold, penalty)
        print(f"{penalty:7.2f}  {threshold:9.3f}  {fmt(cal[0]):>10}  {fmt(cal[1]):>9}  {fmt(held[0]):>11}  {fmt(held[1]):>10}")

    penalty = extractive.MISSING_TERM_PENALTY
    chosen = choose_threshold(calibration, penalty, args.max_false_abstain)
    print(f"\nwith MISSING_TERM_PENALTY={penalty}: chosen threshold {chosen} "
          f"(in code now: ABSTAIN_THRESHOLD={extractive.ABSTAIN_THRESHOLD})")
    report = {"k": k, "penalty": penalty, "chosen_threshold": chosen, "code_threshold": extractive.ABSTAIN_THRESHOLD}
    for label, threshold in (("chosen", chosen), ("code", extractive.ABSTAIN_THRESHOLD)):
        for name, part in (("calibration", calibration), ("held_out", holdout), ("all", rows)):
            metrics = metrics_at(part, threshold, penalty)
            report[f"{label}/{name}"] = {key: value for key, value in metrics.items() if key != "counts"}
            print(f"threshold {threshold:6.3f} {name:>11}: abstain recall {fmt(metrics['abstain_recall'])}, "
                  f"false abstain {fmt(metrics['false_abstain_rate'])}, contains quote {fmt(metrics['answer_contains_quote'])}, "
                  f"citation precision {fmt(metrics['citation_precision'])}, verbatim {fmt(metrics['verbatim_rate'])}, "
                  f"unsupported {fmt(metrics['unsupported_rate'])}")
    print(f"\n{len(rows)} questions in {time.time() - started:.0f} s")
    unverbatim = [(row["id"], s["text"]) for row in rows for s in row["answer"]["sentences"] if s["method"] != "verbatim"]
    for question_id, text in unverbatim:
        print(f"not verbatim: {question_id}: {text}")
    if args.json:
        report["questions"] = [
            {"id": row["id"], "answerable": bool(row["quotes"]), "best": row["best"], "missing": row["missing"], "unmet": row["unmet"],
             "evidence": evidence(row, penalty), "text": row["answer"]["text"]}
            for row in rows
        ]
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
