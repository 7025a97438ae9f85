"""Citation export of real FRUS documents: a Chicago note, BibTeX and RIS, read back by real parsers."""

from __future__ import annotations

from pathlib import Path

import bibtexparser
import pytest
import rispy

from cwqa.bibliography import bibtex, chicago, export, long_date, ris
from cwqa.documents import IndexedDocument
from cwqa.readers.frus_text import read_text_volume
from cwqa.readers.tei import read_volume

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def volume_v() -> dict[str, IndexedDocument]:
    path = DATA / "frus1961-63v05.txt"
    reading = read_text_volume(path, path.read_text(encoding="utf-8"), None)
    return {document.id: IndexedDocument.of(document) for document in reading.documents}


@pytest.fixture(scope="module")
def nsc_5607() -> IndexedDocument:
    documents = read_volume(DATA / "frus1955-57v24-excerpt.xml").documents
    return next(IndexedDocument.of(d) for d in documents if d.source.get("document") in (104, "104"))


def test_the_chicago_note_for_doc_41_names_the_document_place_date_volume_and_number(volume_v):
    note = chicago(volume_v["frus1961-63v05-d41"])
    assert note == (
        "Telegram From the Embassy in the Soviet Union to the Department of State, Moscow, March 10, 1961, "
        "*Foreign Relations of the United States, 1961–1963*, vol. V, doc. 41, pp. 92–93."
    )


def test_the_chicago_note_of_a_tei_document_uses_its_volume(nsc_5607):
    note = chicago(nsc_5607)
    assert "*Foreign Relations of the United States, 1955–1957*, vol. XXIV, doc. 104" in note
    assert note.startswith("National Security Council Report, Washington, June 29, 1956")


def test_bibtex_export_parses_with_a_real_parser_and_keeps_the_fields(volume_v):
    library = bibtexparser.parse_string(bibtex(volume_v["frus1961-63v05-d41"]))
    assert not library.failed_blocks
    (entry,) = library.entries
    assert entry.entry_type == "incollection" and entry.key == "frus1961-63v05-d41"
    fields = {field.key: field.value for field in entry.fields}
    assert fields["booktitle"] == "Foreign Relations of the United States, 1961–1963"
    assert fields["volume"] == "V" and fields["number"] == "41" and fields["pages"] == "92--93"
    assert fields["year"] == "1961" and fields["url"].endswith("/frus1961-63v05/d41")


def test_ris_export_parses_with_a_real_parser(volume_v):
    (record,) = rispy.loads(ris(volume_v["frus1961-63v05-d41"]))
    assert record["type_of_reference"] == "CHAP"
    assert record["title"].startswith("Telegram From the Embassy in the Soviet Union")
    assert record["volume"] == "V" and record["start_page"] == "92" and record["end_page"] == "93"
    assert record["year"] == "1961"


def test_a_result_set_exports_each_document_once(volume_v):
    documents = [volume_v["frus1961-63v05-d41"], volume_v["frus1961-63v05-d41"], volume_v["frus1961-63v05-d42"]]
    text = export(documents, [None, None, None], "bibtex")
    library = bibtexparser.parse_string(text)
    assert [entry.key for entry in library.entries] == ["frus1961-63v05-d41", "frus1961-63v05-d42"]
    assert len(rispy.loads(export(documents, [None] * 3, "ris"))) == 2
    assert len(export(documents, [None] * 3, "chicago").strip().splitlines()) == 2
    with pytest.raises(ValueError, match="unknown export style"):
        export(documents, [None] * 3, "mla")


def test_a_title_with_bibtex_special_characters_stays_parseable():
    document = IndexedDocument(id="x-1", title="Memo on 50% cuts & {braces}", citation_name="x", path="x.txt", paragraphs=1,
                               date="1962-05", source={"volume_short": "FRUS 1961–63, vol. V", "document": 7})
    (entry,) = bibtexparser.parse_string(bibtex(document)).entries
    assert "50" in entry.fields_dict["title"].value and "braces" in entry.fields_dict["title"].value
    assert long_date("1962-05") == "May 1962"
