"""The app's pieces, without Streamlit: escaping, highlighting, layout, exports, URL state and the
pipeline shared by a server's sessions. `app.py` holds only widgets and uses this package as `pr`.

Safety rule: corpus text, metadata, questions and generated answers are untrusted. Everything
built here as HTML is `html.escape`d first, and only then are our own tags (<mark>, <div>, ...)
added around the escaped text; the app passes it to `st.html` (no Markdown interpretation, and
Streamlit sanitises it again). Text written as Markdown (the download) has every Markdown and HTML
metacharacter escaped, so `![x](http://...)` or `<img onerror=...>` in a document stays text.
"""

from ..verdict import is_strong
from .chronology import PICK as TIMELINE_PICK
from .chronology import chronology, chronology_rows, picked_document, timeline_chart
from .escape import escape_html, escape_markdown, safe_url
from .exports import export_name, results_json, results_markdown
from .html import (
    SCROLL_SCRIPT, STYLE, answer_html, context_html, document_html, highlight_html, metadata_html, paragraph_html,
    query_terms,
)
from .links import link_label, reference_catalogue, reference_links, unresolved_html
from .mentions import document_entries, entries_html, entry_table
from .shared import SharedIndex, settings_key
from .urlstate import FILTERS, K_CHOICES, document_href, document_params, read_prefs, url_params
from .views import (
    answer_view, chunk_where, coverage_rows, describe_build, document_rows, generator_choices, one_line,
    paragraph_context, report_tables, row_matches, section_subtitle, source_span,
)

__all__ = [
    "FILTERS", "K_CHOICES", "SCROLL_SCRIPT", "STYLE", "SharedIndex", "TIMELINE_PICK", "answer_html", "answer_view", "chronology", "chronology_rows", "chunk_where", "context_html",
    "coverage_rows", "describe_build", "document_entries", "document_href", "document_html", "document_params", "document_rows", "escape_html", "escape_markdown",
    "entries_html", "entry_table", "export_name", "generator_choices", "highlight_html", "is_strong", "link_label", "metadata_html", "one_line",
    "paragraph_context", "paragraph_html", "picked_document", "query_terms", "read_prefs", "reference_catalogue", "reference_links", "report_tables", "results_json",
    "results_markdown", "row_matches", "safe_url", "section_subtitle", "settings_key", "source_span", "timeline_chart", "unresolved_html", "url_params",
]
