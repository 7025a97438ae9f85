"""What the app shows, computed without Streamlit: escaping, highlighting, layout, exports, verdicts.

`app.py` holds only widgets; everything here is plain Python so it can be unit-tested.

Safety rule: corpus text, metadata, questions and generated answers are untrusted. Everything
built here as HTML is `html.escape`d first, and only then are our own tags (<mark>, <div>, ...)
added around the escaped text; the app passes it to `st.html` (no Markdown interpretation, and
Streamlit sanitises it again). Text written as Markdown (the download) has every Markdown and HTML
metacharacter escaped, so `![x](http://...)` or `<img onerror=...>` in a document stays text.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from .corpus import format_pages

# ---------------------------------------------------------------------------------------------
# Escaping


def escape_html(text: Any) -> str:
    """Text made safe to put inside HTML (quotes included, for attribute values)."""
    return html.escape("" if text is None else str(text), quote=True)


# Every ASCII punctuation character may be backslash-escaped in CommonMark, which makes it literal;
# Streamlit adds its own syntax on top ($…$ maths, :emoji:, :color[…]), also covered by this set.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:$^=\"'])")


def escape_markdown(text: Any) -> str:
    """Text that any Markdown renderer shows literally: no links, images, emphasis or raw HTML."""
    text = "" if text is None else str(text)
    # Entities first: '<' and '&' must never open a tag or an entity, in any renderer.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def safe_url(url: Any) -> str:
    """The URL if it is an absolute http(s) address, else '' (a `javascript:` link is never shown)."""
    url = str(url or "").strip()
    return url if re.match(r"https?://[^\s<>\"']+$", url, re.IGNORECASE) else ""


# ---------------------------------------------------------------------------------------------
# Query terms and highlighting

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_STOPWORDS: frozenset[str] | None = None
_STEMMER = None


def _stopwords() -> frozenset[str]:
    global _STOPWORDS
    if _STOPWORDS is None:
        try:
            from bm25s.stopwords import STOPWORDS_EN_PLUS

            words = set(STOPWORDS_EN_PLUS)
        except ImportError:  # highlighting still works, it just marks a few more small words
            words = {"the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "did", "what", "which", "how", "why"}
        # Question words carry no evidence: "What did Kennan say..." should not light up every "say".
        words |= {"say", "said", "according", "document", "documents", "would", "could", "also"}
        _STOPWORDS = frozenset(words)
    return _STOPWORDS


def _stem(word: str) -> str:
    global _STEMMER
    if _STEMMER is None:
        try:
            import Stemmer

            _STEMMER = Stemmer.Stemmer("english")
        except ImportError:
            _STEMMER = False
    word = word.lower().replace("’", "'")
    return _STEMMER.stemWord(word) if _STEMMER else word


def query_terms(question: str) -> frozenset[str]:
    """Stems of the question's content words (the same stemmer BM25 uses), for highlighting."""
    terms = set()
    for match in _WORD.finditer(question or ""):
        word = match.group(0).lower()
        if len(word) < 3 or word in _stopwords():
            continue
        terms.add(_stem(word))
    return frozenset(terms)


def highlight_html(text: str, terms: Iterable[str] | str, css_class: str = "cwqa-term") -> str:
    """`text` escaped for HTML, with words whose stem is one of `terms` wrapped in <mark>.

    `terms` is a set of stems (see `query_terms`) or the question itself. Escaping happens piece
    by piece on the original text, so a match can never split an entity or a tag.
    """
    terms = query_terms(terms) if isinstance(terms, str) else frozenset(terms)
    text = text or ""
    out: list[str] = []
    position = 0
    for match in _WORD.finditer(text):
        word = match.group(0)
        if len(word) >= 3 and _stem(word) in terms:
            out.append(escape_html(text[position : match.start()]))
            out.append(f'<mark class="{css_class}">{escape_html(word)}</mark>')
            position = match.end()
    out.append(escape_html(text[position:]))
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# "No good match": is any retrieved passage worth presenting as an answer?

# Calibrated with `python -m cwqa.presentation` (see `calibrate`) on eval/questions.jsonl (124
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

    Fill missing scores first (`complete_scores`): a dense-only search has no BM25 scores, and
    judging it on cosine alone would refuse questions that BM25 alone rescues.
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
            verdicts = [assess_match(complete_scores(retriever, q, retriever.search(q, k=k, mode=mode))) for q in questions]
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


def complete_scores(retriever, question: str, hits: Sequence) -> list:
    """The hits with both their cosine and BM25 scores, computing whichever the mode skipped.

    Costs one query embedding (dense missing) or one BM25 scoring (BM25 missing); nothing when the
    search was hybrid. A retriever without the needed parts leaves the hits as they are.
    """
    hits = list(hits)
    need_dense = any(h.dense_score is None for h in hits)
    need_bm25 = any(h.bm25_score is None for h in hits)
    if not hits or not (need_dense or need_bm25):
        return hits
    positions = getattr(retriever, "_positions", None) or {c.id: i for i, c in enumerate(retriever.chunks)}
    dense_vector = bm25_all = None
    try:
        if need_dense:
            dense_vector = retriever.embedder.encode_query(question)[0]
        if need_bm25:
            bm25_all = retriever.bm25_scores(question)
    except AttributeError:
        return hits
    completed = []
    for hit in hits:
        position = positions[hit.chunk.id]
        changes = {}
        if hit.dense_score is None and dense_vector is not None:
            # The retriever's own notion of closeness when it has one (passage or best sentence).
            best_cosine = getattr(retriever, "best_cosine", None)
            if best_cosine is not None:
                changes["dense_score"] = float(best_cosine(dense_vector, position))
            else:
                changes["dense_score"] = float(retriever.loaded.embeddings[position] @ dense_vector)
        if hit.bm25_score is None and bm25_all is not None:
            changes["bm25_score"] = float(bm25_all[position])
        completed.append(dataclasses.replace(hit, **changes) if changes else hit)
    return completed


# ---------------------------------------------------------------------------------------------
# Citations and where a passage stands


def chunk_where(chunk, citation_name: str = "") -> str:
    """Where a passage stands inside its document, as cited: 'Part 3 ¶(b), pp. 696–709'.

    The citation starts with the document's citation name and ends with ' — <printed source>';
    what lies between is the part, paragraph and pages.
    """
    citation = chunk.citation
    if citation_name and citation.startswith(citation_name):
        citation = citation[len(citation_name) :].lstrip(", ")
    return citation.split(" — ")[0]


def section_subtitle(chunk) -> str:
    """The section's title without what its label already says: 'Projection of Soviet Outlook ...'
    for 'Part 3: Projection of Soviet Outlook ...'; '' when the title is just the label."""
    title, label = chunk.section_title or "", chunk.section_label or ""
    if title == label:
        return ""
    if label and title.startswith(label):
        return title[len(label) :].lstrip(" :.—-")
    return title


def paragraph_mark(chunk, citation_name: str = "") -> str:
    """The paragraph's name in its section, for the margin: '¶(b)', 'para. 3', 'n. 2'."""
    where = chunk_where(chunk, citation_name).split(", p")[0]
    section = chunk.section_label
    if where.startswith(section):
        where = where[len(section) :].strip()
    return where or (chunk.label or "")


# ---------------------------------------------------------------------------------------------
# Paragraph context and document layout


@dataclass
class ParagraphView:
    """One paragraph of a document as shown: its passages (windows) in order."""

    paragraph_id: str
    chunks: list

    @property
    def first(self):
        return self.chunks[0]

    @property
    def text(self) -> str:
        return " ".join(chunk.text for chunk in self.chunks)


def group_paragraphs(chunks: Sequence) -> list[ParagraphView]:
    """A document's passages grouped into its paragraphs, in order (windows of one paragraph join)."""
    paragraphs: list[ParagraphView] = []
    for chunk in chunks:
        if paragraphs and paragraphs[-1].paragraph_id == chunk.paragraph_id:
            paragraphs[-1].chunks.append(chunk)
        else:
            paragraphs.append(ParagraphView(chunk.paragraph_id, [chunk]))
    return paragraphs


def paragraph_context(document_chunks: Sequence, chunk_id: str) -> tuple[ParagraphView | None, ParagraphView | None, ParagraphView | None]:
    """(previous paragraph, the passage's paragraph, next paragraph) within its document."""
    paragraphs = group_paragraphs(document_chunks)
    for index, paragraph in enumerate(paragraphs):
        if any(chunk.id == chunk_id for chunk in paragraph.chunks):
            before = paragraphs[index - 1] if index > 0 else None
            after = paragraphs[index + 1] if index + 1 < len(paragraphs) else None
            return before, paragraph, after
    return None, None, None


def paragraph_html(paragraph: ParagraphView, cited_chunk_id: str | None = None, terms: Iterable[str] = (), mark_terms: bool = False) -> str:
    """A paragraph's text as escaped HTML; the cited window, if any, wrapped in <mark class="cwqa-span">."""
    pieces = []
    for chunk in paragraph.chunks:
        inner = highlight_html(chunk.text, terms) if mark_terms else escape_html(chunk.text)
        if chunk.id == cited_chunk_id:
            inner = f'<mark class="cwqa-span" data-chunk="{escape_html(chunk.id)}">{inner}</mark>'
        pieces.append(inner)
    return " ".join(pieces)


CITED_ANCHOR = "cwqa-cited"


def document_html(document: dict, chunks: Sequence, cited_chunk_id: str | None = None, terms: Iterable[str] = ()) -> str:
    """A whole document laid out as printed: section headings, then one row per paragraph with its
    label and page in the margin. The cited paragraph carries id="cwqa-cited" (the app scrolls to
    it) and its cited window is marked. All text is escaped."""
    citation_name = document.get("citation_name", "")
    rows = ['<div class="cwqa-doc">']
    section = None
    last_pages = None
    for paragraph in group_paragraphs(chunks):
        first = paragraph.first
        cited = any(chunk.id == cited_chunk_id for chunk in paragraph.chunks)
        if first.kind == "heading":
            # The printed title lines: shown as a title block, not as a numbered paragraph.
            anchor = f' id="{CITED_ANCHOR}"' if cited else ""
            extra_class = " cwqa-cited-para" if cited else ""
            rows.append(
                f'<div class="cwqa-docheading{extra_class}"{anchor} data-paragraph="{escape_html(paragraph.paragraph_id)}">'
                f"{paragraph_html(paragraph, cited_chunk_id)}</div>"
            )
            continue
        if first.section_id != section:
            section = first.section_id
            rows.append(f'<h4 class="cwqa-section">{escape_html(first.section_title)}</h4>')
        pages = format_pages(first.first_page, paragraph.chunks[-1].last_page)
        # As in print, a page number is shown where it changes, not on every paragraph.
        page_note = pages if pages != last_pages else ""
        last_pages = pages
        classes = "cwqa-para cwqa-cited-para" if cited else "cwqa-para"
        if first.kind == "footnote":
            classes += " cwqa-footnote"
        anchor = f' id="{CITED_ANCHOR}"' if cited else ""
        mark = paragraph_mark(first, citation_name)
        rows.append(
            f'<div class="{classes}"{anchor} data-paragraph="{escape_html(paragraph.paragraph_id)}">'
            f'<div class="cwqa-margin"><span class="cwqa-label">{escape_html(mark)}</span>'
            f'<span class="cwqa-page">{escape_html(page_note)}</span></div>'
            f'<div class="cwqa-text">{paragraph_html(paragraph, cited_chunk_id, terms, mark_terms=cited and bool(terms))}</div>'
            "</div>"
        )
    extra = document.get("extra") or {}
    if extra.get("signature"):
        rows.append(f'<div class="cwqa-signature">{escape_html(extra["signature"])}</div>')
    if extra.get("source_note"):
        rows.append(
            '<div class="cwqa-sourcenote"><div class="cwqa-context-label">Source note</div>'
            f'{escape_html(extra["source_note"])}</div>'
        )
    rows.append("</div>")
    return "".join(rows)


# The app scrolls to the cited paragraph with this script. It contains no document text, so it is
# the only HTML the app lets run; it waits for the paragraph, which may render after the script.
SCROLL_SCRIPT = (
    "<script>(function(){var n=0;var t=setInterval(function(){"
    f"var e=document.getElementById('{CITED_ANCHOR}');"
    "if(e){e.scrollIntoView({block:'center'});clearInterval(t);}"
    "if(++n>60){clearInterval(t);}},100);})();</script>"
)

STYLE = """<style>
.cwqa-passage { white-space: pre-wrap; line-height: 1.6; font-size: 1rem; }
.cwqa-context { white-space: pre-wrap; line-height: 1.5; font-size: .92rem; opacity: .72;
  border-left: 3px solid rgba(128,128,128,.35); padding: .2rem 0 .2rem .75rem; margin: .35rem 0; }
.cwqa-context-label { font-size: .75rem; text-transform: uppercase; letter-spacing: .04em; opacity: .7; }
mark.cwqa-term { background: #fff1a8; color: inherit; padding: 0 .1em; border-radius: 2px; }
mark.cwqa-span { background: #ffd24d; color: #1f1f1f; padding: .05em .1em; border-radius: 2px; }
.cwqa-cardhead { font-weight: 600; font-size: 1.02rem; line-height: 1.35; }
.cwqa-cardmeta { font-size: .82rem; opacity: .7; }
.cwqa-weak { color: #b45309; font-weight: 600; }
.cwqa-doc { max-width: 62rem; }
.cwqa-section { margin: 1.6rem 0 .6rem 8.5rem; font-size: 1.1rem; }
.cwqa-para { display: grid; grid-template-columns: 7.5rem 1fr; column-gap: 1rem;
  padding: .35rem .5rem; margin: .1rem 0; border-radius: 4px; scroll-margin-top: 6rem; }
.cwqa-margin { text-align: right; font-size: .8rem; opacity: .65; font-variant-numeric: tabular-nums;
  display: flex; flex-direction: column; padding-top: .2rem; }
.cwqa-text { white-space: pre-wrap; line-height: 1.6; }
.cwqa-cited-para { background: rgba(255, 200, 40, .14); box-shadow: inset 3px 0 0 #f0a500; }
.cwqa-docheading { white-space: pre-wrap; text-align: center; font-weight: 600; line-height: 1.5;
  margin: .2rem 0 1rem 8.5rem; padding: .3rem; border-radius: 4px; }
.cwqa-signature { margin: 1rem 0 0 8.5rem; font-weight: 600; letter-spacing: .05em; }
.cwqa-sourcenote { margin: 1.2rem 0 0 8.5rem; font-size: .85rem; opacity: .75; white-space: pre-wrap; }
.cwqa-footnote .cwqa-text { font-size: .88rem; opacity: .85; }
.cwqa-meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; font-size: .92rem; }
.cwqa-meta dt { opacity: .65; }
.cwqa-meta dd { margin: 0; }
.cwqa-answer { line-height: 1.6; white-space: pre-wrap; }
.cwqa-unsupported { text-decoration: underline wavy #d9480f; text-underline-offset: 3px; }
.cwqa-answer sup { font-size: .72em; opacity: .8; }
</style>"""


def context_html(label: str, paragraph: ParagraphView | None) -> str:
    """A neighbouring paragraph shown for context (muted), or '' when there is none."""
    if paragraph is None:
        return ""
    return (
        f'<div class="cwqa-context-label">{escape_html(label)}</div>'
        f'<div class="cwqa-context">{escape_html(paragraph.text)}</div>'
    )


def metadata_html(document: dict, passages: int | None = None) -> str:
    """A document's metadata as an escaped definition list."""
    source = document.get("source") or {}
    pages = source.get("pages")
    rows = [
        ("Author", document.get("author")),
        ("Date", document.get("date")),
        ("Place", document.get("place")),
        ("Collection", document.get("collection")),
        ("Printed in", source.get("volume")),
        ("Document", source.get("document")),
        ("Pages", format_pages(pages[0], pages[1]) if isinstance(pages, list) and len(pages) == 2 else ""),
        ("Paragraphs", document.get("paragraphs")),
        ("Passages", passages),
        ("Cite as", document.get("citation_name")),
    ]
    cells = "".join(f"<dt>{escape_html(name)}</dt><dd>{escape_html(value)}</dd>" for name, value in rows if value not in (None, ""))
    return f'<dl class="cwqa-meta">{cells}</dl>'


def document_rows(documents: Sequence[dict], chunks: Sequence) -> list[dict]:
    """One row per document for the documents table: the short metadata and how many passages it
    has (author and place, often long, are on each document's card)."""
    counts: dict[str, int] = {}
    for chunk in chunks:
        counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
    rows = []
    for document in documents:
        source = document.get("source") or {}
        rows.append(
            {
                "title": document.get("title", ""),
                "date": document.get("date", ""),
                "source": source.get("volume_short") or source.get("volume", ""),
                "doc": source.get("document", ""),
                "paragraphs": document.get("paragraphs", 0),
                "passages": counts.get(document["id"], 0),
                "url": safe_url(source.get("url")),
                "id": document["id"],
            }
        )
    return rows


def source_span(document: dict, chunk, corpus_hashes: dict | None = None) -> tuple[str | None, str]:
    """The exact source text of a passage's paragraph (chars start–end of the file), and a note.

    Returns (None, why) when the file is gone or has changed since the index was built, since
    the saved offsets would then point at the wrong text.
    """
    path = Path(document.get("path", ""))
    if not path.is_file():
        return None, f"source file {path} not found"
    data = path.read_bytes()
    if corpus_hashes and path.name in corpus_hashes:
        import hashlib

        if hashlib.sha256(data).hexdigest() != corpus_hashes[path.name]:
            return None, f"{path.name} has changed since the index was built; rebuild the index"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, f"{path.name} is not UTF-8"
    return text[chunk.start : chunk.end], f"{path.name}, characters {chunk.start}–{chunk.end}"


# ---------------------------------------------------------------------------------------------
# Answers from cwqa.generation (written separately: read defensively)


def generator_choices() -> tuple[list[str], dict[str, str], str]:
    """(names, descriptions, problem): 'none' first, then the generators that can run here.

    `problem` is '' or says which generators are unavailable and why (all of them, when
    cwqa.generation itself cannot be imported: the app then offers retrieval only).
    """
    try:
        from .generation import list_generators

        listed = list_generators()
    except Exception as error:  # missing module or a plugin that fails to load: retrieval still works
        return ["none"], {"none": "passages only"}, one_line(error)
    descriptions: dict[str, str] = {}
    unavailable: dict[str, str] = {}
    items = listed.items() if isinstance(listed, dict) else listed
    for item in items:
        if isinstance(item, str):
            name, text, problem_text = item, "", ""
        elif isinstance(item, (tuple, list)) and item:
            name, text, problem_text = item[0], item[1] if len(item) > 1 else "", ""
        else:  # cwqa.generation.GeneratorInfo: name, description, available, problem
            name, text = getattr(item, "name", item), getattr(item, "description", "")
            problem_text = "" if getattr(item, "available", True) else (getattr(item, "problem", "") or "unavailable")
        if problem_text:
            unavailable[str(name)] = str(problem_text)
        else:
            descriptions[str(name)] = str(text or "")
    descriptions.pop("none", None)
    # Generators that cannot run here (a missing extra, no API key) are left out of the choice and
    # named in the help text, so picking one never fails.
    problem = "; ".join(f"{name} unavailable ({text})" for name, text in unavailable.items())
    return ["none", *descriptions], {"none": "passages only", **descriptions}, problem


@dataclass
class AnswerView:
    """A generated answer, reduced to what the page shows."""

    text: str
    abstained: bool = False
    reason: str = ""
    sentences: list[tuple[str, bool | None]] = field(default_factory=list)  # (text, supported)
    cited_ranks: list[int] = field(default_factory=list)
    raw: dict = field(default_factory=dict)
    notice: str = ""  # e.g. that a fallback generator's answer is shown


def _get(obj, *names, default=None):
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if not isinstance(obj, dict) and hasattr(obj, name):
            return getattr(obj, name)
    return default


def answer_view(answer) -> AnswerView:
    """Read an Answer (object or dict) without depending on its exact class.

    Looks for: text | answer; abstained; abstain_reason | reason; notice; sentences (items with
    text and supported, or (text, supported) pairs); the cited passage numbers as
    `citation_numbers`, or `cited`/`citations` ((n, hit) pairs, numbers, or items with a rank),
    else the [n] markers of the text. Numbers are 1-based positions in the hits given.
    """
    text = str(_get(answer, "text", "answer", default="") or "")
    abstained = bool(_get(answer, "abstained", "abstain", default=False))
    reason = str(_get(answer, "abstain_reason", "abstention_reason", "reason", default="") or "")
    sentences = []
    for item in _get(answer, "sentences", default=None) or []:
        if isinstance(item, str):
            sentences.append((item, None))
        elif isinstance(item, (tuple, list)) and item:
            sentences.append((str(item[0]), None if len(item) < 2 else bool(item[1])))
        else:
            supported = _get(item, "supported", default=None)
            sentences.append((str(_get(item, "text", "sentence", default="")), None if supported is None else bool(supported)))
    ranks = []
    for item in _get(answer, "citation_numbers", "cited", "citations", "cited_hits", default=None) or []:
        if isinstance(item, (tuple, list)) and item:  # Answer.cited: (n, hit) pairs
            item = item[0]
        rank = item if isinstance(item, int) else _get(item, "rank", "n", "number", default=None)
        if isinstance(rank, int) and rank not in ranks:
            ranks.append(rank)
    if not ranks:
        ranks = sorted({int(n) for n in re.findall(r"\[(\d{1,3})\]", text)})
    raw = {}
    if hasattr(answer, "to_dict"):
        try:
            raw = answer.to_dict()
        except Exception:  # the download then holds the fields read here
            raw = {}
    elif isinstance(answer, dict):
        raw = dict(answer)
    if not raw:
        raw = {"text": text, "abstained": abstained, "reason": reason, "cited": ranks}
    notice = str(_get(answer, "notice", default="") or "")
    return AnswerView(text, abstained, reason, sentences, ranks, raw, notice)


_MARKER = re.compile(r"\[(\d{1,3})\]")


def _markers_to_sup(escaped: str) -> str:
    # Runs on escaped text: '[', digits and ']' are unchanged by escaping, so this adds only our tags.
    return _MARKER.sub(r"<sup>[\1]</sup>", escaped)


def answer_html(view: AnswerView) -> str:
    """The answer as escaped HTML: [n] markers as superscripts, unsupported sentences underlined."""
    if view.sentences and any(supported is not None for _, supported in view.sentences):
        parts = []
        for sentence, supported in view.sentences:
            body = _markers_to_sup(escape_html(sentence))
            if supported is False:
                body = f'<span class="cwqa-unsupported" title="not supported by the cited passages">{body}</span>'
            parts.append(body)
        body = " ".join(parts)
    else:
        body = _markers_to_sup(escape_html(view.text))
    return f'<div class="cwqa-answer">{body}</div>'


# ---------------------------------------------------------------------------------------------
# Downloads


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


# ---------------------------------------------------------------------------------------------
# URL state: what the address bar carries so a result page can be shared and reloaded

K_CHOICES = (1, 20)  # the sidebar slider's range


def read_prefs(params: dict, settings, doc_ids: Sequence[str], generators: Sequence[str]) -> dict:
    """Search options from query parameters (k, mode, docs, gen, rerank), checked; defaults from settings."""
    from .config import MODES, rerank_policy

    def single(name):
        value = params.get(name)
        if isinstance(value, list):
            value = value[-1] if value else None
        return value

    prefs = {
        "k": settings.k,
        "mode": settings.mode,
        "docs": [],
        "gen": settings.generator if settings.generator in generators else "none",
        "rerank": settings.rerank,
    }
    try:
        k = int(single("k"))
        prefs["k"] = min(max(k, K_CHOICES[0]), K_CHOICES[1])
    except (TypeError, ValueError):
        pass
    prefs["k"] = min(max(prefs["k"], K_CHOICES[0]), K_CHOICES[1])
    if single("mode") in MODES:
        prefs["mode"] = single("mode")
    docs = params.get("docs") or []
    docs = [docs] if isinstance(docs, str) else list(docs)
    wanted = [d for part in docs for d in part.split(",") if d]
    prefs["docs"] = [d for d in wanted if d in doc_ids]
    if single("gen") in generators:
        prefs["gen"] = single("gen")
    try:
        prefs["rerank"] = rerank_policy(single("rerank")) if single("rerank") is not None else prefs["rerank"]
    except ValueError:
        pass
    return prefs


def url_params(question: str, prefs: dict) -> dict:
    """Query parameters for a result page: q, k, mode, docs (comma-separated), gen and rerank
    (a policy, left out when it is "auto", the default)."""
    params = {"q": question, "k": str(prefs["k"]), "mode": prefs["mode"]}
    if prefs.get("docs"):
        params["docs"] = ",".join(prefs["docs"])
    if prefs.get("gen") and prefs["gen"] != "none":
        params["gen"] = prefs["gen"]
    if prefs.get("rerank", "auto") != "auto":
        params["rerank"] = prefs["rerank"]
    return params


# ---------------------------------------------------------------------------------------------
# Evaluation reports (cwqa.evaluation, written separately)


def report_tables(report: dict) -> list[dict]:
    """One row per mode and baseline of an evaluation report, metrics as columns (misses counted)."""
    rows = []
    for kind, section in (("mode", report.get("modes") or {}), ("baseline", report.get("baselines") or {})):
        for name, metrics in section.items():
            row = {"system": name, "kind": kind}
            for key, value in (metrics or {}).items():
                if isinstance(value, (list, tuple)):
                    row[key] = len(value)
                elif isinstance(value, (int, float)):
                    row[key] = round(float(value), 3)
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------
# The index shared by every session of a server process


def one_line(error: BaseException) -> str:
    """An error as one line for the user: the message of a CwqaError, else 'Type: message'."""
    from .errors import CwqaError

    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if isinstance(error, CwqaError):
        return text or type(error).__name__
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def settings_key(settings) -> str:
    """A string naming everything that decides which index a Settings opens and how it searches."""
    values = dataclasses.asdict(settings)
    values["corpus_dir"] = str(Path(settings.corpus_dir).resolve())
    values["index_dir"] = str(Path(settings.index_dir).resolve())
    return json.dumps(values, sort_keys=True, default=str)


class SharedIndex:
    """The retriever of one corpus/index, loaded once per process and shared by every session.

    The app keeps one of these per settings in `st.cache_resource`. Opening, building and
    rebuilding run in a background thread owned by this object, not in a session's script: a
    visitor who closes the tab or clicks a widget mid-build (which stops that session's script)
    does not abort a build that every session is waiting for. Sessions poll `busy` and `progress`.
    A rebuild swaps in the new retriever only when it is complete, so searches meanwhile use the
    old one. Status checks hash the corpus and index files, so they are remembered for
    `status_ttl` seconds rather than redone on every rerun.
    """

    def __init__(self, settings, status_ttl: float = 30.0):
        self.settings = settings
        self.retriever = None
        self.error = ""  # why the last open or rebuild failed, in one line
        self.failure: BaseException | None = None
        self.progress: tuple[int, int] = (0, 0)  # passages embedded so far, of how many
        self.rebuilding = False
        self.log: list[str] = []
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._status = None
        self._status_at = 0.0
        self.status_ttl = status_ttl

    def _note(self, message: str) -> None:
        self.log.append(f"{time.strftime('%H:%M:%S')} {message}")
        del self.log[:-50]

    def _progress(self, done: int, total: int) -> None:
        self.progress = (done, total)

    @property
    def ready(self) -> bool:
        """A retriever is loaded (possibly while a rebuild prepares the next one)."""
        return self.retriever is not None

    @property
    def busy(self) -> bool:
        """An open or a rebuild is under way."""
        return self._worker is not None and self._worker.is_alive()

    def start(self, rebuild: bool = False) -> bool:
        """Open the index (or rebuild it) in the background unless that is done or under way.

        Returns True when this call started the work.
        """
        with self._lock:
            if self.busy or (self.retriever is not None and not rebuild):
                return False
            self.error, self.failure, self.progress, self.rebuilding = "", None, (0, 0), rebuild
            self._worker = threading.Thread(target=self._work, args=(rebuild,), name="cwqa-index", daemon=True)
            self._worker.start()
            return True

    def _work(self, rebuild: bool) -> None:
        try:
            if rebuild:
                from .embedding import get_embedder
                from .index import build_index, load_index
                from .retrieval import Retriever

                build_index(self.settings, progress=self._progress, log=self._note)
                retriever = Retriever(load_index(self.settings), get_embedder(self.settings.model), self.settings)
            else:
                from .index import open_retriever

                retriever = open_retriever(self.settings, progress=self._progress, log=self._note)
        except Exception as error:  # kept for the sessions to show; the next start() tries again
            self.failure, self.error = error, one_line(error)
            self._note(f"failed: {self.error}")
            return
        self.retriever = retriever
        self._status = None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the work under way (if any); True when none is left."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        return not self.busy

    def get(self, timeout: float | None = None):
        """The retriever, opening (and if needed building) the index first; raises what failed."""
        self.start()
        self.wait(timeout)
        if self.retriever is None and self.failure is not None:
            raise self.failure
        return self.retriever

    def status(self, force: bool = False):
        """`index_status` of the saved index (remembered for a short while)."""
        from .index import index_status

        now = time.monotonic()
        if force or self._status is None or now - self._status_at > self.status_ttl:
            try:
                self._status = index_status(self.settings)
            except Exception as error:  # an unreadable corpus folder is reported, not raised
                from .index import IndexStatus

                self._status = IndexStatus("corrupt", [one_line(error)])
            self._status_at = now
        return self._status


def describe_build(manifest: dict | None) -> dict:
    """Facts about a loaded build for the sidebar: model, passages, documents, built when."""
    manifest = manifest or {}
    built = manifest.get("built_at", "")
    return {
        "model": manifest.get("model", "?"),
        "chunks": manifest.get("chunks", 0),
        "documents": manifest.get("documents", 0),
        "built_at": built.replace("T", " ")[:16] if built else "?",
        "dense_index": manifest.get("dense_index", ""),
    }


if __name__ == "__main__":  # python -m cwqa.presentation: re-run the "no good match" calibration
    from .config import load_settings
    from .index import open_retriever

    def _questions(path: str) -> list[str]:
        return [json.loads(line)["question"] for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]

    _retriever = open_retriever(load_settings())
    _groups = {
        "answerable": _questions("eval/questions.jsonl"),
        "unanswerable": _questions("eval/unanswerable.jsonl"),
        "off-topic": list(OFF_TOPIC_PROBES),
    }
    print(f"DENSE_GOOD={DENSE_GOOD} BM25_GOOD={BM25_GOOD}")
    for _row in calibrate(_retriever, _groups):
        print(json.dumps(_row))
