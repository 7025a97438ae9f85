"""Unit tests of cwqa.web: what the app shows, without Streamlit."""

import json
import threading
import time

import numpy as np
import pytest

from cwqa import web as pr
from cwqa.answers.model import ABSTAIN_PHRASE, Answer, GeneratorError, abstention
from cwqa.answers.plugins import GeneratorInfo
from cwqa.answers.verify import verify_answer
from cwqa.config import Settings
from cwqa.documents import IndexedDocument
from cwqa.index import IndexStatus
from cwqa.passages import Chunk, Hit
from cwqa.verdict import BM25_GOOD, assess_match
from cwqa.web.html import CITED_ANCHOR
from cwqa.web.views import AnswerView, paragraph_mark

HOSTILE = 'Before <script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2"> ![x](http://127.0.0.1:9/beacon.png) after & done'


def make_chunk(chunk_id="doc/part-3/b", text="Soviet pressure on Northern Iran and Turkey.", **changes):
    paragraph_id = chunk_id.split("#")[0]
    values = dict(
        id=chunk_id,
        paragraph_id=paragraph_id,
        doc_id="doc",
        doc_title="The Long Telegram",
        section_id="part-3",
        section_label="Part 3",
        section_title="Part 3: Projection of Soviet Outlook",
        label="(b)",
        ordinal=1,
        window=1,
        windows=1,
        text=text,
        text_start=0,
        text_end=len(text),
        start=0,
        end=len(text),
        first_page=None,
        last_page=None,
        citation='Kennan, "Long Telegram", 22 Feb 1946, Part 3 ¶(b), pp. 696–709 — FRUS 1946, vol. VI, doc. 475',
        url="https://history.state.gov/historicaldocuments/frus1946v06/d475",
    )
    values.update(changes)
    return Chunk(**values)


def make_hit(rank=1, dense=0.5, bm25=4.0, **chunk_changes):
    return Hit(rank=rank, score=1.0 / (60 + rank), chunk=make_chunk(**chunk_changes), mode="hybrid", dense_score=dense, bm25_score=bm25)


def make_document(**changes) -> IndexedDocument:
    values = dict(id="doc", title="T", citation_name='Kennan, "Long Telegram", 22 Feb 1946', path="", paragraphs=0)
    values.update(changes)
    return IndexedDocument(**values)


class OrthogonalEmbedder:
    """Every distinct text gets its own unit vector: different texts are unrelated (cosine 0)."""

    def __init__(self):
        self.seen: dict[str, int] = {}

    def encode(self, texts):
        vectors = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            vectors[row, self.seen.setdefault(text, len(self.seen) % 64)] = 1.0
        return vectors


# -- escaping and highlighting ----------------------------------------------------------------


def test_escape_html_turns_tags_into_text():
    escaped = pr.escape_html(HOSTILE)
    assert "<script" not in escaped and "<img" not in escaped
    assert "&lt;script&gt;" in escaped and "onerror=&quot;" in escaped


def test_highlight_marks_question_terms_by_stem_and_escapes_the_rest():
    out = pr.highlight_html("The Soviets pressed <b>Turkey</b> & Iran.", "Where did the Soviet Union press Turkey?")
    assert '<mark class="cwqa-term">Soviets</mark>' in out
    assert '<mark class="cwqa-term">pressed</mark>' in out
    assert "&lt;b&gt;" in out and '<mark class="cwqa-term">Turkey</mark>' in out
    assert "&amp;" in out and "<b>" not in out


def test_highlight_leaves_stop_words_and_hostile_markup_inert():
    out = pr.highlight_html(HOSTILE, "what did the script say about the image?")
    assert "<script" not in out and "<img" not in out
    assert '<mark class="cwqa-term">script</mark>' in out  # a real word of the text, marked as text
    assert "<mark" not in pr.highlight_html("what did the", "what did the")


def test_highlight_with_no_terms_is_plain_escaping():
    assert pr.highlight_html(HOSTILE, frozenset()) == pr.escape_html(HOSTILE)


def test_escaped_markdown_renders_as_literal_text():
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(pr.escape_markdown(HOSTILE))
    assert "<img" not in rendered and "<script" not in rendered and "<a " not in rendered
    assert "![x](http://127.0.0.1:9/beacon.png)" in rendered  # shown, as characters


def test_safe_url_accepts_only_http_addresses():
    assert pr.safe_url("https://history.state.gov/x") == "https://history.state.gov/x"
    assert pr.safe_url("javascript:alert(1)") == ""
    assert pr.safe_url("http://a/\" onmouseover=\"x") == ""
    assert pr.safe_url(None) == ""


# -- no good match ------------------------------------------------------------------------------


def test_a_close_passage_is_a_good_match():
    assert assess_match([make_hit(dense=0.45, bm25=1.0)]).good
    assert pr.is_strong(make_hit(dense=0.45, bm25=1.0))


def test_strong_word_overlap_alone_is_a_good_match():
    # A question in the documents' exact words that the model happens to score low.
    assert assess_match([make_hit(dense=0.2, bm25=BM25_GOOD + 0.5)]).good


def test_weak_hits_are_not_a_good_match_and_say_why():
    verdict = assess_match([make_hit(dense=0.09, bm25=2.07), make_hit(rank=2, dense=0.05, bm25=0.5)])
    assert not verdict.good
    assert verdict.best_dense == pytest.approx(0.09) and "0.09" in verdict.reason
    assert verdict.best_bm25 == pytest.approx(2.07) and "2.07" in verdict.reason


def test_no_hits_is_not_a_good_match():
    assert not assess_match([]).good


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_every_hit_carries_both_scores_whatever_the_mode(retriever, mode):
    # The verdict judges a dense search by its BM25 scores too: retrieval must give both, and the
    # same ones whichever mode found the passage.
    question = "Where did Kennan expect Soviet pressure on Northern Iran and Turkey?"
    hits = retriever.search(question, k=5, mode=mode)
    assert hits and all(hit.dense_score is not None and hit.bm25_score is not None for hit in hits)
    verdict = assess_match(hits)
    assert verdict.best_dense == pytest.approx(max(hit.dense_score for hit in hits))
    assert verdict.best_bm25 == pytest.approx(max(hit.bm25_score for hit in hits))
    others = {hit.chunk_id: hit for other in ("dense", "bm25", "hybrid") if other != mode for hit in retriever.search(question, k=5, mode=other)}
    shared = [hit for hit in hits if hit.chunk_id in others]
    assert shared  # the modes agree on some passages
    for hit in shared:
        assert hit.dense_score == pytest.approx(others[hit.chunk_id].dense_score)
        assert hit.bm25_score == pytest.approx(others[hit.chunk_id].bm25_score)


# -- citations, context, document layout --------------------------------------------------------


def test_chunk_where_is_the_citation_between_document_and_printed_source():
    chunk = make_chunk()
    assert pr.chunk_where(chunk, 'Kennan, "Long Telegram", 22 Feb 1946') == "Part 3 ¶(b), pp. 696–709"
    assert paragraph_mark(chunk, 'Kennan, "Long Telegram", 22 Feb 1946') == "¶(b)"
    assert pr.section_subtitle(chunk) == "Projection of Soviet Outlook"


def test_paragraph_context_gives_the_neighbouring_paragraphs():
    chunks = [make_chunk("doc/p1", "One."), make_chunk("doc/p2", "Two a."), make_chunk("doc/p2#2", "Two b."), make_chunk("doc/p3", "Three.")]
    before, paragraph, after = pr.paragraph_context(chunks, "doc/p2#2")
    assert before.text == "One." and paragraph.text == "Two a. Two b." and after.text == "Three."
    assert pr.paragraph_context(chunks, "doc/p1")[0] is None
    assert pr.paragraph_context(chunks, "doc/p3")[2] is None


def test_document_html_marks_the_cited_window_and_escapes_everything():
    document = make_document()
    chunks = [
        make_chunk("doc/part-3/a", "(a) First.", label="(a)", citation=make_chunk().citation.replace("(b)", "(a)")),
        make_chunk("doc/part-3/b", "(b) " + HOSTILE),
        make_chunk("doc/part-3/b#2", "Second window.", window=2, windows=2),
    ]
    out = pr.document_html(document, chunks, cited_chunk_id="doc/part-3/b#2")
    assert "<script" not in out and "<img" not in out
    assert out.count(f'id="{CITED_ANCHOR}"') == 1
    assert '<mark class="cwqa-span" data-chunk="doc/part-3/b#2">Second window.</mark>' in out
    assert out.count('class="cwqa-section"') == 1  # one heading for the section
    assert '<span class="cwqa-label">¶(a)</span>' in out and '<span class="cwqa-label">¶(b)</span>' in out


def test_document_html_shows_title_lines_as_a_heading_and_the_signature_at_the_end():
    chunks = [make_chunk("doc/heading", "The <Long> Telegram", kind="heading", section_id="heading", section_label="Heading", section_title="Heading"), make_chunk("doc/part-3/b", "(b) Text.")]
    out = pr.document_html(make_document(extra={"signature": "KENNAN", "source_note": "*FRUS* <http://x>"}), chunks)
    assert '<div class="cwqa-docheading" data-paragraph="doc/heading">The &lt;Long&gt; Telegram</div>' in out
    assert ">Heading<" not in out  # no section called "Heading"
    assert '<div class="cwqa-signature">KENNAN</div>' in out and "*FRUS* &lt;http://x&gt;" in out


def test_document_html_prints_a_page_number_only_where_it_changes():
    chunks = [make_chunk(f"doc/p{n}", f"Para {n}.", first_page=page, last_page=page) for n, page in enumerate([243, 243, 244], 1)]
    out = pr.document_html(make_document(), chunks)
    assert out.count(">p. 243<") == 1 and out.count(">p. 244<") == 1


def test_source_span_refuses_a_file_changed_since_the_build(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_text("Header\n\n(b) The exact words.\n", encoding="utf-8")
    chunk = make_chunk(start=8, end=28)
    document = make_document(path=str(path))
    span, note = pr.source_span(document, chunk)
    assert span == "(b) The exact words." and "8–28" in note
    import hashlib

    hashes = {"doc.txt": hashlib.sha256(b"something else").hexdigest()}
    span, note = pr.source_span(document, chunk, hashes)
    assert span is None and "changed" in note
    assert pr.source_span(make_document(path=str(tmp_path / "gone.txt")), chunk) == (None, f"source file {tmp_path / 'gone.txt'} not found")


def test_document_rows_count_passages_per_document():
    documents = [make_document(source={"url": "javascript:x", "volume_short": "FRUS", "document": 41}, paragraphs=2)]
    rows = pr.document_rows(documents, [make_chunk("doc/a"), make_chunk("doc/b"), make_chunk("other/c", doc_id="other")])
    assert rows[0]["passages"] == 2 and rows[0]["url"] == "" and rows[0]["source"] == "FRUS"
    assert rows[0]["paragraphs"] == 2 and rows[0]["doc"] == 41 and rows[0]["id"] == "doc"


# -- downloads ------------------------------------------------------------------------------


def test_markdown_export_lists_citations_and_keeps_document_text_inert():
    markdown_it = pytest.importorskip("markdown_it")
    hits = [make_hit(text=HOSTILE), make_hit(rank=2)]
    verdict = assess_match(hits)
    text = pr.results_markdown("Which places <b>first</b>?", hits, mode="hybrid", k=2, verdict=verdict)
    assert "Part 3 ¶\\(b\\)" in text  # the citation, escaped
    rendered = markdown_it.MarkdownIt("commonmark").render(text)
    assert "<img" not in rendered and "<script" not in rendered and "<b>" not in rendered
    assert 'Kennan, "Long Telegram", 22 Feb 1946, Part 3 ¶(b)' in rendered.replace("&quot;", '"')


def test_json_export_holds_the_hits_and_the_verdict():
    hits = [make_hit(dense=0.1, bm25=0.2)]
    payload = json.loads(pr.results_json("q", hits, mode="dense", k=1, verdict=assess_match(hits)))
    assert payload["good_match"] is False and payload["no_match_reason"]
    assert payload["hits"][0]["citation"] == hits[0].citation and payload["mode"] == "dense"


def test_export_name_is_a_safe_slug():
    assert pr.export_name("Which places did Kennan expect?", "md") == "cwqa-which-places-did-kennan-expect.md"
    assert pr.export_name("<>", "json") == "cwqa-results.json"


# -- URL state ------------------------------------------------------------------------------


def test_prefs_come_from_the_url_and_bad_values_fall_back_to_settings():
    settings = Settings()
    prefs = pr.read_prefs({"k": "8", "mode": "bm25", "docs": "nsc-5607,nope", "gen": "x", "rerank": "1"}, settings, ["nsc-5607"], ["none"])
    no_filters = {name: "" for name in pr.FILTERS}
    assert prefs == {"k": 8, "mode": "bm25", "docs": ["nsc-5607"], "gen": "none", "rerank": "on", **no_filters}
    prefs = pr.read_prefs({"k": "lots", "mode": "magic", "rerank": "maybe"}, settings, [], ["none"])
    assert prefs["k"] == settings.k and prefs["mode"] == settings.mode and prefs["rerank"] == settings.rerank == "off"
    assert pr.read_prefs({"k": "999"}, settings, [], ["none"])["k"] == pr.K_CHOICES[1]


@pytest.mark.parametrize("policy", ["off", "auto", "on"])
def test_url_params_round_trip_through_read_prefs(policy):
    filters = {name: "" for name in pr.FILTERS} | {"place": "Moscow", "from": "1961-03"}
    prefs = {"k": 7, "mode": "dense", "docs": ["a", "b"], "gen": "extractive", "rerank": policy, **filters}
    params = pr.url_params("why?", prefs)
    assert params["place"] == "Moscow" and params["from"] == "1961-03" and "sender" not in params
    assert params["q"] == "why?"
    # A link may leave the policy out only when it is the default: reopened, it must search the same way.
    assert "rerank" in params or policy == Settings().rerank, f"a link for rerank={policy!r} reopens with {Settings().rerank!r}"
    assert pr.read_prefs(params, Settings(), ["a", "b"], ["none", "extractive"]) == prefs


# -- answers --------------------------------------------------------------------------------


def test_answer_view_shows_a_verified_answer_with_its_marks():
    hits = [make_hit(), make_hit(rank=2, chunk_id="doc/part-3/c", text="Other words entirely.")]
    answer = verify_answer(Answer("q", "Northern Iran and Turkey [1]. Also Mars [2].", hits, "scripted"), OrthogonalEmbedder())
    view = pr.answer_view(answer)
    assert view.text == answer.text and not view.abstained
    assert view.cited_ranks == [1, 2]
    assert view.sentences == [("Northern Iran and Turkey [1].", True), ("Also Mars [2].", False)]
    assert view.raw == answer.to_dict() and json.loads(json.dumps(view.raw))["generator"] == "scripted"


def test_answer_view_of_an_abstention_says_why_and_carries_the_notice():
    hits = [make_hit()]
    declined = abstention("q", hits, "nothing relevant", "extractive", notice="openai: down; showing the extractive answer instead")
    view = pr.answer_view(verify_answer(declined, OrthogonalEmbedder()))
    assert view.abstained and view.reason == "nothing relevant" and view.text == ABSTAIN_PHRASE
    assert view.sentences == [] and view.cited_ranks == [] and "showing the extractive answer" in view.notice


def test_answer_html_escapes_text_and_marks_unsupported_sentences():
    view = AnswerView(text="", sentences=[("<img src=x onerror=alert(1)> ok [1].", True), ("Mars [2].", False)])
    out = pr.answer_html(view)
    assert "<img" not in out and "<sup>[1]</sup>" in out
    assert '<span class="cwqa-unsupported"' in out and out.count("cwqa-unsupported") == 1


def test_generator_choices_offer_retrieval_only_first_then_the_installed_generators():
    names, descriptions, _problem = pr.generator_choices()
    assert names[0] == "none" and "extractive" in names and descriptions["none"] == "passages only"


def test_generator_choices_leave_out_generators_that_cannot_run_and_say_why(monkeypatch):
    listed = {
        "extractive": GeneratorInfo("extractive", "m:E", "Quotes sentences.", True),
        "local": GeneratorInfo("local", "m:L", "Runs a model.", False, "needs torch"),
    }
    monkeypatch.setattr("cwqa.web.views.list_generators", lambda: listed)
    names, descriptions, problem = pr.generator_choices()
    assert names == ["none", "extractive"] and descriptions["extractive"] == "Quotes sentences."
    assert problem == "local unavailable (needs torch)"


def test_generator_choices_always_offer_retrieval_only(monkeypatch):
    def broken():
        raise GeneratorError("generator 'x' could not be loaded from x:X (ImportError: no module x)\ntraceback")

    monkeypatch.setattr("cwqa.web.views.list_generators", broken)
    names, _descriptions, problem = pr.generator_choices()
    assert names == ["none"] and problem == "generator 'x' could not be loaded from x:X (ImportError: no module x)"


def test_report_tables_flatten_modes_and_baselines():
    report = {"modes": {"hybrid": {"hit@5": 0.81234, "misses@5": ["lt-1", "lt-2"]}}, "baselines": {"bm25-paragraphs": {"hit@5": 0.5}}}
    rows = pr.report_tables(report)
    assert rows[0] == {"system": "hybrid", "kind": "mode", "hit@5": 0.812, "misses@5": 2}
    assert rows[1]["kind"] == "baseline"


# -- the shared index -----------------------------------------------------------------------


@pytest.fixture()
def fresh_index(monkeypatch):
    """The saved index reads as fresh: SharedIndex tests need no corpus hashing."""
    monkeypatch.setattr("cwqa.web.shared.index_status", lambda settings: IndexStatus("fresh"))


def test_shared_index_opens_once_for_concurrent_sessions(monkeypatch, fresh_index):
    calls = []

    def fake_open(settings, progress=None, log=None, rebuild=False):
        calls.append(settings)
        time.sleep(0.2)  # long enough for the other sessions to arrive while it loads
        return object()

    monkeypatch.setattr("cwqa.web.shared.open_pipeline", fake_open)
    shared = pr.SharedIndex(Settings())
    results = []
    threads = [threading.Thread(target=lambda: results.append(shared.get())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len({id(r) for r in results}) == 1
    assert shared.get() is results[0] and shared.pipeline is results[0]
    assert shared.rebuild_reasons == []  # the index was fresh: nothing was rebuilt


def test_shared_index_says_why_it_rebuilt_the_index_when_it_opened(monkeypatch):
    stale = IndexStatus("stale", ["corpus file x.txt changed", "model changed"])
    monkeypatch.setattr("cwqa.web.shared.index_status", lambda settings: stale)
    monkeypatch.setattr("cwqa.web.shared.open_pipeline", lambda settings, progress=None, log=None, rebuild=False: "pipeline")
    shared = pr.SharedIndex(Settings())
    assert shared.get() == "pipeline"
    assert shared.rebuild_reasons == ["stale: corpus file x.txt changed; model changed"]


def test_shared_index_reports_a_failed_open_and_tries_again_on_the_next_visit(monkeypatch, fresh_index):
    from cwqa.errors import CorpusError

    outcomes = [CorpusError("corpus/x.meta.json: field 'id' is missing or empty"), "pipeline"]

    def fake_open(settings, progress=None, log=None, rebuild=False):
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr("cwqa.web.shared.open_pipeline", fake_open)
    shared = pr.SharedIndex(Settings())
    with pytest.raises(CorpusError):
        shared.get()
    assert not shared.ready and shared.error == "corpus/x.meta.json: field 'id' is missing or empty"
    assert shared.get() == "pipeline" and shared.error == "" and shared.ready


def test_shared_index_keeps_serving_the_old_pipeline_until_a_rebuild_is_complete(monkeypatch, fresh_index):
    release = threading.Event()

    def fake_open(settings, progress=None, log=None, rebuild=False):
        if not rebuild:
            return "old"
        progress(1, 2)
        release.wait(5)
        return "new"

    monkeypatch.setattr("cwqa.web.shared.open_pipeline", fake_open)
    shared = pr.SharedIndex(Settings())
    assert shared.get() == "old"
    assert shared.start(rebuild=True) and not shared.start(rebuild=True)  # one rebuild at a time
    time.sleep(0.1)
    assert shared.busy and shared.pipeline == "old" and shared.progress == (1, 2)
    release.set()
    assert shared.wait(5) and shared.pipeline == "new" and shared.rebuild_reasons == ["rebuild asked for"]


def test_settings_key_differs_by_corpus_and_index_folder(tmp_path):
    one = pr.settings_key(Settings(corpus_dir=tmp_path / "a", index_dir=tmp_path / "i"))
    two = pr.settings_key(Settings(corpus_dir=tmp_path / "b", index_dir=tmp_path / "i"))
    assert one != two and one == pr.settings_key(Settings(corpus_dir=tmp_path / "a", index_dir=tmp_path / "i"))


def test_one_line_keeps_cwqa_messages_and_names_other_errors():
    from cwqa.errors import IndexFileError

    assert pr.one_line(IndexFileError("index/x: unreadable\nmore")) == "index/x: unreadable"
    assert pr.one_line(ValueError("bad")) == "ValueError: bad"
