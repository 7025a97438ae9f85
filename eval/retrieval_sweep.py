"""Compare retrieval settings side by side on the realistic question sets, one split at a time.

Every configuration searches the same index (eval/realistic.py's corpus: the seeds and FRUS 1961–63
vol. V), so only search-time settings vary: fusion weights, query expansion, reranking. Choose on
the tune half; the held-out half is for reporting the choice, never for making it.

    .venv/bin/python eval/retrieval_sweep.py                    # tune half
    .venv/bin/python eval/retrieval_sweep.py --split heldout    # report the chosen configuration
    .venv/bin/python eval/retrieval_sweep.py --configs default,no-expansion

Prints Hit@1/5, MRR@10 and the latency of each configuration (p50/p95, every stage of a search
included: question embedding, both rankers, fusion, reranking).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cwqa import Pipeline, load_settings, open_pipeline
from cwqa.evaluation.questions import read_questions
from cwqa.evaluation.relevance import Relevance
from cwqa.evaluation.runner import evaluate_system
from cwqa.evaluation.systems import mode_system

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realistic import CORPORA, SETS, assemble, belongs  # noqa: E402  (the same corpora as eval/realistic.py)

ROOT = Path(__file__).resolve().parents[1]

# name -> (mode, rerank policy, setting changes)
CONFIGS: dict[str, tuple[str, str, dict]] = {
    "default": ("hybrid", "off", {}),
    "no-expansion": ("hybrid", "off", {"expand": False}),
    "dense": ("dense", "off", {}),
    "bm25": ("bm25", "off", {}),
    "dense-weight-0.3": ("hybrid", "off", {"dense_weight": 0.3}),
    "dense-weight-0.4": ("hybrid", "off", {"dense_weight": 0.4}),
    "dense-weight-0.6": ("hybrid", "off", {"dense_weight": 0.6}),
    "dense-weight-0.7": ("hybrid", "off", {"dense_weight": 0.7}),
    "rrf": ("hybrid", "off", {"fusion": "rrf"}),
    "neighbours-0.2": ("hybrid", "off", {"neighbour_weight": 0.2}),
    "neighbours-0.4": ("hybrid", "off", {"neighbour_weight": 0.4}),
    "auto-rerank": ("hybrid", "auto", {}),
    "always-rerank": ("hybrid", "on", {}),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("tune", "heldout"), default="tune")
    parser.add_argument("--corpus", choices=tuple(CORPORA), default="volume")
    parser.add_argument("--work", type=Path, default=ROOT / ".cache" / "realistic")
    parser.add_argument("--configs", default=",".join(name for name in CONFIGS if "rerank" not in name),
                        help=f"comma-separated, from: {', '.join(CONFIGS)}")
    parser.add_argument("-k", type=int, default=10)
    args = parser.parse_args(argv)

    base = load_settings().replace(corpus_dir=assemble(args.work, args.corpus), index_dir=args.work / args.corpus / "index")
    opened = open_pipeline(base, log=lambda message: print(f"sweep: {message}", file=sys.stderr))
    questions = [q for q in read_questions(SETS / "questions.jsonl") if q.split == args.split and belongs(q.doc, args.corpus)]
    relevance = Relevance(questions)
    print(f"corpus {args.corpus}, split {args.split}: {len(questions)} questions, {len(opened.chunks)} passages\n")
    print("| configuration | Hit@1 | Hit@5 | MRR@10 | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in [n for n in args.configs.split(",") if n]:
        mode, rerank, changes = CONFIGS[name]
        settings = base.replace(**changes)
        retriever = type(opened.retriever)(opened.retriever.loaded, opened.retriever.embedder, settings)
        system = mode_system(Pipeline(settings, retriever), mode, rerank)
        metrics = evaluate_system(system, questions, relevance, args.k).metrics
        print(f"| {name} | {metrics['hit@1']:.3f} | {metrics['hit@5']:.3f} | {metrics['mrr@10']:.3f} | "
              f"{metrics['latency_ms_p50']:.1f} | {metrics['latency_ms_p95']:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
