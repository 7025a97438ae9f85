"""Metrics: pure functions over one question's ranked relevance flags, and over a set of answers."""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

from ..answers.citations import MARKER
from ..text import PARTIAL_MATCH, holds_quote


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
def contains_quote(text: str, quotes: Sequence[str], share: float = PARTIAL_MATCH) -> bool:
    """True when `text` holds at least `share` of some quote as one contiguous span.

    The same judgement as retrieval relevance (cwqa.text.holds_quote); citation markers are
    ignored, so "[2]" inside an answer does not break a span.
    """
    text = MARKER.sub(" ", text)
    return any(holds_quote(text, quote, share) for quote in quotes if quote.strip())


def _as_dict(answer) -> dict:
    return answer.to_dict() if hasattr(answer, "to_dict") else dict(answer)


def answer_metrics(
    results: Mapping[str, Any],
    relevant: Mapping[str, Sequence[str]],
    relevant_chunks: Mapping[str, Iterable[str]] | None = None,
    share: float = 0.6,
) -> dict:
    """Answer quality over a question set.

    results: question id -> Answer (or its `to_dict()`).
    relevant: question id -> gold quotes; an empty list marks an unanswerable question.
        Questions missing from `relevant` are ignored.
    relevant_chunks: question id -> relevant chunk ids, for citation precision; without it a
        cited passage is relevant when it contains `share` of a gold quote.

    Returns shares in [0, 1] (None when a denominator is zero):
    answer_contains_quote  answerable questions whose answer holds >= `share` of a gold quote
                           as a contiguous span (an abstention holds none);
    citation_precision     cited passages that are relevant, over answered answerable questions;
    unsupported_rate       answer sentences not supported by what they cite (answered questions);
    verbatim_rate          answer sentences found verbatim in a cited passage;
    abstain_recall         unanswerable questions abstained on;
    false_abstain_rate     answerable questions abstained on;
    plus the counts behind them.
    """
    counts = dict(answerable=0, unanswerable=0, contains=0, abstained_answerable=0, abstained_unanswerable=0,
                  cited=0, cited_relevant=0, sentences=0, unsupported=0, verbatim=0)
    for qid, answer in results.items():
        if qid not in relevant:
            continue
        data, quotes = _as_dict(answer), list(relevant[qid])
        abstained = bool(data.get("abstained"))
        kind = "answerable" if quotes else "unanswerable"
        counts[kind] += 1
        counts[f"abstained_{kind}"] += abstained
        if abstained:
            continue
        sentences = data.get("sentences") or []
        counts["sentences"] += len(sentences)
        counts["unsupported"] += sum(not s.get("supported") for s in sentences)
        counts["verbatim"] += sum(s.get("method") == "verbatim" for s in sentences)
        if not quotes:
            continue
        counts["contains"] += contains_quote(data.get("text", ""), quotes, share)
        wanted = set(relevant_chunks.get(qid, ())) if relevant_chunks is not None else None
        for citation in data.get("citations") or []:
            counts["cited"] += 1
            if wanted is not None:
                counts["cited_relevant"] += citation.get("chunk_id") in wanted
            else:
                counts["cited_relevant"] += contains_quote(citation.get("text", ""), quotes, share)

    def ratio(part: str, whole: str) -> float | None:
        return counts[part] / counts[whole] if counts[whole] else None

    return {
        "answer_contains_quote": ratio("contains", "answerable"),
        "citation_precision": ratio("cited_relevant", "cited"),
        "unsupported_rate": ratio("unsupported", "sentences"),
        "verbatim_rate": ratio("verbatim", "sentences"),
        "abstain_recall": ratio("abstained_unanswerable", "unanswerable"),
        "false_abstain_rate": ratio("abstained_answerable", "answerable"),
        "counts": counts,
    }
