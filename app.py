"""cwqa web app: ask questions of Cold War diplomatic documents and check each passage at its source.

Run with `streamlit run app.py`. This file holds only widgets and layout; the work lives in the
cwqa library (search and answers through cwqa.pipeline, everything shown in cwqa.web).
The model and the index load once per server process (st.cache_resource) and are shared by all
sessions. The corpus and index folders come from the settings (cwqa.toml, CWQA_CORPUS, CWQA_INDEX).

Untrusted text (documents, metadata, questions, answers) is only ever shown through st.text /
st.code, or through st.html on strings that cwqa.web has escaped.
"""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path

import streamlit as st

from cwqa import evaluation, load_settings
from cwqa import web as pr
from cwqa.config import MODES, RERANK_POLICIES
from cwqa.errors import CwqaError

ROOT = Path(__file__).resolve().parent
# Evaluation inputs and outputs live beside the app; CWQA_REPORTS moves the reports (tests use it).
REPORTS_DIR = Path(os.environ.get("CWQA_REPORTS") or ROOT / "eval" / "reports")
QUESTIONS = ROOT / "eval" / "questions.jsonl"
UNANSWERABLE = ROOT / "eval" / "unanswerable.jsonl"
EXAMPLES = (
    "Which places did Kennan expect the USSR to press for first?",
    "What exchanges with the Soviet bloc did NSC 5607 recommend?",
    "Why did Kennan think Soviet power was vulnerable?",
)
MODE_LABELS = {"hybrid": "Hybrid", "dense": "Dense", "bm25": "BM25"}
RERANK_LABELS = {"off": "Never", "auto": "When unsure", "on": "Always"}
CARD_LIMIT = 20  # the Documents page shows a card per document up to this many
FILTER_FIELDS = (
    ("place", "Place", "Moscow"),
    ("sender", "From", "Embassy in the Soviet Union, Thompson…"),
    ("recipient", "To", "Department of State…"),
    ("classification", "Classification", "Secret…"),
    ("from", "Dated from", "YYYY, YYYY-MM or YYYY-MM-DD"),
    ("to", "Dated to", "YYYY, YYYY-MM or YYYY-MM-DD"),
)

st.set_page_config(page_title="cwqa · Cold War diplomacy", page_icon="📜", layout="wide")


# ---------------------------------------------------------------------------------------------
# Shared, process-wide resources


@st.cache_resource(show_spinner=False)
def shared_index(key: str, _settings) -> pr.SharedIndex:
    """The index holder for one set of settings; `key` names them (the Settings object is not hashed)."""
    return pr.SharedIndex(_settings)


@st.cache_resource(show_spinner="Loading the answer generator…")
def shared_generator(name: str, key: str, _pipeline):
    """An answer generator, loaded once per process (a local model can take seconds to load)."""
    return _pipeline.generator(name)


@st.cache_data(ttl=600, show_spinner=False)
def generator_options() -> tuple[list[str], dict[str, str], str]:
    """'none' and the installed generators (scanning plugins is not free, so remembered)."""
    return pr.generator_choices()


# ---------------------------------------------------------------------------------------------
# Small display helpers (all untrusted text goes through these or st.code/st.text)


def inert(text, css_class: str = "", tag: str = "div", where=st) -> None:
    """Show text exactly as written, never as HTML or Markdown."""
    where.html(f'<{tag} class="{css_class}">{pr.escape_html(text)}</{tag}>')


def notice(kind: str, message: str, where=st) -> None:
    """st.error / st.warning / st.info / st.success with the message's own characters escaped."""
    getattr(where, kind)(pr.escape_markdown(message))


def progress_text(index: pr.SharedIndex) -> tuple[float, str]:
    done, total = index.progress
    if not total:
        return 0.0, "Reading the corpus and loading the model…"
    return min(done / total, 1.0), f"Embedding passages and sentences: {done} of {total}"


def follow_work(index: pr.SharedIndex, bar, lines=None) -> None:
    """Show the background open/rebuild's progress until it ends (this session may stop earlier:
    the work goes on without it)."""
    while index.busy:
        share, text = progress_text(index)
        bar.progress(share, text=text)
        if lines is not None and index.log:
            lines.code("\n".join(index.log[-6:]), language=None, wrap_lines=True)
        time.sleep(0.3)


def open_index(index: pr.SharedIndex):
    """The shared pipeline; the first session of a process opens (or builds) the index, with progress."""
    if index.ready:
        return index.pipeline
    index.start()
    if index.busy:
        slot = st.empty()  # the progress box goes away once the index is open
        with slot.status("Opening the index (a first start builds it)…", expanded=True):
            follow_work(index, st.progress(0.0), st.empty())
        slot.empty()
    if not index.ready:
        notice("error", f"The index could not be opened: {index.error or 'unknown error'}")
        return None
    if index.rebuild_reasons:  # the saved index was missing, stale or corrupt: say so to whoever waited
        notice("info", f"The saved index was rebuilt: {'; '.join(index.rebuild_reasons)}.")
    return index.pipeline


def index_panel(index: pr.SharedIndex, pipeline) -> None:
    """Sidebar: which index is in use, whether it is fresh, and a rebuild button with progress."""
    side = st.sidebar
    side.subheader("Index")
    if pipeline is not None:
        facts = pr.describe_build(pipeline.manifest)
        inert(f"Model: {facts['model']}", "cwqa-cardmeta", where=side)
        inert(f"{facts['chunks']} passages from {facts['documents']} documents", "cwqa-cardmeta", where=side)
        inert(f"Built {facts['built_at']}", "cwqa-cardmeta", where=side)
    if index.busy and index.rebuilding:
        share, text = progress_text(index)
        side.progress(share, text=f"Rebuild under way. {text}")
    else:
        status = index.status()
        if status.fresh:
            side.success("Fresh: matches the corpus and settings", icon=":material/check_circle:")
        else:
            reasons = "; ".join(status.reasons[:3])
            kind = "error" if status.state == "corrupt" else "warning"
            label = {"stale": "Stale", "corrupt": "Corrupt", "missing": "Missing"}.get(status.state, status.state)
            serving = " Answers come from the build loaded earlier." if pipeline is not None else ""
            notice(kind, f"{label}: {reasons}.{serving} Rebuild to update.", where=side)
    if index.error and pipeline is not None:
        notice("error", f"The last rebuild failed: {index.error}. The previous build is still in use.", where=side)
    flash = st.session_state.pop("index_flash", None)
    if flash:
        notice(*flash, where=side)
    if side.button("Check again", icon=":material/fact_check:", key="recheck", type="tertiary", help="Compare the index with the corpus now"):
        index.status(force=True)
        st.rerun()
    if side.button("Rebuild index", icon=":material/refresh:", key="rebuild", width="stretch", disabled=index.busy):
        index.start(rebuild=True)
        follow_work(index, side.progress(0.0, text="Rebuilding…"))
        if not index.error:
            st.session_state["index_flash"] = ("success", "Index rebuilt.")
        st.session_state.pop("results", None)
        st.session_state.pop("answer", None)
        st.rerun()
    if index.log:
        with side.expander("Index log"):
            st.code("\n".join(index.log[-20:]), language=None, wrap_lines=True)


# ---------------------------------------------------------------------------------------------
# Ask page


def remember(name: str, key: str) -> None:
    """Keep a search option beyond its widget (widgets forget their state on other pages)."""
    st.session_state.prefs[name] = st.session_state[key]


def option_radio(label: str, name: str, options: tuple[str, ...], labels: dict[str, str], help: str) -> None:
    """A horizontal radio for one search option, starting from and remembered in the prefs."""
    st.radio(
        label,
        options,
        index=options.index(st.session_state.prefs[name]),
        format_func=labels.get,
        horizontal=True,
        key=f"opt_{name}",
        on_change=remember,
        args=(name, f"opt_{name}"),
        help=help,
    )


def ask_example(question: str) -> None:
    st.session_state["pending_question"] = question


def search_controls(doc_ids: list[str], titles: dict[str, str], generators: list[str], descriptions: dict[str, str], problem: str) -> dict:
    """The sidebar's search options; returns the current choices."""
    prefs = st.session_state.prefs
    with CONTROLS:
        st.subheader("Search")
        st.slider("Passages", *pr.K_CHOICES, value=prefs["k"], key="opt_k", on_change=remember, args=("k", "opt_k"))
        option_radio(
            "Retrieval mode", "mode", MODES, MODE_LABELS,
            "Hybrid fuses the dense (meaning) and BM25 (words) rankings.",
        )
        option_radio(
            "Rerank with a language model", "rerank", RERANK_POLICIES, RERANK_LABELS,
            "Reorders the first passages by how well each one predicts the question (SmolLM2-135M): "
            "sometimes the right passage first, but several seconds a question. *When unsure* does it only "
            "when dense and keyword search disagree on the best passage and neither is clearly ahead.",
        )
        st.multiselect(
            "Documents",
            doc_ids,
            default=prefs["docs"],
            format_func=lambda doc_id: titles.get(doc_id, doc_id),
            placeholder="All documents",
            key="opt_docs",
            on_change=remember,
            args=("docs", "opt_docs"),
        )
        with st.expander("Filters: place, sender, recipient, classification, dates"):
            for name, label, hint in FILTER_FIELDS:
                st.text_input(label, value=prefs.get(name, ""), placeholder=hint, key=f"opt_{name}", on_change=remember, args=(name, f"opt_{name}"))
        st.selectbox(
            "Answer generator",
            generators,
            index=generators.index(prefs["gen"]) if prefs["gen"] in generators else 0,
            format_func=lambda name: "none (passages only)" if name == "none" else name,
            key="opt_gen",
            on_change=remember,
            args=("gen", "opt_gen"),
            help="; ".join(f"{name}: {text}" for name, text in descriptions.items() if text) or None,
        )
        if problem:
            st.caption(f"Answer generators unavailable: {pr.escape_markdown(problem)}")
        st.divider()
    return prefs


def passage_card(hit, terms, citation_name: str) -> None:
    """One ranked passage: citation, scores, highlighted text, context, copy and open actions."""
    chunk = hit.chunk
    context_key = f"context:{chunk.id}"
    where = " · ".join(part for part in (pr.chunk_where(chunk, citation_name), pr.section_subtitle(chunk)) if part)
    with st.container(border=True):
        head, scores = st.columns([4, 1])
        head.html(
            f'<div class="cwqa-cardhead">[{hit.rank}] {pr.escape_html(chunk.doc_title)}</div>'
            f'<div class="cwqa-cardmeta">{pr.escape_html(where)}</div>'
        )
        weak = "" if pr.is_strong(hit) else '<div class="cwqa-weak">weak match</div>'
        similarity = "–" if hit.dense_score is None else f"{hit.dense_score:.2f}"
        bm25 = "–" if hit.bm25_score is None else f"{hit.bm25_score:.2f}"
        scores.html(
            f'<div class="cwqa-cardmeta" style="text-align:right">score {hit.score:.4f}<br>'
            f"similarity {similarity} · BM25 {bm25}</div>{weak}"
        )
        if st.session_state.get(context_key):
            before, paragraph, after = pr.paragraph_context(PIPELINE.document_chunks(chunk.doc_id), chunk.id)
            st.html(pr.context_html("Previous paragraph", before) or '<div class="cwqa-context-label">Start of the document</div>')
            if paragraph is not None and len(paragraph.chunks) > 1:
                # A window of a longer paragraph: show the whole paragraph, the window marked.
                st.html(f'<div class="cwqa-passage">{pr.paragraph_html(paragraph, chunk.id, terms, mark_terms=True)}</div>')
            else:
                st.html(f'<div class="cwqa-passage">{pr.highlight_html(chunk.text, terms)}</div>')
            st.html(pr.context_html("Next paragraph", after) or '<div class="cwqa-context-label">End of the document</div>')
        else:
            st.html(f'<div class="cwqa-passage">{pr.highlight_html(chunk.text, terms)}</div>')
        st.code(hit.citation, language=None, wrap_lines=True)
        actions = st.container(horizontal=True, vertical_alignment="center", gap="medium")
        actions.toggle("Context", key=context_key, help="Show the paragraphs before and after")
        actions.page_link(
            DOCUMENTS_PAGE, label="Open in document", icon=":material/menu_book:", query_params={"doc": chunk.doc_id, "p": chunk.id}
        )
        url = pr.safe_url(chunk.url)
        if url:
            actions.link_button("Printed source", url, icon=":material/open_in_new:")


def run_search(question: str, prefs: dict) -> dict:
    """Search, remembered per session so that clicking a widget does not redo the work."""
    filters = {name: prefs.get(name, "") for name in pr.FILTERS}
    key = (str(PIPELINE.build_path), question, prefs["k"], prefs["mode"], tuple(prefs["docs"]), prefs["rerank"],
           tuple(sorted(filters.items())))
    cached = st.session_state.get("results")
    if cached and cached["key"] == key:
        return cached
    result = {"key": key, "hits": [], "verdict": None, "reranked": False, "error": ""}
    try:
        with st.spinner("Searching…" if prefs["rerank"] == "off" else "Searching (reranking may take a few seconds)…"):
            found = PIPELINE.search(
                question, k=prefs["k"], mode=prefs["mode"], doc_ids=prefs["docs"] or None, rerank=prefs["rerank"],
                date_from=filters["from"] or None, date_to=filters["to"] or None,
                facets={name: value for name, value in filters.items() if name not in ("from", "to") and value},
            )
    except CwqaError as error:
        result["error"] = pr.one_line(error)
        return result
    result.update(hits=found.hits, verdict=found.verdict, reranked=found.reranked)
    st.session_state["results"] = result
    return result


def run_generator(question: str, name: str, result: dict) -> dict:
    """The generated answer for these results, streamed as it is written, then remembered."""
    key = (result["key"], name)
    cached = st.session_state.get("answer")
    if cached and cached["key"] == key:
        return cached
    answer = {"key": key, "view": None, "error": ""}
    slot = st.empty()
    try:
        generator = shared_generator(name, pr.settings_key(SETTINGS), PIPELINE)
        with st.spinner(f"Writing an answer with {pr.escape_markdown(name)}…"):
            stream = PIPELINE.stream(question, result["hits"], generator)
            written = ""
            for piece in stream:
                written += piece
                slot.html(f'<div class="cwqa-answer">{pr.escape_html(written)} ▍</div>')
        answer["view"] = pr.answer_view(stream.answer)
    except Exception as error:  # a failing generator must not take the passages down with it
        answer["error"] = pr.one_line(error)
    slot.empty()
    st.session_state["answer"] = answer
    return answer


def show_answer(answer: dict, name: str, hits: list) -> None:
    """The answer with its [n] markers, unsupported sentences marked, and the passages it cites."""
    if answer["error"]:
        notice("error", f"The answer generator “{name}” failed: {answer['error']}. The passages below are unaffected.")
        # The failure is remembered so that other clicks do not wait on it again; retrying is explicit.
        st.button("Try the answer again", icon=":material/replay:", key="retry_answer", on_click=st.session_state.pop, args=("answer", None))
        return
    view = answer["view"]
    with st.container(border=True):
        st.markdown(f"**Answer** · {pr.escape_markdown(name)}")
        if view.notice:
            notice("info", view.notice)
        if view.abstained:
            notice("info", f"No answer: {view.reason or 'the passages do not answer the question'}.")
            return
        premise = view.raw.get("premise")
        if premise:  # the record contradicts or does not support what the question assumes
            reason = view.raw.get("premise_reason") or ""
            notice("warning", f"The question's premise is {premise} by the passages" + (f": {reason}." if reason else "."))
        st.html(pr.answer_html(view))
        if any(supported is False for _, supported in view.sentences):
            st.caption("Sentences underlined in orange are not supported by the passages they cite.")
        cited = [(n, hits[n - 1]) for n in view.cited_ranks if 1 <= n <= len(hits)]
        if cited:
            st.html(
                '<div class="cwqa-cardmeta">'
                + "<br>".join(f"[{n}] {pr.escape_html(hit.citation)}" for n, hit in cited)
                + "</div>"
            )


def ask_page() -> None:
    st.title("Ask the documents")
    if PIPELINE is None:
        st.info("Search is unavailable until the index opens (see the message above).")
        return
    documents = PIPELINE.documents
    doc_ids = [document.id for document in documents]
    titles = {document.id: document.title for document in documents}
    generators, descriptions, problem = generator_options()
    if "prefs" not in st.session_state:
        st.session_state.prefs = pr.read_prefs(st.query_params.to_dict(), SETTINGS, doc_ids, generators)
    prefs = search_controls(doc_ids, titles, generators, descriptions, problem)

    prompt = st.chat_input("Ask a question about the documents…")
    pending = st.session_state.pop("pending_question", None)
    if prompt is not None or pending is not None:
        question = (prompt if prompt is not None else pending).strip()
        if not question:
            st.query_params.pop("q", None)
            st.warning("The question is empty. Type a question, or pick one of the examples below.")
    else:
        question = str(st.query_params.get("q", "")).strip()

    if not question:
        st.caption(f"{len(documents)} documents · {len(PIPELINE.chunks)} passages. Every passage comes with a citation you can check in print.")
        st.markdown("**Try one of these:**")
        for n, example in enumerate(EXAMPLES):
            st.button(example, key=f"example:{n}", on_click=ask_example, args=(example,), icon=":material/chat:")
        return

    wanted = pr.url_params(question, prefs)
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)  # the address bar now reloads and shares this result page
    st.session_state["last_params"] = wanted

    with st.chat_message("user"):
        inert(question, "cwqa-passage")
    with st.chat_message("assistant"):
        result = run_search(question, prefs)
        if result["error"]:
            notice("error", result["error"])
            return
        hits, verdict = result["hits"], result["verdict"]
        if not hits:
            st.warning("No passage was found" + (" in the selected documents." if prefs["docs"] else "."))
            return
        answer = None
        if not verdict.good:
            # Weak hits are not presented as answers: say so, and fold them away.
            notice(
                "warning",
                "No passage in the corpus is a good match for this question "
                f"({verdict.reason}). The documents may not address it; try rephrasing, another mode, or another document.",
            )
        elif prefs["gen"] != "none":
            answer = run_generator(question, prefs["gen"], result)
            show_answer(answer, prefs["gen"], hits)
        download_buttons(question, hits, prefs, verdict, answer["view"] if answer else None)
        citation_names = {document.id: document.citation_name for document in documents}
        terms = pr.query_terms(question)
        if not verdict.good:
            with st.expander(f"Show the {len(hits)} closest passages anyway"):
                for hit in hits:
                    passage_card(hit, terms, citation_names.get(hit.doc_id, ""))
            return
        reranked = " — reordered by the language model" if result["reranked"] else ""
        st.markdown(f"**{len(hits)} passages**, best first{reranked}")
        for hit in hits:
            passage_card(hit, terms, citation_names.get(hit.doc_id, ""))
        with st.expander("Chronology: these passages' documents in date order"):
            chronology_view(list(dict.fromkeys(hit.doc_id for hit in hits)), {}, key="chronology_hits")


def download_buttons(question: str, hits: list, prefs: dict, verdict, answer) -> None:
    """Markdown and JSON downloads of what the page shows."""
    mode = hits[0].mode if hits else prefs["mode"]
    exports = dict(mode=mode, k=prefs["k"], doc_ids=prefs["docs"], verdict=verdict, answer=answer, generator=prefs["gen"])
    row = st.container(horizontal=True, vertical_alignment="center")
    row.download_button(
        "Markdown",
        pr.results_markdown(question, hits, **exports),
        file_name=pr.export_name(question, "md"),
        mime="text/markdown",
        icon=":material/download:",
        on_click="ignore",
        key="download_md",
    )
    row.download_button(
        "JSON",
        pr.results_json(question, hits, **exports),
        file_name=pr.export_name(question, "json"),
        mime="application/json",
        icon=":material/download:",
        on_click="ignore",
        key="download_json",
    )
    # The documents cited, for a bibliography: Chicago notes, BibTeX and RIS (Zotero, EndNote).
    for label, style, suffix, mime in (
        ("Chicago", "chicago", "txt", "text/plain"),
        ("BibTeX", "bibtex", "bib", "application/x-bibtex"),
        ("RIS", "ris", "ris", "application/x-research-info-systems"),
    ):
        row.download_button(
            label, PIPELINE.export(hits, style), file_name=pr.export_name(question, suffix), mime=mime,
            icon=":material/format_quote:", on_click="ignore", key=f"download_{style}",
        )


# ---------------------------------------------------------------------------------------------
# Documents page: the list, or one document laid out with the cited paragraph in view


def document_view(doc_id: str, chunk_id: str | None) -> None:
    back, results, _ = st.columns([1, 1, 3])
    back.page_link(DOCUMENTS_PAGE, label="All documents", icon=":material/arrow_back:")
    if st.session_state.get("last_params"):
        results.page_link(ASK_PAGE, label="Back to results", icon=":material/forum:", query_params=st.session_state["last_params"])
    try:
        document = PIPELINE.document(doc_id)
    except CwqaError as error:
        notice("error", pr.one_line(error))
        return
    chunks = PIPELINE.document_chunks(doc_id)
    cited = next((chunk for chunk in chunks if chunk.id == chunk_id), None)
    st.html(f'<h2 style="margin:.2rem 0">{pr.escape_html(document.title)}</h2>')
    meta, actions = st.columns([3, 1])
    meta.html(pr.metadata_html(document, passages=len(chunks)))
    url = pr.safe_url(document.url)
    if url:
        actions.link_button("Printed source", url, icon=":material/open_in_new:")
    if chunk_id and cited is None:
        notice("warning", f"Passage {chunk_id} is not in this document (the index may have been rebuilt); showing the whole document.")
    if cited is not None:
        with st.container(border=True):
            inert(f"Cited passage: {pr.chunk_where(cited, document.citation_name)}", "cwqa-cardhead")
            st.code(cited.citation, language=None, wrap_lines=True)
            with st.expander("Exact source text (from the corpus file)"):
                span, note = pr.source_span(document, cited, PIPELINE.manifest.get("corpus"))
                st.caption(pr.escape_markdown(note))
                if span is not None:
                    st.code(span, language=None, wrap_lines=True)
    terms = pr.query_terms(str((st.session_state.get("last_params") or {}).get("q", "")))
    entries = pr.document_entries(document, entry_table())
    links = pr.reference_links(document, reference_catalogue(), chunks, {d.id: d for d in PIPELINE.documents})
    if any(entries.values()) or links:
        # As history.state.gov does: the persons and abbreviations it mentions beside the text,
        # and its cross-references as links.
        text, side = st.columns([3, 1], gap="medium")
        references_panel(links, side)
        mentions_panel(entries, side)
    else:
        text = st.container()
    text.html(pr.document_html(document, chunks, cited.id if cited else None, terms))
    if cited is not None:
        # Our own fixed script (no document text in it): scroll the cited paragraph into view.
        st.html(pr.SCROLL_SCRIPT, unsafe_allow_javascript=True)


def mentions_panel(entries: dict, where) -> None:
    """The document's persons and terms, each with its List of Persons / Abbreviations entry."""
    for kind, heading in (("persons", "Persons"), ("terms", "Abbreviations and terms")):
        if entries[kind]:
            where.markdown(f"**{heading}** ({len(entries[kind])})")
            where.html(pr.entries_html(entries[kind], kind))


def open_document(params: dict) -> None:
    """Show another document in the document view: its address becomes the page's."""
    st.query_params.from_dict(params)


def references_panel(links: list, where) -> None:
    """The document's cross-references: a link to each indexed one, the others said to be not indexed."""
    if not links:
        return
    where.markdown(f"**Cross-references** ({len(links)})")
    for n, link in enumerate(links):
        if link.doc_id:
            # A button, not st.page_link: a page link to the page already open does not navigate.
            # It writes the same URL state (?doc=…) as every other way of opening a document.
            where.button(
                pr.escape_markdown(pr.link_label(link)), key=f"xref:{n}:{link.doc_id}", icon=":material/link:",
                type="tertiary", help=pr.escape_markdown(link.text) or None, on_click=open_document, args=(link.params,),
            )
    unresolved = pr.unresolved_html(links)
    if unresolved:  # st.html refuses an empty body
        where.html(unresolved)


@st.cache_resource(show_spinner=False, max_entries=4)
def _reference_catalogue(build: str):
    return pr.reference_catalogue(PIPELINE.documents)


def reference_catalogue():
    """The indexed documents by volume, number and pages, for resolving cross-references."""
    return _reference_catalogue(str(PIPELINE.build_path))


@st.cache_resource(show_spinner=False, max_entries=4)
def _entry_table(build: str) -> dict:
    return pr.entry_table(PIPELINE.documents, PIPELINE.chunks)


def entry_table() -> dict:
    """The indexed persons and terms entries, looked up once per index build."""
    return _entry_table(str(PIPELINE.build_path))


@st.cache_data(show_spinner=False, max_entries=4)
def _document_rows(build: str) -> list[dict]:
    return pr.document_rows(PIPELINE.documents, PIPELINE.chunks)


def document_table() -> list[dict]:
    """The documents table, computed once per index build (not on every rerun)."""
    return _document_rows(str(PIPELINE.build_path))


def documents_page() -> None:
    if PIPELINE is None:
        st.title("Documents")
        st.info("The documents are unavailable until the index opens (see the message above).")
        return
    doc_id = st.query_params.get("doc")
    if doc_id:
        document_view(str(doc_id), st.query_params.get("p"))
        return
    st.title("Documents")
    rows = document_table()
    wanted = st.text_input("Filter", key="doc_filter", placeholder="words of a title, a place, a date, a document number…")
    shown = [row for row in rows if pr.row_matches(row, wanted)] if wanted.strip() else rows
    st.caption(f"{len(shown)} of {len(rows)} documents")
    st.dataframe(
        shown,
        hide_index=True,
        column_order=[key for key in shown[0] if key != "id"] if shown else None,
        column_config={"url": st.column_config.LinkColumn("url", display_text="open")},
        width="stretch",
    )
    choice = st.selectbox(
        "Read a document", [row["id"] for row in shown], index=None, key="doc_open",
        format_func=lambda doc_id: TITLES.get(doc_id, doc_id), placeholder="Choose a document…",
    )
    if choice:
        st.query_params.from_dict({"doc": choice})
        st.rerun()
    with st.expander("Where every word of the corpus files went"):
        st.dataframe(pr.coverage_rows(PIPELINE.coverage), hide_index=True, width="stretch")
    chronology_section([row["id"] for row in shown], wanted)
    if len(rows) <= CARD_LIMIT:  # a small corpus also gets a card per document; a volume, the table only
        counts = {row["id"]: row["passages"] for row in rows}
        for document in PIPELINE.documents:
            with st.container(border=True):
                st.html(f'<h3 style="margin:0 0 .4rem 0">{pr.escape_html(document.title)}</h3>')
                st.html(pr.metadata_html(document, passages=counts.get(document.id, 0)))
                st.page_link(DOCUMENTS_PAGE, label="Read the document", icon=":material/menu_book:", query_params={"doc": document.id})


def chronology_section(doc_ids: list[str], wanted: str) -> None:
    """The documents the filter box keeps, narrowed by the Ask page's filters, on a timeline."""
    prefs = st.session_state.get("prefs") or pr.read_prefs(st.query_params.to_dict(), SETTINGS, [], [])
    filters = {name: prefs.get(name, "") for name in pr.FILTERS if prefs.get(name)}
    said = [f"“{wanted.strip()}”"] if wanted.strip() else []
    said += [f"{name} {value}" for name, value in filters.items()]
    st.subheader("Chronology")
    st.caption(pr.escape_markdown(
        "Documents in date order" + (f", matching {' · '.join(said)}" if said else "")
        + (" (filters from the Ask page's sidebar)" if filters else "") + ". Click a point to open its document."
    ))
    chronology_view(doc_ids, filters, key="chronology_documents")


def open_picked(key: str) -> None:
    """A point clicked on a timeline: open its document (a callback, so only a click does this)."""
    doc_id = pr.picked_document((st.session_state.get(key) or {}).get("selection"))
    if doc_id:  # on the Ask page too: the app routes any ?doc= address to the document view
        open_document(pr.document_params(doc_id))


def chronology_view(doc_ids: list[str] | None, filters: dict, key: str) -> None:
    """A timeline chart and a date-ordered table of the matching documents, each linking to its view."""
    try:
        found = pr.chronology(
            PIPELINE.documents, doc_ids, date_from=filters.get("from") or None, date_to=filters.get("to") or None,
            facets={name: value for name, value in filters.items() if name not in ("from", "to") and value},
        )
    except CwqaError as error:
        notice("error", pr.one_line(error))
        return
    if not found:
        st.info("No document matches.")
        return
    rows = pr.chronology_rows(found, page_path=DOCUMENTS_PAGE.url_path)
    chart = pr.timeline_chart(rows)
    if chart is not None:
        st.altair_chart(
            chart, width="stretch", key=f"{key}_chart", on_select=functools.partial(open_picked, f"{key}_chart"),
            selection_mode=pr.TIMELINE_PICK,
        )
    undated = sum(not row["date"] for row in rows)
    if undated:
        st.caption(f"{undated} undated document{'s' if undated != 1 else ''} (editorial notes, mostly) at the end of the table, not on the chart.")
    st.dataframe(
        rows, hide_index=True, width="stretch", key=f"{key}_table",
        column_order=["date", "doc", "title", "place", "from", "to", "open"],
        column_config={"open": st.column_config.LinkColumn("open", display_text="open")},
    )


# ---------------------------------------------------------------------------------------------
# Evaluation page


def evaluation_page() -> None:
    st.title("Evaluation")
    st.caption("How often the ranked passages hold the gold quotes of eval/questions.jsonl (see `cwqa eval`).")
    with st.expander("Run a new evaluation", expanded=False):
        generators, _, _ = generator_options()
        limit = st.number_input("Questions (0 = all)", min_value=0, value=0, step=10, key="eval_limit")
        baselines = st.checkbox("Also run the naive baselines", value=True, key="eval_baselines")
        policy = SETTINGS.rerank if SETTINGS.rerank != "off" else "auto"
        reranked = st.checkbox(
            f"Also run hybrid reranked by the language model {RERANK_LABELS[policy].lower()} (minutes)",
            value=SETTINGS.rerank != "off",
            key="eval_rerank",
        )
        generator = st.selectbox("Also score answers of", generators, key="eval_gen")
        if st.button("Run evaluation", icon=":material/play_arrow:", disabled=PIPELINE is None, key="eval_run"):
            bar = st.progress(0.0, text="Starting…")

            def progress(stage: str, done: int, total: int) -> None:
                bar.progress(min(done / total, 1.0) if total else 1.0, text=f"{stage}: {done} of {total}")

            try:
                with st.spinner("Evaluating…"):
                    evaluation.run_evaluation(
                        SETTINGS,
                        questions_path=QUESTIONS,
                        unanswerable_path=UNANSWERABLE,
                        out_dir=evaluation.new_report_dir(REPORTS_DIR),
                        baselines=baselines,
                        generator=None if generator == "none" else generator,
                        limit=int(limit) or None,
                        pipeline=PIPELINE,
                        progress=progress,
                        rerank=policy if reranked else "off",
                    )
            except Exception as error:  # a failed run is reported; the last report stays shown
                notice("error", f"The evaluation failed: {pr.one_line(error)}")
            else:
                st.success("Evaluation finished; its report is shown below.")
    latest = evaluation.latest_report(REPORTS_DIR)
    if latest is None:
        st.info("No evaluation report yet. Run one above, or `cwqa eval` in a terminal.")
        return
    try:
        report = evaluation.load_report(latest)
    except Exception as error:
        notice("error", f"The latest report ({latest}) could not be read: {pr.one_line(error)}")
        return
    meta = report.get("meta", {})
    st.subheader("Latest report")
    st.caption(
        pr.escape_markdown(
            f"{meta.get('created', '?')} · {meta.get('questions', '?')} questions · k={meta.get('k', '?')} · "
            f"model {meta.get('model', '?')} · {meta.get('index_chunks', '?')} passages · {latest}"
        )
    )
    st.dataframe(pr.report_tables(report), hide_index=True, width="stretch")
    chart = Path(latest) / "report.png"
    if chart.exists():
        st.image(str(chart))
    if report.get("answers"):
        st.subheader("Answers")
        st.dataframe([report["answers"]], hide_index=True)
    with st.expander("Report as Markdown"):
        st.code(evaluation.report_markdown(report), language="markdown", wrap_lines=True)


# ---------------------------------------------------------------------------------------------
# The app

ASK_PAGE = st.Page(ask_page, title="Ask", icon=":material/forum:", default=True)
DOCUMENTS_PAGE = st.Page(documents_page, title="Documents", icon=":material/description:", url_path="documents")
EVALUATION_PAGE = st.Page(evaluation_page, title="Evaluation", icon=":material/monitoring:", url_path="evaluation")

page = st.navigation([ASK_PAGE, DOCUMENTS_PAGE, EVALUATION_PAGE])
if "doc" in st.query_params and page.url_path != DOCUMENTS_PAGE.url_path:
    # ?doc=...&p=... is the document view's address, whichever page path it was opened on.
    st.switch_page(DOCUMENTS_PAGE, query_params=st.query_params.to_dict())
st.html(pr.STYLE)

try:
    SETTINGS = load_settings()
except CwqaError as error:
    notice("error", f"Settings: {pr.one_line(error)}")
    st.stop()

INDEX = shared_index(pr.settings_key(SETTINGS), SETTINGS)
PIPELINE = open_index(INDEX)
TITLES = {document.id: document.title for document in PIPELINE.documents} if PIPELINE is not None else {}
CONTROLS = st.sidebar.container()
index_panel(INDEX, PIPELINE)
page.run()
