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

from .report import latest_report, load_report, new_report_dir, report_markdown
from .runner import run_evaluation

__all__ = ["latest_report", "load_report", "new_report_dir", "report_markdown", "run_evaluation"]
