"""Retrieval evaluation: how often the passages cwqa ranks hold the gold quotes of a question set.

Relevance is judged from the text, not from passage ids, so any chunking can be scored against the
same questions: a passage is relevant to a question when it contains one of its gold quotes, or at
least 60% of one as a single contiguous span, after normalising whitespace, case, typographic quote
marks and markdown `*`. The 60% rule matters because passages are not the raw text: footnote digits
are stripped, `[Page N]` markers removed, and a long quote may straddle two windows of a paragraph.

Each retrieval mode of the real index is scored, and (unless turned off) three naive baselines built
in memory with the same model, to show what the structure-aware pipeline buys:

    bm25-paragraphs     BM25 over the raw .txt files split on blank lines (no structure)
    dense-paragraphs    the same passages, embedded, exact FAISS search
    dense-fixed-1000    fixed 1000-character windows with 200 characters of overlap, embedded

Metrics, per system, averaged over questions (keys as in the JSON report):

    hit@1/3/5/10    a relevant passage is ranked within the top k
    mrr@10          1/rank of the first relevant passage (0 beyond 10)
    ndcg@10         binary nDCG; the ideal ranking holds every relevant passage of that system's
                    whole collection, so a chunking that spreads a quote thinly is not flattered
    quote_recall@5  share of the question's gold quotes held by at least one of the top 5
    words_top5      words in the top 5 passages together: what a reader or generator must read
    hit@300w        a relevant passage starts within the first 300 words of the ranked passages
    latency_ms_*    wall time of one search, question embedding included, after a warm-up
    misses@5        ids of the questions with no relevant passage in the top 5

A run writes, in its report folder (default eval/reports/<timestamp>/): report.json, report.md,
report.png, and one run file per system (run-<name>.jsonl: question id, rank, passage id, score,
relevance, text).

The standard IR metrics (Hit@k, MRR, nDCG) are computed here rather than with `ranx`: ranx gives
the same numbers (tests/test_evaluation.py checks this) but compiles its numba kernels on first use,
about a minute on this machine's 2 cores when the numba cache is cold (8 s warm), which is longer
than the whole evaluation and too slow for the app's Evaluation page.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, NamedTuple, Sequence

from .config import MODES, RERANK_POLICIES, Settings, rerank_policy
from .errors import CwqaError

DEFAULT_QUESTIONS = Path("eval/questions.jsonl")
DEFAULT_UNANSWERABLE = Path("eval/unanswerable.jsonl")
DEFAULT_REPORTS_DIR = Path("eval/reports")
DEFAULT_K = 10
PARTIAL_MATCH = 0.6  # share of a quote that must appear as one contiguous span
CONTEXT_WORDS = 300  # the context budget of hit@300w
CUTOFFS = (1, 3, 5, 10)
METRIC_KEYS = (
    "hit@1",
    "hit@3",
    "hit@5",
    "hit@10",
    "mrr@10",
    "ndcg@10",
    "quote_recall@5",
    "words_top5",
    "hit@300w",
    "latency_ms_p50",
    "latency_ms_p95",
    "misses@5",
)
ANSWER_KEYS = ("answer_contains_quote", "citation_precision", "unsupported_rate", "abstain_recall", "false_abstain_rate")
BASELINES = ("bm25-paragraphs", "dense-paragraphs", "dense-fixed-1000")
FIXED_CHARS = 1000
FIXED_OVERLAP = 200
REPORT_JSON = "report.json"
REPORT_MD = "report.md"
REPORT_PNG = "report.png"

Progress = Callable[[str, int, int], None]  # (stage, done, total)
Log = Callable[[str], None]


# ---------------------------------------------------------------------------------------------
# Question files


class Question(NamedTuple):
    """One line of a questions file."""

    id: str
    question: str
    quotes: tuple[str, ...]
    doc: str | None = None


def parse_question(line: str, where: str) -> Question:
    """A question from one JSONL line; a malformed line raises CwqaError naming `where` (file:line)."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise CwqaError(f"{where}: not valid JSON ({error.msg}, column {error.colno})")
    if not isinstance(row, dict):
        raise CwqaError(f"{where}: must be a JSON object, not {type(row).__name__}")
    qid, question, quotes, doc = row.get("id"), row.get("question"), row.get("quotes"), row.get("doc")
    if not isinstance(qid, str) or not qid.strip():
        raise CwqaError(f"{where}: field 'id' is missing or not a non-empty string")
    if not isinstance(question, str) or not question.strip():
        raise CwqaError(f"{where}: field 'question' is missing or not a non-empty string")
    if not isinstance(quotes, list) or not all(isinstance(quote, str) for quote in quotes):
        raise CwqaError(f"{where}: field 'quotes' must be a list of strings")
    if doc is not None and not isinstance(doc, str):
        raise CwqaError(f"{where}: field 'doc' must be a string or null, not {doc!r}")
    return Question(qid, question.strip(), tuple(quote for quote in quotes if quote.strip()), doc)


def read_questions(path: Path, need_quotes: bool = True) -> list[Question]:
    """The questions of a JSONL file, checked; errors name the file and the line.

    With `need_quotes`, every question must have at least one gold quote (an answerable set);
    without, quotes may be empty (the unanswerable set).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CwqaError(f"{path}: questions file not found")
    except (OSError, UnicodeDecodeError) as error:
        raise CwqaError(f"{path}: questions file unreadable ({error})")
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        question = parse_question(line, where)
        if question.id in seen:
            raise CwqaError(f"{where}: id {question.id!r} is already used on line {seen[question.id]}")
        if need_quotes and not question.quotes:
            raise CwqaError(f"{where}: question {question.id!r} has no gold quotes")
        seen[question.id] = number
        questions.append(question)
    if not questions:
        raise CwqaError(f"{path}: no questions")
    return questions


# ---------------------------------------------------------------------------------------------
# Relevance judgement

_QUOTE_MARKS = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "*": None,
    }
)  # fmt: skip


def normalise(text: str) -> str:
    """Lower case, typographic quote marks made straight, markdown `*` dropped, whitespace runs to one space."""
    return re.sub(r"\s+", " ", text.translate(_QUOTE_MARKS).lower()).strip()


def longest_shared_span(quote: str, passage: str, minimum: int = 1) -> int:
    """Length of the longest substring of `quote` that occurs in `passage`, if at least `minimum`, else 0.

    Exact and fast: a shared span of length >= minimum must contain one of the quote's aligned
    blocks of ceil(minimum / 2) characters whole, so only the places where such a block occurs in
    the passage are extended, instead of comparing every pair of positions.
    """
    minimum = max(1, minimum)
    if len(quote) < minimum or len(passage) < minimum:
        return 0
    block = (minimum + 1) // 2
    best = 0
    for start in range(0, len(quote) - block + 1, block):
        piece = quote[start : start + block]
        at = passage.find(piece)
        while at != -1:
            left = 0
            while left < start and left < at and quote[start - left - 1] == passage[at - left - 1]:
                left += 1
            right = block
            while start + right < len(quote) and at + right < len(passage) and quote[start + right] == passage[at + right]:
                right += 1
            best = max(best, left + right)
            at = passage.find(piece, at + 1)
    return best if best >= minimum else 0


def quote_matches(quote: str, passage: str, share: float = PARTIAL_MATCH) -> bool:
    """Whether an already normalised passage holds an already normalised quote, or `share` of it in one span."""
    if not quote:
        return False
    if quote in passage:
        return True
    return longest_shared_span(quote, passage, math.ceil(share * len(quote))) > 0


def quote_in_passage(quote: str, passage: str, share: float = PARTIAL_MATCH) -> bool:
    """Whether a passage holds a gold quote, or `share` of it as one contiguous span, after normalising both."""
    return quote_matches(normalise(quote), normalise(passage), share)


def is_relevant(passage: str, quotes: Iterable[str], share: float = PARTIAL_MATCH) -> bool:
    """Whether a passage is relevant to a question: it holds (most of) at least one of its gold quotes."""
    text = normalise(passage)
    return any(quote_matches(normalise(quote), text, share) for quote in quotes)


# ---------------------------------------------------------------------------------------------
# Metrics: pure functions over one question's ranked relevance flags


class Judged(NamedTuple):
    """One question's ranked passages as the metrics see them."""

    question_id: str
    relevant: tuple[bool, ...]  # per rank, best first
    words: tuple[int, ...]  # words of each ranked passage
    quotes_found_top5: int  # gold quotes held by at least one of the top 5
    quotes: int
    relevant_total: int  # relevant passages in the whole collection: the ideal ranking of nDCG


def hit_at(relevant: Sequence[bool], k: int) -> float:
    """1.0 when a relevant passage is ranked in the top k."""
    return 1.0 if any(relevant[:k]) else 0.0


def reciprocal_rank(relevant: Sequence[bool], k: int) -> float:
    """1/rank of the first relevant passage within the top k, else 0."""
    for rank, flag in enumerate(relevant[:k], start=1):
        if flag:
            return 1.0 / rank
    return 0.0


def ndcg_at(relevant: Sequence[bool], k: int, relevant_total: int) -> float:
    """Binary nDCG@k: DCG of the ranking over DCG of an ideal one with `relevant_total` relevant passages."""
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(k, relevant_total) + 1))
    if ideal == 0.0:
        return 0.0
    gained = sum(1.0 / math.log2(rank + 1) for rank, flag in enumerate(relevant[:k], start=1) if flag)
    return gained / ideal


def hit_within_words(relevant: Sequence[bool], words: Sequence[int], budget: int = CONTEXT_WORDS) -> float:
    """1.0 when a relevant passage starts within the first `budget` words of the ranked passages read in order."""
    before = 0
    for flag, count in zip(relevant, words):
        if before >= budget:
            break
        if flag:
            return 1.0
        before += count
    return 0.0


def percentile(values: Sequence[float], share: float) -> float:
    """Linear-interpolated percentile (share in 0..100) of a non-empty sequence; 0 for an empty one."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * share / 100.0
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarise(judged: Sequence[Judged], latencies_ms: Sequence[float]) -> dict:
    """The metrics of one system over a question set, under the keys of METRIC_KEYS."""
    count = max(1, len(judged))

    def mean(values: Iterable[float]) -> float:
        return sum(values) / count

    metrics: dict = {f"hit@{k}": round(mean(hit_at(j.relevant, k) for j in judged), 4) for k in CUTOFFS}
    metrics["mrr@10"] = round(mean(reciprocal_rank(j.relevant, 10) for j in judged), 4)
    metrics["ndcg@10"] = round(mean(ndcg_at(j.relevant, 10, j.relevant_total) for j in judged), 4)
    metrics["quote_recall@5"] = round(mean(j.quotes_found_top5 / max(1, j.quotes) for j in judged), 4)
    metrics["words_top5"] = round(mean(sum(j.words[:5]) for j in judged), 1)
    metrics["hit@300w"] = round(mean(hit_within_words(j.relevant, j.words) for j in judged), 4)
    metrics["latency_ms_p50"] = round(percentile(latencies_ms, 50), 2)
    metrics["latency_ms_p95"] = round(percentile(latencies_ms, 95), 2)
    metrics["misses@5"] = [j.question_id for j in judged if not hit_at(j.relevant, 5)]
    return metrics


# ---------------------------------------------------------------------------------------------
# Systems: anything that ranks passages for a question


class Ranked(NamedTuple):
    """One ranked passage of a system's answer to a question."""

    passage_id: str
    text: str
    score: float


Search = Callable[[str, int], list[Ranked]]


@dataclass
class System:
    """A retrieval system under evaluation: its whole passage collection and its search function."""

    name: str
    kind: str  # "mode" or "baseline"
    passages: list[tuple[str, str]]  # (id, text) of every passage it can return
    search: Search
    description: str = ""


@dataclass
class SystemResult:
    """A system's metrics, with the per-question judgements and rankings they came from."""

    system: System
    metrics: dict
    judged: list[Judged]
    rankings: dict[str, list[Ranked]]
    latencies_ms: list[float]


class Relevance:
    """Judges passages against a question set, caching normalised texts (passages recur across systems)."""

    def __init__(self, questions: Sequence[Question], share: float = PARTIAL_MATCH):
        self.share = share
        self.quotes = {q.id: [normalise(quote) for quote in q.quotes] for q in questions}
        self._texts: dict[str, str] = {}

    def _normal(self, text: str) -> str:
        normal = self._texts.get(text)
        if normal is None:
            normal = self._texts[text] = normalise(text)
        return normal

    def found(self, question_id: str, text: str) -> list[bool]:
        """Which of the question's quotes the passage holds (or `share` of)."""
        passage = self._normal(text)
        return [quote_matches(quote, passage, self.share) for quote in self.quotes[question_id]]

    def relevant(self, question_id: str, text: str) -> bool:
        """Whether the passage is relevant to the question."""
        return any(self.found(question_id, text))

    def relevant_total(self, question_id: str, passages: Sequence[tuple[str, str]]) -> int:
        """How many passages of a whole collection are relevant: the length of the ideal ranking."""
        return sum(self.relevant(question_id, text) for _, text in passages)

    def judge(self, question: Question, ranked: Sequence[Ranked], relevant_total: int) -> Judged:
        """A question's ranking as relevance flags, word counts and quotes found in the top 5."""
        found = [self.found(question.id, item.text) for item in ranked]
        top5 = [any(column) for column in zip(*found[:5])] if found else []
        return Judged(
            question_id=question.id,
            relevant=tuple(any(flags) for flags in found),
            words=tuple(len(item.text.split()) for item in ranked),
            quotes_found_top5=sum(top5),
            quotes=len(self.quotes[question.id]),
            relevant_total=relevant_total,
        )


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


RERANK_SUFFIX = {"off": "", "auto": "+auto-rerank", "on": "+rerank"}
RERANK_DESCRIPTION = {
    "off": "",
    "auto": ", reranked by a language model when its leader is unclear",
    "on": ", reranked by a language model",
}


def mode_system(retriever, mode: str, rerank: str = "off") -> System:
    """One retrieval mode of the real index as a System, under a rerank policy whatever the
    settings say; its name carries the policy ("hybrid", "hybrid+auto-rerank", "hybrid+rerank")."""

    def search(question: str, k: int) -> list[Ranked]:
        hits = retriever.search(question, k=k, mode=mode, rerank=rerank)
        return [Ranked(hit.chunk.id, hit.chunk.text, hit.score) for hit in hits]

    passages = [(chunk.id, chunk.text) for chunk in retriever.chunks]
    described = f"cwqa {mode} over the structure-aware index{RERANK_DESCRIPTION[rerank]}"
    return System(mode + RERANK_SUFFIX[rerank], "mode", passages, search, described)


# ---------------------------------------------------------------------------------------------
# Baselines: naive chunkings of the raw text, indexed in memory


def raw_text_files(corpus_dir: Path) -> list[Path]:
    """The corpus's plain-text files, which the naive baselines read without any parsing."""
    return sorted(path for path in Path(corpus_dir).glob("*.txt") if not path.name.lower().startswith("readme"))


def blank_line_paragraphs(files: Sequence[Path]) -> list[tuple[str, str]]:
    """Passages split on blank lines, nothing else: headings, page markers and page-break splits stay."""
    passages = []
    for path in files:
        blocks = re.split(r"\n[ \t]*\n", path.read_text(encoding="utf-8"))
        texts = [block.strip() for block in blocks if block.strip()]
        passages += [(f"{path.name}#{n}", text) for n, text in enumerate(texts, start=1)]
    return passages


def fixed_windows(files: Sequence[Path], size: int = FIXED_CHARS, overlap: int = FIXED_OVERLAP) -> list[tuple[str, str]]:
    """Passages of `size` characters, each starting `size - overlap` after the previous, per file."""
    passages = []
    step = size - overlap
    for path in files:
        text = path.read_text(encoding="utf-8")
        for start in range(0, max(1, len(text) - overlap), step):
            window = text[start : start + size].strip()
            if window:
                passages.append((f"{path.name}@{start}", window))
    return passages


def bm25_search(passages: list[tuple[str, str]]) -> Search:
    """BM25 (bm25s, same tokenizer as the real index) over passages, in memory."""
    import bm25s

    from .index import bm25_tokenize
    from .retrieval import top_k

    engine = bm25s.BM25()
    engine.index(bm25_tokenize([text for _, text in passages]), show_progress=False)

    def search(question: str, k: int) -> list[Ranked]:
        known = [token for token in bm25_tokenize([question])[0] if token in engine.vocab_dict]
        if not known:
            return []
        scores = engine.get_scores(known)
        return [Ranked(*passages[i], score) for i, score in top_k(scores, k) if score > 0]

    return search


def dense_search(passages: list[tuple[str, str]], embedder) -> Search:
    """Exact inner-product search (temporary FAISS flat index) over the passages' embeddings."""
    import numpy as np

    from .index import make_dense_index

    # Encode shortest first: batches of similar length waste less padding (a third less time here).
    order = np.argsort([len(text) for _, text in passages], kind="stable")
    vectors = np.empty((len(passages), embedder.dimension), dtype=np.float32)
    vectors[order] = embedder.encode([passages[i][1] for i in order])
    index = make_dense_index(vectors, "flat")

    def search(question: str, k: int) -> list[Ranked]:
        scores, ids = index.search(embedder.encode_query(question), min(k, index.ntotal))
        return [Ranked(*passages[i], float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    return search


def baseline_systems(corpus_dir: Path, embedder) -> list[System]:
    """The three naive baselines over the raw .txt files of a corpus, built in memory."""
    files = raw_text_files(corpus_dir)
    if not files:
        raise CwqaError(f"{corpus_dir}: no .txt files for the baselines (use --no-baselines)")
    paragraphs = blank_line_paragraphs(files)
    windows = fixed_windows(files)
    bm25_paragraphs, dense_paragraphs, dense_fixed = BASELINES
    return [
        System(bm25_paragraphs, "baseline", paragraphs, bm25_search(paragraphs), "BM25, raw text split on blank lines"),
        System(dense_paragraphs, "baseline", paragraphs, dense_search(paragraphs, embedder), "dense, raw text split on blank lines"),
        System(
            dense_fixed,
            "baseline",
            windows,
            dense_search(windows, embedder),
            f"dense, fixed {FIXED_CHARS}-character windows, {FIXED_OVERLAP} overlap",
        ),
    ]


# ---------------------------------------------------------------------------------------------
# Answers, scored by cwqa.generation.answer_metrics


def answer_section(
    retriever, questions: Sequence[Question], unanswerable: Sequence[Question], name: str, settings: Settings,
    progress: Progress | None = None, rerank: str = "off",
) -> dict:
    """Answer metrics of one generator over the answerable and unanswerable questions.

    Each question is answered as `cwqa ask` answers it (settings.mode, settings.k passages, the
    `rerank` policy), then
    cwqa.generation.answer_metrics scores the answers; a cited passage counts as relevant by the
    same judgement as the retrieval metrics. Values are None when their denominator is zero (for
    example abstain_recall without unanswerable questions).
    """
    from .generation import answer_metrics, generate_answer, get_generator

    generator = get_generator(name, settings)
    everything = list(questions) + list(unanswerable)
    relevance = Relevance(everything)
    answers, relevant_chunks = {}, {}
    for done, question in enumerate(everything, start=1):
        hits = retriever.search(question.question, k=settings.k, mode=settings.mode, rerank=rerank)
        answers[question.id] = generate_answer(generator, question.question, hits, embedder=retriever.embedder)
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


# ---------------------------------------------------------------------------------------------
# A whole run


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
    retriever=None,
    progress: Progress | None = None,
    log: Log = lambda message: None,
    rerank: str | bool | None = None,
) -> EvaluationResult:
    """Evaluate retrieval modes (and baselines, and a generator's answers) on a question set.

    Opens the index for `settings` (building it if missing or stale) unless a `retriever` is given.
    `progress(stage, done, total)` is called as questions are run; stages are "index", the mode and
    baseline names, and "answers (<generator>)". With `write`, the report files go to `out_dir`
    (default eval/reports/<timestamp>/). `limit` keeps the first N questions (quick runs).
    `rerank` is a policy (default: the settings', "auto"): when it can rerank the first mode
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
    questions = read_questions(questions_path)[:limit] if limit else read_questions(questions_path)
    unanswerable = read_questions(unanswerable_path, need_quotes=False) if generator and unanswerable_path else []
    if retriever is None:
        from .index import open_retriever

        if progress:
            progress("index", 0, 1)
        retriever = open_retriever(settings, progress=(lambda d, t: progress("index", d, t)) if progress else None, log=log)
        if progress:
            progress("index", 1, 1)
    systems = [mode_system(retriever, mode) for mode in modes]
    from .retrieval import should_rerank

    if should_rerank(rerank, modes[0], clear=False):  # a policy that can rerank the first mode at all
        systems.insert(1, mode_system(retriever, modes[0], rerank))
    if baselines:
        log("building the baselines in memory")
        systems += baseline_systems(settings.corpus_dir, retriever.embedder)
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
    answers = answer_section(retriever, questions, unanswerable, generator, settings, progress, rerank) if generator else None
    report = build_report(results, retriever, settings, questions_path, len(questions), k, answers)
    result = EvaluationResult(report, results)
    if write:
        result.out_dir = Path(out_dir) if out_dir else new_report_dir()
        report["meta"]["report_dir"] = str(result.out_dir)
        result.files = write_report(result, result.out_dir)
        log(f"report written to {result.out_dir}")
    return result


def build_report(
    results: Sequence[SystemResult],
    retriever,
    settings: Settings,
    questions_path: Path,
    count: int,
    k: int,
    answers: dict | None,
) -> dict:
    """The JSON object of a run: metadata, one section per mode and per baseline, answers if any."""
    loaded = getattr(retriever, "loaded", None)
    manifest = getattr(loaded, "manifest", None) or {}
    report = {
        "meta": {
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "questions_file": str(questions_path),
            "questions": count,
            "k": k,
            "model": settings.model,
            "chunk_tokens": settings.chunk_tokens,
            "context_prefix": settings.context_prefix,
            # every setting in force (fusion, weights, ...), except generator options, which may hold keys
            "settings": {
                name: str(value) if isinstance(value, Path) else value
                for name, value in dataclasses.asdict(settings).items()
                if name != "generator_options"
            },
            "index_build": str(getattr(loaded, "path", "")),
            "index_chunks": manifest.get("chunks", len(getattr(retriever, "chunks", []))),
            "dense_index": manifest.get("dense_index", ""),
            "relevance": f"passage holds a gold quote, or {PARTIAL_MATCH:.0%} of one as a contiguous span, "
            "after normalising whitespace, case, quote marks and '*'",
            "context_words": CONTEXT_WORDS,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
            "load_average": [round(load, 2) for load in os.getloadavg()],  # latencies mean little on a busy machine
            "systems": {
                r.system.name: {
                    "kind": r.system.kind,
                    "passages": len(r.system.passages),
                    "description": r.system.description,
                    # questions no passage of this collection is relevant to: misses whatever the ranking
                    "unreachable": [j.question_id for j in r.judged if j.relevant_total == 0],
                }
                for r in results
            },
        },
        "modes": {r.system.name: r.metrics for r in results if r.system.kind == "mode"},
        "baselines": {r.system.name: r.metrics for r in results if r.system.kind == "baseline"},
    }
    if answers is not None:
        report["answers"] = answers
    return report


# ---------------------------------------------------------------------------------------------
# Report files


def new_report_dir(root: Path = DEFAULT_REPORTS_DIR) -> Path:
    """A fresh eval/reports/<timestamp>/ folder name (suffixed if two runs start in the same second)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, n = Path(root) / stamp, 1
    while path.exists():
        n += 1
        path = Path(root) / f"{stamp}-{n}"
    return path


def report_markdown(report: dict) -> str:
    """The report as Markdown: one table row per mode and baseline, then the misses."""
    meta = report["meta"]
    columns = [key for key in METRIC_KEYS if key != "misses@5"]
    lines = [
        f"# Retrieval evaluation {meta['created']}",
        "",
        f"{meta['questions']} questions from `{meta['questions_file']}`, k={meta['k']}, model `{meta['model']}`, "
        f"chunk_tokens={meta['chunk_tokens']}, context_prefix={meta['context_prefix']}, "
        f"{meta['index_chunks']} passages ({meta['dense_index'] or 'dense'} index). {meta['machine']}.",
        "",
        f"Relevance: {meta['relevance']}. hit@300w: a relevant passage starts within the first "
        f"{meta['context_words']} words of the ranked passages. Latency per query, warm, in ms.",
        "",
        "| system | " + " | ".join(columns) + " | misses@5 |",
        "|---|" + "---:|" * (len(columns) + 1),
    ]
    sections = [(name, m) for name, m in report["modes"].items()]
    sections += [(f"baseline: {name}", m) for name, m in report.get("baselines", {}).items()]
    for name, metrics in sections:
        cells = [_cell(metrics[key]) for key in columns] + [str(len(metrics["misses@5"]))]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "## Questions missed at 5", ""]
    for name, metrics in sections:
        lines.append(f"- {name}: {', '.join(metrics['misses@5']) or 'none'}")
    if "answers" in report:
        answers = report["answers"]
        lines += ["", f"## Answers ({answers['generator']}, {answers['mode']}, k={answers['k']})", ""]
        lines += ["| " + " | ".join(ANSWER_KEYS) + " |", "|" + "---:|" * len(ANSWER_KEYS)]
        lines.append("| " + " | ".join(_cell(answers[key]) for key in ANSWER_KEYS) + " |")
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}" if value <= 1.0 else f"{value:.1f}"
    return str(value)


def write_chart(report: dict, path: Path) -> None:
    """A PNG bar chart of the main metrics per system, and of query latency."""
    import matplotlib

    matplotlib.use("Agg")  # no display: the chart is a file
    import matplotlib.pyplot as plt

    names = list(report["modes"]) + [f"base: {name}" for name in report.get("baselines", {})]
    sections = list(report["modes"].values()) + list(report.get("baselines", {}).values())
    metrics = ["hit@1", "hit@5", "mrr@10", "ndcg@10", "quote_recall@5", "hit@300w"]
    figure, (quality, speed) = plt.subplots(1, 2, figsize=(13, 5.4), gridspec_kw={"width_ratios": [3, 1]})
    width = 0.8 / max(1, len(names))
    for i, (name, section) in enumerate(zip(names, sections)):
        xs = [m + (i - (len(names) - 1) / 2) * width for m in range(len(metrics))]
        quality.bar(xs, [section[m] for m in metrics], width, label=name)
    quality.set_xticks(range(len(metrics)), metrics)
    quality.set_ylim(0, 1.0)
    quality.set_title(f"Retrieval quality ({report['meta']['questions']} questions)")
    quality.legend(fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.08))  # below: never over a bar
    quality.grid(axis="y", alpha=0.3)
    speed.barh(names, [s["latency_ms_p50"] for s in sections], label="p50")
    speed.barh(names, [s["latency_ms_p95"] - s["latency_ms_p50"] for s in sections],
               left=[s["latency_ms_p50"] for s in sections], alpha=0.4, label="p95")  # fmt: skip
    speed.set_xscale("log")  # BM25 answers in a fraction of a millisecond, the model in tens
    speed.set_xlim(left=max(1e-3, min(s["latency_ms_p50"] for s in sections) / 3))  # bars start left of the smallest
    speed.set_xlabel("ms per query (log scale)")
    speed.set_title("Latency")
    speed.invert_yaxis()
    speed.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_run_file(result: SystemResult, path: Path) -> None:
    """One line per ranked passage: question id, rank, passage id, score, relevance, text."""
    judged = {j.question_id: j for j in result.judged}
    with open(path, "w", encoding="utf-8") as handle:
        for question_id, ranked in result.rankings.items():
            for rank, item in enumerate(ranked, start=1):
                record = {
                    "question_id": question_id,
                    "rank": rank,
                    "chunk_id": item.passage_id,
                    "score": round(float(item.score), 6),
                    "relevant": judged[question_id].relevant[rank - 1],
                    "text": item.text,
                }
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_report(result: EvaluationResult, out_dir: Path) -> dict[str, Path]:
    """Write report.json, report.md, report.png and the run files into `out_dir`; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"json": out_dir / REPORT_JSON, "markdown": out_dir / REPORT_MD, "chart": out_dir / REPORT_PNG}
    files["json"].write_text(json.dumps(result.report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    files["markdown"].write_text(report_markdown(result.report), encoding="utf-8")
    write_chart(result.report, files["chart"])
    for system_result in result.results:
        prefix = "run-" if system_result.system.kind == "mode" else "run-baseline-"
        path = out_dir / f"{prefix}{system_result.system.name}.jsonl"
        write_run_file(system_result, path)
        files[f"run:{system_result.system.name}"] = path
    return files


def load_report(folder: Path) -> dict:
    """The JSON report of a report folder."""
    return json.loads((Path(folder) / REPORT_JSON).read_text(encoding="utf-8"))


def latest_report(root: Path = DEFAULT_REPORTS_DIR) -> Path | None:
    """The most recent report folder under `root` (by its recorded creation time), or None if there is none."""
    root = Path(root)
    if not root.is_dir():
        return None
    found = []
    for path in root.glob(f"*/{REPORT_JSON}"):
        try:
            created = json.loads(path.read_text(encoding="utf-8"))["meta"]["created"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a half-written or foreign folder is not a report
        found.append((created, path.stat().st_mtime, path.parent))
    return max(found)[2] if found else None


# ---------------------------------------------------------------------------------------------
# Command line: `cwqa eval`


def _modes(text: str) -> list[str]:
    modes = list(dict.fromkeys(mode.strip() for mode in text.split(",") if mode.strip()))  # once each, in order
    unknown = [mode for mode in modes if mode not in MODES]
    if unknown or not modes:
        raise argparse.ArgumentTypeError(f"unknown mode(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(MODES)}")
    return modes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `cwqa eval`."""
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help=f"questions file (default {DEFAULT_QUESTIONS})")
    parser.add_argument("--modes", type=_modes, default=list(MODES), help="comma-separated modes (default hybrid,dense,bm25)")
    # Default None, not 10: cwqa's main copies a given -k into the settings, and the settings' k is
    # the number of passages a generator is given, so only an explicit -k should change it.
    parser.add_argument("-k", type=int, default=None, help=f"passages ranked per question (default {DEFAULT_K})")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument("--out", type=Path, help=f"report folder (default {DEFAULT_REPORTS_DIR}/<timestamp>/)")
    parser.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True, help="also run the naive baselines")
    parser.add_argument("--generator", help="also score this generator's answers (see `cwqa generators`)")
    parser.add_argument("--unanswerable", type=Path, default=DEFAULT_UNANSWERABLE, help="unanswerable questions, for --generator")
    parser.add_argument("--limit", type=int, help="only the first N questions (a quick run)")
    parser.add_argument(
        "--rerank", nargs="?", const="on", choices=RERANK_POLICIES, default=None,
        help="rerank policy of the extra first-mode row and the answers: auto (the default setting), on (alone: "
        "always; slow) or off (no extra row)",
    )


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """`cwqa eval`: run, write the report folder, print the table (or the JSON with --json)."""

    def say(message: str) -> None:
        print(f"cwqa: {message}", file=sys.stderr)

    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        # One progress bar per stage on stderr, so stdout carries only the table or the JSON.
        if stage not in bars:
            bars[stage] = tqdm(total=total, desc=stage, file=sys.stderr, leave=False, disable=None)  # no bar when not a terminal
        bars[stage].total = total
        bars[stage].n = done
        bars[stage].refresh()
        if done >= total:
            bars.pop(stage).close()

    k = args.k or DEFAULT_K
    result = run_evaluation(
        settings,
        questions_path=args.questions,
        modes=args.modes,
        k=k,
        out_dir=args.out,
        baselines=args.baselines,
        generator=args.generator if args.generator and args.generator != "none" else None,
        unanswerable_path=args.unanswerable,
        limit=args.limit,
        progress=progress,
        log=say,
        rerank=args.rerank,
    )
    if args.json:
        print(json.dumps(result.report, ensure_ascii=False, indent=1))
    else:
        print(result.markdown)
        print(f"report: {result.out_dir}")
    return 0
