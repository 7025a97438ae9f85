"""Cross-references resolved to indexed documents, on the real volumes: FRUS 1961–63 vol. V as
plain text ("See Document 12" in footnotes) and FRUS 1955–57 vol. XXIV in TEI (`ref[@target]`)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from cwqa.corpus import read_text_file
from cwqa.crossrefs import Catalogue, document_references, numbers_in, passage_texts, referenced_documents
from cwqa.documents import IndexedDocument
from cwqa.readers.tei import read_volume

DATA = Path(__file__).parent / "data"
V05 = "frus1961-63v05"
V24 = "frus1955-57v24"


@cache
def volume_v():
    return read_text_file(DATA / "frus1961-63v05.txt").documents


@cache
def volume_xxiv():
    """Vol. XXIV's fixtures together (document 1 is in two of them: kept once)."""
    documents = {}
    for name in ("front", "chapter", "excerpt"):
        for document in read_volume(DATA / f"frus1955-57v24-{name}.xml").documents:
            documents.setdefault(document.id, document)
    return list(documents.values())


def test_see_document_in_a_plain_text_footnote_links_to_that_document():
    graph = referenced_documents(volume_v())
    # Document 35 refers to "Documents 41 and 42".
    assert graph[f"{V05}-d35"] == [f"{V05}-d41", f"{V05}-d42"]
    assert f"{V05}-d12" in graph[f"{V05}-d22"]


def test_a_range_of_documents_is_every_document_in_it_and_years_are_not_documents():
    assert [n for n, _ in numbers_in("For records of their conversations, see Documents 83-85 and 87-89.")] == [83, 84, 85, 87, 88, 89]
    assert numbers_in("see Documents on Germany, 1944-1985, pp. 720-723") == []
    assert [n for n, _ in numbers_in("See Document 67 and footnote 2 thereto.")] == [67]


def test_a_document_number_of_another_publication_is_not_taken_for_this_volume():
    assert numbers_in("For text, see Foreign Relations, 1961-1963, volume I, Document 23.") == []
    assert [n for n, _ in numbers_in("See volume I, page 5. See Document 12.")] == [12]


def test_tei_refs_resolve_in_the_same_volume_and_unindexed_ones_stay_unresolved():
    documents = volume_xxiv()
    catalogue = Catalogue(documents)
    d16 = next(d for d in documents if d.id == f"{V24}-d16")
    assert [(r.text, r.doc_id) for r in document_references(d16, catalogue)] == [("Supra.", f"{V24}-d15")]
    d105 = next(d for d in documents if d.id == f"{V24}-d105")
    (ref,) = document_references(d105, catalogue)
    assert (ref.number, ref.resolved, ref.url.endswith("/frus1955-57v24/d47")) == (47, False, True)


def test_a_reference_in_both_markup_and_words_is_listed_once():
    documents = volume_xxiv()
    d104 = next(d for d in documents if d.id == f"{V24}-d104")
    numbers = [r.number for r in document_references(d104, Catalogue(documents))]
    assert numbers == [103, 99]  # "supra." and "See footnote 4, Document 99" (a ref and its words)


def test_a_page_reference_resolves_to_the_indexed_document_printed_on_that_page():
    documents = volume_xxiv()
    # Document 2 refers to vol. XXIV's own Document 4 (not indexed) and to pages of another volume.
    d2 = next(d for d in documents if d.id == f"{V24}-d2")
    refs = document_references(d2, Catalogue(documents))
    assert {(r.volume, r.page) for r in refs if r.page} == {("frus1952-54v05p2", 1294), ("frus1952-54v05p2", 1404)}
    assert not any(r.resolved for r in refs)
    # With a document of that volume printed on pp. 1290-1300 indexed, the page reference opens it.
    other = IndexedDocument(
        id="frus1952-54v05p2-d500", title="500. Memorandum", citation_name="", path="", paragraphs=1,
        source={"document": 500, "pages": [1290, 1300]}, extra={"volume_id": "frus1952-54v05p2"},
    )
    indexed = [IndexedDocument.of(d) for d in documents] + [other]
    graph = referenced_documents(indexed, {d.id: [p.text for p in d.paragraphs] for d in documents})
    assert graph[f"{V24}-d2"] == ["frus1952-54v05p2-d500"]


def test_indexed_documents_with_their_passages_give_the_same_graph_as_the_corpus():
    from cwqa.chunking import chunk_documents

    documents = volume_v()[:60]
    from_corpus = referenced_documents(documents)
    indexed = [IndexedDocument.of(d) for d in documents]
    assert referenced_documents(indexed, passage_texts(chunk_documents(documents, 160))) == from_corpus
    assert from_corpus  # some of the first 60 documents refer to others among them


def test_a_document_never_refers_to_itself_and_the_lists_are_not_documents():
    graph = referenced_documents(volume_xxiv())
    assert all(doc_id not in targets for doc_id, targets in graph.items())
    assert f"{V24}-persons" not in {t for targets in graph.values() for t in targets}
