"""Downloads of a result page: Markdown (every metacharacter escaped) and JSON."""

from __future__ import annotations

import json
import re
import time
from typing import Sequence

from ..verdict import MatchVerdict
from .escape import escape_markdown, safe_url
from .views import AnswerView


def _quote_block(text: str) -> str:
    return "\n".join("> " + escape_markdown(line) if line.strip() else ">" for line in text.splitlines() or [""])


def results_markdown(question: str, hits: Sequence, *, mode: str, k: int, doc_ids: Sequence[str] = (), verdict: MatchVerdict | None = None, answer: AnswerView | None = None, generator: str = "none") -> str:
    """The results as a Markdown file: the question, the answer if any, each passage with its citation.

    Everything from the corpus or the user is escaped, so the file renders as text in any viewer.
    """
    lines = [f"# {escape_markdown(question)}", ""]
    filters = f"; documents: {', '.join(doc_ids)}" if doc_ids else ""
    lines += [f"Retrieved by cwqa, {mode} search, top {k}{escape_markdown(filters)}, {time.strftime('%Y-%m-%d %H:%M')}.", ""]
    if verdict is not None and not verdict.good:
        lines += [f"**No passage is a good match for this question** ({escape_markdown(verdict.reason)}); the closest passages follow.", ""]
    if answer is not None:
        lines += [f"## Answer ({escape_markdown(generator)})", ""]
        if answer.abstained:
            lines += [f"*No answer:* {escape_markdown(answer.reason or 'the passages do not answer the question')}", ""]
        if answer.text:
            lines += [escape_markdown(answer.text), ""]
    lines += ["## Passages", ""]
    for hit in hits:
        scores = f"score {hit.score:.4f}"
        if hit.dense_score is not None:
            scores += f", similarity {hit.dense_score:.3f}"
        if hit.bm25_score is not None:
            scores += f", BM25 {hit.bm25_score:.2f}"
        lines += [f"### [{hit.rank}] {escape_markdown(hit.citation)}", "", f"*{scores}*", ""]
        lines += [_quote_block(hit.text), ""]
        url = safe_url(hit.chunk.url)
        if url:
            lines += [f"<{url}>", ""]
    return "\n".join(lines)


def results_json(question: str, hits: Sequence, *, mode: str, k: int, doc_ids: Sequence[str] = (), verdict: MatchVerdict | None = None, answer: AnswerView | None = None, generator: str = "none") -> str:
    """The results as one JSON object: question, settings, verdict, answer and `Hit.to_dict()`s."""
    payload = {
        "question": question,
        "mode": mode,
        "k": k,
        "documents": list(doc_ids),
        "retrieved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "good_match": None if verdict is None else verdict.good,
        "no_match_reason": "" if verdict is None or verdict.good else verdict.reason,
        "generator": generator,
        "answer": None if answer is None else answer.raw,
        "hits": [hit.to_dict() for hit in hits],
    }
    return json.dumps(payload, ensure_ascii=False, indent=1, default=str)


def export_name(question: str, suffix: str) -> str:
    """A file name for a download: 'cwqa-which-places-did-kennan.md'."""
    slug = re.sub(r"[^a-z0-9]+", "-", (question or "").lower()).strip("-")[:40].strip("-")
    return f"cwqa-{slug or 'results'}.{suffix}"
