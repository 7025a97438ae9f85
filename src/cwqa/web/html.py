"""HTML built for the app: escaping first, then our own tags around the escaped text.

Corpus text, metadata, questions and generated answers are untrusted: everything here is
`html.escape`d before any tag is added, and the app hands the result to `st.html`.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from ..documents import IndexedDocument, format_pages
from ..text import stem, stopwords
from .escape import escape_html
from .views import AnswerView, ParagraphView, group_paragraphs, paragraph_mark


_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)


def query_terms(question: str) -> frozenset[str]:
    """Stems of the question's content words (the shared analyzer of cwqa.text), for highlighting."""
    stop = stopwords()
    terms = set()
    for match in _WORD.finditer(question or ""):
        word = match.group(0).lower().replace("’", "'")
        if len(word) < 3 or word in stop:
            continue
        terms.add(stem(word))
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
        if len(word) >= 3 and stem(word) in terms:
            out.append(escape_html(text[position : match.start()]))
            out.append(f'<mark class="{css_class}">{escape_html(word)}</mark>')
            position = match.end()
    out.append(escape_html(text[position:]))
    return "".join(out)


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


def document_html(document: IndexedDocument, chunks: Sequence, cited_chunk_id: str | None = None, terms: Iterable[str] = ()) -> str:
    """A whole document laid out as printed: section headings, then one row per paragraph with its
    label and page in the margin. The cited paragraph carries id="cwqa-cited" (the app scrolls to
    it) and its cited window is marked. All text is escaped."""
    citation_name = document.citation_name
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
    extra = document.extra or {}
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
.cwqa-entries { padding-left: 1rem; margin: .2rem 0 .8rem 0; font-size: .86rem; line-height: 1.4; }
.cwqa-entries li { margin: .15rem 0; }
</style>"""


def context_html(label: str, paragraph: ParagraphView | None) -> str:
    """A neighbouring paragraph shown for context (muted), or '' when there is none."""
    if paragraph is None:
        return ""
    return (
        f'<div class="cwqa-context-label">{escape_html(label)}</div>'
        f'<div class="cwqa-context">{escape_html(paragraph.text)}</div>'
    )


def _printed_in(source: dict) -> str:
    """The volume's printed title when the source gives it, else its short name ('FRUS 1961–63, vol. V')."""
    volume = str(source.get("volume") or "")
    return volume if " " in volume else str(source.get("volume_short") or volume)


def metadata_html(document: IndexedDocument, passages: int | None = None) -> str:
    """A document's metadata as an escaped definition list."""
    source = document.source or {}
    extra = document.extra or {}
    pages = source.get("pages")
    rows = [
        ("Author", document.author),
        ("Date", document.date),
        ("Place", document.place),
        ("From", extra.get("sender")),
        ("To", extra.get("recipient")),
        ("Classification", extra.get("classification")),
        ("Collection", document.collection),
        ("Printed in", _printed_in(source)),
        ("Chapter", extra.get("chapter")),
        ("Document", source.get("document")),
        ("Pages", format_pages(pages[0], pages[1]) if isinstance(pages, list) and len(pages) == 2 else ""),
        ("Archive", extra.get("archive")),
        ("Paragraphs", document.paragraphs),
        ("Passages", passages),
        ("Cite as", document.citation_name),
    ]
    cells = "".join(f"<dt>{escape_html(name)}</dt><dd>{escape_html(value)}</dd>" for name, value in rows if value not in (None, ""))
    return f'<dl class="cwqa-meta">{cells}</dl>'


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
