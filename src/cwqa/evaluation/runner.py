"""A whole evaluation run: every system over the questions, answers if asked, then the report."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ..config import MODES, Settings, rerank_policy
from ..errors import CwqaError
from ..fusion import should_rerank
from ..pipeline import Pipeline, open_pipeline
from ..text import PARTIAL_MATCH
from .metrics import ANSWER_KEYS, Judged, answer_metrics, summarise
from .questions import DEFAULT_QUESTIONS, DEFAULT_UNANSWERABLE, Question, read_questions
from .relevance import Relevance
from .report import build_report, new_report_dir, report_markdown, write_report
from .systems import RERANK_SUFFIX, Ranked, System, SystemResult, baseline_systems, mode_system

DEFAULT_K = 10


Progress = Callable[[str, int, int], None]  # (stage, done, total)


Log = Callable[[str], None]


def evaluate_system(
    system: System,
    questions: Sequence[Question],
    relevance: Relevance,
    k: int = DEFAULT_K,
    progress: Progress | None = None,
) -> SystemResult:
    """Run every question through one system, timing each search, and score the rankings."""
    system.search(questions[0].question, k)  # warm-up: first-call costs are not query latency
    rankings: dict[str, list[Ranked]] = {}
    latencies: list[float] = []
    judged: list[Judged] = []
    for done, question in enumerate(questions, start=1):
        started = time.perf_counter()
        ranked = system.search(question.question, k)
        latencies.append((time.perf_counter() - started) * 1000.0)
        rankings[question.id] = ranked
        judged.append(relevance.judge(question, ranked, relevance.relevant_total(question.id, system.passages)))
        if progress:
            progress(system.name, done, len(questions))
    return SystemResult(system, summarise(judged, latencies), judged, rankings, latencies)


def answer_section(
    pipeline: Pipeline, questions: Sequence[Question], unanswerable: Sequence[Question], name: str, settings: Settings,
    progress: Progress | None = None, rerank: str = "off",
) -> dict:
    """Answer metrics of one generator over the answerable and unanswerable questions.

    Each question is answered as `cwqa ask` answers it (settings.mode, settings.k passages, the
    `rerank` policy), then
    evaluation.metrics.answer_metrics scores the answers; a cited passage counts as relevant by the
    same judgement as the retrieval metrics. Values are None when their denominator is zero (for
    example abstain_recall without unanswerable questions).
    """
    generator = pipeline.generator(name)
    everything = list(questions) + list(unanswerable)
    relevance = Relevance(everything)
    answers, relevant_chunks = {}, {}
    for done, question in enumerate(everything, start=1):
        hits = pipeline.search(question.question, k=settings.k, mode=settings.mode, rerank=rerank).hits
        answers[question.id] = pipeline.answer(question.question, hits, generator)
        relevant_chunks[question.id] = {hit.chunk.id for hit in hits if relevance.relevant(question.id, hit.chunk.text)}
        if progress:
            progress(f"answers ({name})", done, len(everything))
    gold = {question.id: list(question.quotes) for question in everything}
    metrics = answer_metrics(answers, gold, relevant_chunks, share=PARTIAL_MATCH)
    section = {"generator": name, "mode": settings.mode + RERANK_SUFFIX[rerank], "k": settings.k}
    section.update({key: None if metrics.get(key) is None else round(metrics[key], 4) for key in ANSWER_KEYS})
    section["answerable"] = len(questions)
    section["unanswerable"] = len(unanswerable)
    return section


@dataclass
class EvaluationResult:
    """A finished run: the report (the JSON object) and where its files were written (if anywhere)."""

    report: dict
    results: list[SystemResult] = field(default_factory=list)
    out_dir: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def markdown(self) -> str:
        """The report as a Markdown table."""
        return report_markdown(self.report)


def run_evaluation(
    settings: Settings,
    questions_path: Path = DEFAULT_QUESTIONS,
    modes: Sequence[str] = MODES,
    k: int = DEFAULT_K,
    out_dir: Path | None = None,
    baselines: bool = True,
    generator: str | None = None,
    unanswerable_path: Path | None = DEFAULT_UNANSWERABLE,
    limit: int | None = None,
    write: bool = True,
    pipeline: Pipeline | None = None,
    progress: Progress | None = None,
    log: Log = lambda message: None,
    rerank: str | bool | None = None,
    split: str | None = None,
) -> EvaluationResult:
    """Evaluate retrieval modes (and baselines, and a generator's answers) on a question set.

    Opens the index for `settings` (building it if missing or stale) unless a `pipeline` is given.
    `progress(stage, done, total)` is called as questions are run; stages are "index", the mode and
    baseline names, and "answers (<generator>)". With `write`, the report files go to `out_dir`
    (default eval/reports/<timestamp>/). `limit` keeps the first N questions (quick runs).
    `split` keeps only the questions of that split ("tune" or "heldout"; realistic sets).
    `rerank` is a policy (default: the settings'): when it can rerank the first mode
    ("auto" only reranks hybrid), that mode is also run under it ("hybrid+auto-rerank",
    "hybrid+rerank"), and a generator answers as that row ranks. The plain mode rows are never reranked, so they mean the same whatever the settings.
    """
    rerank = rerank_policy(settings.rerank if rerank is None else rerank)
    modes = list(dict.fromkeys(modes))
    unknown = [mode for mode in modes if mode not in MODES]
    if unknown or not modes:
        raise CwqaError(f"unknown mode(s) {', '.join(unknown) or '(none)'} (choose from {', '.join(MODES)})")
    if not 1 <= k <= 100:
        raise CwqaError(f"k must be between 1 and 100, not {k}")
    questions = _in_split(read_questions(questions_path), split, questions_path)
    questions = questions[:limit] if limit else questions
    unanswerable = read_questions(unanswerable_path, need_quotes=False) if generator and unanswerable_path else []
    unanswerable = _in_split(unanswerable, split, unanswerable_path) if unanswerable else []
    if pipeline is None:
        if progress:
            progress("index", 0, 1)
        pipeline = open_pipeline(settings, progress=(lambda d, t: progress("index", d, t)) if progress else None, log=log)
        if progress:
            progress("index", 1, 1)
    systems = [mode_system(pipeline, mode) for mode in modes]

    if should_rerank(rerank, modes[0], clear=False):  # a policy that can rerank the first mode at all
        systems.insert(1, mode_system(pipeline, modes[0], rerank))
    if baselines:
        log("building the baselines in memory")
        systems += baseline_systems(settings.corpus_dir, pipeline.retriever.embedder)
    relevance = Relevance(questions)
    results = []
    for system in systems:
        started = time.perf_counter()
        results.append(evaluate_system(system, questions, relevance, k, progress))
        metrics = results[-1].metrics
        log(
            f"{system.name}: hit@5 {metrics['hit@5']:.3f}, mrr@10 {metrics['mrr@10']:.3f} "
            f"({len(questions)} questions, {time.perf_counter() - started:.1f} s)"
        )
    answers = answer_section(pipeline, questions, unanswerable, generator, settings, progress, rerank) if generator else None
    report = build_report(results, pipeline, settings, questions_path, len(questions), k, answers)
    report["meta"]["split"] = split or "all"
    report["by_kind"] = {r.system.name: by_kind(r, questions) for r in results}
    result = EvaluationResult(report, results)
    if write:
        result.out_dir = Path(out_dir) if out_dir else new_report_dir()
        report["meta"]["report_dir"] = str(result.out_dir)
        result.files = write_report(result, result.out_dir)
        log(f"report written to {result.out_dir}")
    return result


def _in_split(questions: list[Question], split: str | None, path) -> list[Question]:
    """The questions of one split; an unknown split, or one no question is in, is an error."""
    if not split:
        return questions
    kept = [q for q in questions if q.split == split]
    if not kept:
        known = sorted({q.split for q in questions if q.split}) or ["(none: this file has no 'split' field)"]
        raise CwqaError(f"{path}: no question is in split {split!r} (splits: {', '.join(known)})")
    return kept


def by_kind(result: SystemResult, questions: Sequence[Question]) -> dict[str, dict]:
    """Hit@5 and MRR@10 of one system for each kind of question (paraphrase, modern-term, ...)."""
    kinds: dict[str, list[Judged]] = {}
    kind_of = {q.id: q.kind or "unlabelled" for q in questions}
    for judged in result.judged:
        kinds.setdefault(kind_of[judged.question_id], []).append(judged)
    table = {}
    for kind, judged in sorted(kinds.items()):
        metrics = summarise(judged, [0.0] * len(judged))
        table[kind] = {"questions": len(judged), "hit@5": round(metrics["hit@5"], 4), "mrr@10": round(metrics["mrr@10"], 4)}
    return table
