"""The good-match verdict: is any retrieved passage worth presenting as an answer?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


# Calibrated with `python -m cwqa.verdict` (see `calibrate`) on eval/questions.jsonl (124
# answerable) against eval/unanswerable.jsonl (20) and four off-topic probes (wheat prices in
# Chicago, keyboard noise, tomorrow's weather, a bread recipe), k=5, all-MiniLM-L6-v2, the
# two-document corpus, with dense scores as the retriever gives them (best of passage and
# sentence cosines). Best cosine among the top 5 (index code of 2026-11-21, commit 8ec4911):
#   - answerable: lowest 0.319 in hybrid mode, 0.341 dense, 0.298 BM25 (whose hits differ);
#   - off-topic probes: highest 0.253; their best BM25 is 2.12;
#   - unanswerable: 0.234 to 0.818. Most ask about the documents' own subjects ("How did Truman
#     respond to the Long Telegram?"), so passages match topically and only the answer step
#     (abstention) can refuse them; score thresholds cannot, and are not meant to.
# DENSE_GOOD sits between the off-topic probes and the weakest answerable question; with it all
# 124 answerable questions pass in every mode, all 4 probes are refused, and 2 (hybrid), 1 (dense)
# or 3 (BM25) of the 20 unanswerable ones. BM25_GOOD rescues a question whose exact words occur
# in a passage the model scores low; no probe comes near it. BM25 scores grow with the corpus
# (rarer terms get a larger IDF), so re-run the calibration after adding many documents, and after
# any change to how dense scores are computed.
DENSE_GOOD = 0.27
BM25_GOOD = 4.0


@dataclass(frozen=True)
class MatchVerdict:
    """Whether the hits include a good match, with the evidence the decision was made on."""

    good: bool
    best_dense: float | None
    best_bm25: float | None
    reason: str


def is_strong(hit, dense_threshold: float = DENSE_GOOD, bm25_threshold: float = BM25_GOOD) -> bool:
    """A passage is a good match when its meaning (cosine) or its words (BM25) are close enough."""
    dense = getattr(hit, "dense_score", None)
    bm25 = getattr(hit, "bm25_score", None)
    return (dense is not None and dense >= dense_threshold) or (bm25 is not None and bm25 >= bm25_threshold)


def assess_match(hits: Sequence, dense_threshold: float = DENSE_GOOD, bm25_threshold: float = BM25_GOOD) -> MatchVerdict:
    """Decide whether to present the hits as answers or say that nothing matches well.

    Retrieval gives every hit both scores, whatever the mode: a dense-only search judged on
    cosine alone would refuse questions that BM25 alone rescues.
    """
    dense = [h.dense_score for h in hits if getattr(h, "dense_score", None) is not None]
    bm25 = [h.bm25_score for h in hits if getattr(h, "bm25_score", None) is not None]
    best_dense = max(dense) if dense else None
    best_bm25 = max(bm25) if bm25 else None
    if not hits:
        return MatchVerdict(False, None, None, "no passage was retrieved")
    if any(is_strong(h, dense_threshold, bm25_threshold) for h in hits):
        return MatchVerdict(True, best_dense, best_bm25, "")
    evidence = []
    if best_dense is not None:
        evidence.append(f"best similarity {best_dense:.2f} < {dense_threshold:.2f}")
    if best_bm25 is not None:
        evidence.append(f"best BM25 {best_bm25:.2f} < {bm25_threshold:.1f}")
    return MatchVerdict(False, best_dense, best_bm25, "; ".join(evidence) or "the hits carry no scores")


OFF_TOPIC_PROBES = (
    "What was the price of wheat in Chicago?",
    "qwxz plorf zzzt",
    "Will it rain in Paris tomorrow?",
    "How do I bake sourdough bread?",
)


def calibrate(retriever, groups: dict[str, Sequence[str]], k: int = 5, modes: Sequence[str] = ("hybrid", "dense", "bm25")) -> list[dict]:
    """Best cosine and BM25 among the top k for each question group and mode, and how many of
    each group the current thresholds would refuse: the numbers DENSE_GOOD and BM25_GOOD rest on."""
    rows = []
    for mode in modes:
        for group, questions in groups.items():
            verdicts = [assess_match(retriever.search(q, k=k, mode=mode)) for q in questions]
            dense = [v.best_dense for v in verdicts if v.best_dense is not None]
            rows.append(
                {
                    "mode": mode,
                    "group": group,
                    "questions": len(questions),
                    "refused": sum(not v.good for v in verdicts),
                    "lowest_cosine": round(min(dense), 3) if dense else None,
                    "highest_cosine": round(max(dense), 3) if dense else None,
                }
            )
    return rows
