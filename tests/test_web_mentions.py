"""The document view's persons and abbreviations, on real FRUS 1955–57 vol. XXIV data: the
front matter's lists indexed beside documents 104–108, and the plain-text vol. V, which has none."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from cwqa.chunking import chunk_documents
from cwqa.documents import IndexedDocument
from cwqa.readers.tei import read_volume
from cwqa.web.mentions import document_entries, entries_html, entry_table

DATA = Path(__file__).parent / "data"
FRONT = DATA / "frus1955-57v24-front.xml"
EXCERPT = DATA / "frus1955-57v24-excerpt.xml"


@cache
def corpus(*paths: Path):
    """Indexed documents and passages of these files, as the index keeps them (no model needed)."""
    documents = [d for path in paths for d in read_volume(path).documents]
    return {d.id: IndexedDocument.of(d) for d in documents}, chunk_documents(documents, 160)


def entries_of(doc_id: str, *paths: Path) -> dict:
    documents, chunks = corpus(*paths)
    return document_entries(documents[doc_id], entry_table(list(documents.values()), chunks))


def test_a_document_lists_the_persons_it_mentions_with_their_list_of_persons_entries():
    persons = entries_of("frus1955-57v24-d106", FRONT, EXCERPT)["persons"]
    dulles = next(entry for entry in persons if entry.ref == "p_DJF1")
    assert dulles.found and dulles.label == "Dulles, John Foster"
    assert dulles.description == "Secretary of State"
    assert dulles.doc_id == "frus1955-57v24-persons"
    # Every person document 106 mentions is in the (complete) List of Persons, first mention first.
    assert all(entry.found for entry in persons) and persons[0].ref == "p_MFT1"


def test_a_document_lists_its_abbreviations_with_their_meaning():
    terms = entries_of("frus1955-57v24-d108", FRONT, EXCERPT)["terms"]
    asme = next(entry for entry in terms if entry.ref == "t_ASME1")
    assert asme.found and asme.label == "ASME"
    assert "American Society of Mechanical Engineers" in asme.description
    assert [entry.ref for entry in terms][:2] == ["t_Embtel1", "t_FonOff1"]


def test_a_term_missing_from_the_indexed_list_is_shown_as_missing_not_dropped():
    # The fixture's List of Abbreviations stops at EDST: NSC is mentioned but has no entry.
    terms = entries_of("frus1955-57v24-d104", FRONT, EXCERPT)["terms"]
    assert [(entry.label, entry.found) for entry in terms] == [("NSC", False)]
    assert "not in an indexed List of Abbreviations" in entries_html(terms, "terms")


def test_without_the_volume_lists_in_the_corpus_no_entry_is_resolved():
    persons = entries_of("frus1955-57v24-d106", EXCERPT)["persons"]
    assert persons and not any(entry.found for entry in persons)


def test_a_plain_text_volume_shows_no_persons_or_terms():
    from cwqa.corpus import read_text_file

    documents = read_text_file(DATA / "frus1961-63v05.txt").documents
    indexed = IndexedDocument.of(next(d for d in documents if d.id.endswith("-d41")))
    entries = document_entries(indexed, {})
    assert entries == {"persons": [], "terms": []}
    assert entries_html(entries["persons"], "persons") == ""


def test_entries_are_rendered_as_escaped_text():
    from cwqa.web.mentions import Entry

    hostile = Entry("persons", "p_X1", "<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "d", "d/p_X1")
    html = entries_html([hostile], "persons")
    assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html
