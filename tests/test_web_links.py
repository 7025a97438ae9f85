"""The document view's cross-references, on real fixture data: links that open indexed documents
through the app's URL state, and words that say a reference is not indexed."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cwqa.chunking import chunk_documents
from cwqa.corpus import read_text_file
from cwqa.documents import IndexedDocument
from cwqa.readers.tei import read_volume
from cwqa.web import document_href, document_params, link_label, reference_catalogue, reference_links, unresolved_html
from cwqa.web.links import ReferenceLink

DATA = Path(__file__).parent / "data"


@cache
def indexed(*paths: Path):
    documents = []
    for path in paths:
        reading = read_text_file(path) if path.suffix == ".txt" else read_volume(path)
        documents.extend(reading.documents)
    chunks = chunk_documents(documents, 160)
    return {d.id: IndexedDocument.of(d) for d in documents}, chunks


def links_of(doc_id: str, *paths: Path):
    documents, chunks = indexed(*paths)
    mine = [chunk for chunk in chunks if chunk.doc_id == doc_id]
    return reference_links(documents[doc_id], reference_catalogue(list(documents.values())), mine, documents)


def test_see_document_in_a_footnote_becomes_a_link_that_opens_that_document():
    links = links_of("frus1961-63v05-d35", DATA / "frus1961-63v05.txt")
    assert [link.params for link in links] == [{"doc": "frus1961-63v05-d41"}, {"doc": "frus1961-63v05-d42"}]
    assert link_label(links[0]).startswith("doc. 41 · Telegram From the Embassy in the Soviet Union")
    assert unresolved_html(links) == ""


def test_a_reference_to_an_unindexed_document_says_so_with_its_printed_source():
    links = links_of("frus1955-57v24-d105", DATA / "frus1955-57v24-excerpt.xml")
    (link,) = links
    assert (link.target, link.doc_id, link.params) == ("doc. 47", "", None)
    html = unresolved_html(links)
    assert "doc. 47" in html and "not indexed" in html
    assert 'href="https://history.state.gov/historicaldocuments/frus1955-57v24/d47"' in html


def test_a_reference_to_another_volume_names_that_volume():
    links = links_of("frus1955-57v24-d1", DATA / "frus1955-57v24-chapter.xml")
    assert [link.target for link in links] == ["frus1952-54v08, p. 954"]


def test_unresolved_references_are_escaped_and_only_http_addresses_are_linked():
    hostile = ReferenceLink(text="<img src=x onerror=alert(1)>", target="doc. 9", url="")
    html = unresolved_html([hostile])
    assert "<img" not in html and "&lt;img" in html and "href" not in html


def test_a_document_link_carries_the_app_url_state():
    href = document_href("frus1961-63v05-d41", "frus1961-63v05-d41/p1")
    parts = urlsplit(href)
    assert parts.path == "documents" and not parts.scheme
    assert parse_qs(parts.query) == {"doc": ["frus1961-63v05-d41"], "p": ["frus1961-63v05-d41/p1"]}
    assert document_params("x") == {"doc": "x"}
