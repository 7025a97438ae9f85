"""The app's document view and chronology over a FRUS TEI volume with its front matter (vol. XXIV:
the lists, chapter 1 and documents 104–108), run headless with streamlit.testing.v1.AppTest."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

pytestmark = [pytest.mark.model, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 120


@pytest.fixture(scope="module")
def volume_env(tmp_path_factory):
    """The persons evaluation's corpus (eval/persons.py) with its own index, CWQA_* pointing at it."""
    from cwqa.config import load_settings
    from cwqa.index import build_index

    sys.path.insert(0, str(ROOT / "eval"))
    from persons import assemble

    base = tmp_path_factory.mktemp("volume-app")
    assemble(base)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CWQA_CORPUS", str(base / "corpus"))
        patch.setenv("CWQA_INDEX", str(base / "index"))
        patch.setenv("CWQA_RERANK", "off")
        patch.delenv("CWQA_K", raising=False)
        patch.delenv("CWQA_MODE", raising=False)
        built = ROOT / ".cache" / "persons" / "xxiv" / "index"
        if built.is_dir():  # the evaluation's build: its vectors are reused, which saves the embedding
            try:
                shutil.copytree(built, base / "index", ignore=shutil.ignore_patterns(".tmp-*", ".CURRENT.*"))
            except (OSError, shutil.Error):
                pass
        build_index(load_settings())
        yield base


@pytest.fixture
def app(volume_env):
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


def html(at) -> str:
    return "\n".join(element.value for element in at.html)


def open_document(at, doc_id: str) -> AppTest:
    at.query_params.update({"doc": doc_id})
    return at.run()


def plain(text: str) -> str:
    """A label as the reader sees it (the app backslash-escapes Markdown characters)."""
    return re.sub(r"\\(.)", r"\1", text)


def links(at, prefix: str) -> list:
    return [link for link in at.get("page_link") if plain(link.value).startswith(prefix)]


def test_the_document_view_shows_the_persons_and_terms_it_mentions_with_their_entries(app):
    open_document(app, "frus1955-57v24-d108")
    assert not app.exception and not app.error
    page = html(app)
    assert '<ul class="cwqa-entries">' in page
    assert "<b>Toon, Malcolm</b> — Political Officer, Mission in Berlin" in page
    assert "<b>ASME</b> — American Society of Mechanical Engineers" in page
    headings = [md.value for md in app.markdown]
    assert any(value.startswith("**Persons**") for value in headings)
    assert any(value.startswith("**Abbreviations and terms**") for value in headings)


def test_a_cross_reference_is_a_link_that_opens_the_referenced_document(app):
    open_document(app, "frus1955-57v24-d16")
    (button,) = [b for b in app.button if plain(b.label).startswith("doc. 15 · 15. Circular Airgram")]
    button.click().run()
    assert not app.exception
    assert app.query_params["doc"] == ["frus1955-57v24-d15"] or app.query_params["doc"] == "frus1955-57v24-d15"
    assert "15. Circular Airgram" in html(app).split("</h2>")[0]  # the referenced document's title heads the view


def test_a_reference_to_a_document_not_indexed_says_so(app):
    open_document(app, "frus1955-57v24-d105")
    assert not app.exception
    assert "doc. 47" in html(app) and "not indexed" in html(app)
    assert not [b for b in app.button if plain(b.label).startswith("doc. 47")]


def follow(at, label: str) -> AppTest:
    """Follow an st.page_link as a click would (its page and query parameters; see tests/test_app.py)."""
    link = next(link for link in at.get("page_link") if plain(link.value) == label)
    at.query_params.clear()
    at.query_params.update(dict(parse_qsl(link.proto.query_string)))
    at._page_hash = link.proto.page_script_hash
    return at.run()


def test_the_documents_page_has_a_chronology_chart_and_a_date_ordered_table(app):
    follow(open_document(app, "frus1955-57v24-d108"), "All documents")
    assert not app.exception and not app.error
    assert app.get("vega_lite_chart")  # the timeline
    table = app.dataframe[-1].value
    assert len(table) == 14  # documents 1, 2, 10-16 and 104-108; the two lists are not documents of the record
    dates = [d for d in table["date"] if d]
    assert dates == sorted(dates) and list(table["date"][: len(dates)]) == dates  # the undated last
    assert not any(table["id"].str.endswith(("-persons", "-terms")))
    assert all(link.startswith("documents?doc=") for link in table["open"])


def test_who_was_thompson_shows_his_list_of_persons_entry_first_and_the_results_chronology(app):
    app.run()
    app.chat_input[0].set_value("who was Thompson?")
    app.run()
    assert not app.exception
    first = app.main.code[0].value
    assert "List of Persons" in first and "FRUS 1955–57, vol. XXIV" in first
    assert any("Chronology" in expander.label for expander in app.expander)
