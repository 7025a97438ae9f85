"""The FRUS TEI reader on whole-volume material: front matter, chapters, attachments, index.

Fixtures (tests/data, each with a header comment saying exactly what was cut, and from which
commit of HistoryAtState/frus):
- frus1955-57v24-front.xml: teiHeader, title page, preface, contents, sources (trimmed), the
  List of Abbreviations (trimmed), short titles, the whole List of Persons, documents 1-2;
- frus1955-57v24-chapter.xml: chapter 1's head, documents 1 and 10-16, the index's start;
- frus1894Nicaragua-attachments.xml: documents 1-6 of FRUS 1894, Nicaragua, four with an
  attachment;
- frus1946v06-d475.xml: the Long Telegram (a copy of shared/frus/frus1946v06-d475.xml).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from cwqa.documents import format_citation
from cwqa.errors import CorpusError
from cwqa.readers import tei_document, tei_lists
from cwqa.readers.tei import read_volume

DATA = Path(__file__).parent / "data"
FRONT = DATA / "frus1955-57v24-front.xml"
CHAPTER = DATA / "frus1955-57v24-chapter.xml"
NICARAGUA = DATA / "frus1894Nicaragua-attachments.xml"
LONG_TELEGRAM = DATA / "frus1946v06-d475.xml"
SHARED = Path("/work/shared/frus")
VOLUME = "frus1955-57v24"

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<TEI xmlns="http://www.tei-c.org/ns/1.0" xmlns:frus="http://history.state.gov/frus/ns/1.0">
  <teiHeader><fileDesc><titleStmt>
    <title type="sub-series">1969–1976</title><title type="volume-number">Volume I</title>
  </titleStmt><publicationStmt><idno type="frus">frus1969-76v01</idno></publicationStmt></fileDesc></teiHeader>
  <text><body><pb n="5"/>
"""
FOOTER = "</body></text></TEI>\n"


@cache
def reading(path: Path):
    return read_volume(path)


def documents(path: Path) -> dict:
    return {document.id: document for document in reading(path).documents}


def body(document):
    return [p for p in document.paragraphs if p.kind == "body"]


def write(tmp_path: Path, xml: str, name: str = "vol.xml") -> Path:
    path = tmp_path / name
    path.write_text(xml, encoding="utf-8")
    return path


# --- the lists of persons and terms ----------------------------------------------------------


def test_the_list_of_persons_is_a_document_of_cited_entries_name_first():
    persons = documents(FRONT)[f"{VOLUME}-persons"]
    assert (persons.title, persons.source["document"], persons.source["part"]) == ("List of Persons", None, "List of Persons")
    assert len(persons.paragraphs) == 190 and {p.kind for p in persons.paragraphs} == {"person"}
    dulles = next(p for p in persons.paragraphs if p.label == "p_DJF1")
    assert dulles.text == "Dulles, John Foster, Secretary of State"
    assert dulles.id == f"{VOLUME}-persons/p_DJF1"
    citation = format_citation(persons, dulles)
    assert citation.startswith("FRUS 1955–57, vol. XXIV, List of Persons, Dulles, John Foster")
    assert persons.url == "https://history.state.gov/historicaldocuments/frus1955-57v24/persons"


def test_an_entry_spans_its_item_and_keeps_its_dates_and_cross_references():
    persons = documents(FRONT)[f"{VOLUME}-persons"]
    allen = next(p for p in persons.paragraphs if p.label == "p_AGV1")
    assert "Ambassador to Greece, October 1956–November 1957" in allen.text
    text = FRONT.read_text(encoding="utf-8")
    assert text[allen.start : allen.end].startswith("<item>") and text[allen.start : allen.end].endswith("</item>")
    see = next(p for p in persons.paragraphs if p.label == "p_Birgi1")
    assert see.text == "Birgi (see Nuri Birgi)"


def test_the_list_of_abbreviations_is_a_document_of_cited_terms():
    terms = documents(FRONT)[f"{VOLUME}-terms"]
    assert terms.title == "List of Abbreviations"  # the head as printed in this volume
    assert len(terms.paragraphs) == 45 and {p.kind for p in terms.paragraphs} == {"term"}
    cia = next(p for p in terms.paragraphs if p.label == "t_CIA1")
    assert cia.text == "CIA, Central Intelligence Agency"
    assert format_citation(terms, cia).startswith("FRUS 1955–57, vol. XXIV, List of Abbreviations, CIA")


def test_every_person_a_document_mentions_is_in_the_list_of_persons():
    found = documents(FRONT)
    listed = {p.label for p in found[f"{VOLUME}-persons"].paragraphs}
    mentioned = found[f"{VOLUME}-d2"].extra["persons"]
    assert mentioned[:3] == ["p_GSE1", "p_CR2", "p_EDD1"]  # in order of first mention
    assert len(mentioned) == 17 and set(mentioned) <= listed
    assert found[f"{VOLUME}-d2"].extra["terms"] == ["t_NSC1", "t_SS1", "t_IDEA1"]


# --- chapters, attachments, front and back matter ----------------------------------------------


def test_each_document_records_its_chapter_and_compilation():
    for path in (FRONT, CHAPTER):
        historical = [d for d in reading(path).documents if "doc_number" in d.extra]
        assert {d.extra["chapter"] for d in historical} == {"United States Policy Toward the Soviet Union"}
        assert {d.extra["compilation"] for d in historical} == {"The Soviet Union"}
    nicaragua = reading(NICARAGUA).documents
    assert {d.extra["compilation"] for d in nicaragua} == {"Affairs at Bluefields"}
    assert not any("chapter" in d.extra for d in nicaragua)


def test_a_note_on_the_chapter_head_is_the_first_documents_note_one():
    first = documents(CHAPTER)[f"{VOLUME}-d1"]
    note = next(p for p in first.paragraphs if p.kind == "footnote")
    assert note.text == "Continued from Foreign Relations, 1952–1954, vol. VIII, pp. 954 ff."
    assert format_citation(first, note) == "FRUS 1955–57, vol. XXIV, doc. 1, n. 1, p. 1"


def test_attachments_stay_with_their_document_in_a_section_cited_as_the_attachment():
    found = documents(NICARAGUA)
    assert list(found) == [f"frus1894Nicaragua-d{n}" for n in range(1, 7)]  # no document of their own
    doc = found["frus1894Nicaragua-d2"]
    enclosed = [p for p in body(doc) if p.section_id != "body"]
    assert enclosed[0].section_title == "Inclosure: Mr. Herbert to Mr. Gresham"
    assert enclosed[0].text.startswith("Sir: I have the honor to submit")
    assert format_citation(doc, enclosed[0]) == "FRUS 1894, Nicaragua, doc. 2, Inclosure para. 1, p. 10"
    assert doc.extra["attachments"][0]["header"] == ["[Inclosure in No. 2.]"]
    assert doc.extra["attachments"][0]["sender"] == "Herbert"
    listed = next(p for p in body(found["frus1894Nicaragua-d6"]) if p.label == "1.")
    assert format_citation(found["frus1894Nicaragua-d6"], listed) == "FRUS 1894, Nicaragua, doc. 6, Inclosure ¶1, p. 14"


def test_attachments_with_label_heads_are_cited_by_them_and_repeated_kinds_are_numbered(tmp_path):
    path = write(tmp_path, HEADER + """
      <div type="document" xml:id="d7" n="7" subtype="historical-document">
        <head>7. Memorandum</head><p>See the tabs.</p>
        <frus:attachment><head>Tab A</head><list><label>1.</label><item>First point.</item></list></frus:attachment>
        <frus:attachment><head>Paper Prepared in the Department of State</head><p>One.</p></frus:attachment>
        <frus:attachment><head>Paper Prepared by the Joint Staff</head><p>Two.</p></frus:attachment>
      </div>""" + FOOTER)
    [doc] = read_volume(path).documents
    cited = [format_citation(doc, p) for p in body(doc)]
    assert cited == [
        "FRUS 1969–76, vol. I, doc. 7, para. 1, p. 5",
        "FRUS 1969–76, vol. I, doc. 7, Tab A ¶1, p. 5",
        "FRUS 1969–76, vol. I, doc. 7, Attachment 1 para. 1, p. 5",
        "FRUS 1969–76, vol. I, doc. 7, Attachment 2 para. 1, p. 5",
    ]
    assert [a["title"] for a in doc.extra["attachments"]] == [
        "Tab A", "Attachment 1: Paper Prepared in the Department of State", "Attachment 2: Paper Prepared by the Joint Staff",
    ]


def test_front_and_back_matter_stay_out_of_the_passages_but_are_accounted_for():
    front = reading(FRONT)
    texts = " ".join(p.text for d in front.documents for p in d.paragraphs)
    assert "constitutes the official record" not in texts  # the preface
    assert "Conference Files: Lot 60 D 627" not in texts and "Bohlen Files" not in texts  # sources
    skipped = front.coverage.skipped
    for reason in ("TEI header", "title page", "preface", "table of contents", "list of sources", "list of short titles"):
        assert skipped[reason] > 0, reason
    chapter = reading(CHAPTER)
    assert not any("Adams, John Quincy" in p.text for d in chapter.documents for p in d.paragraphs)
    assert chapter.coverage.skipped["back-of-book index"] > 50


def fixture_files() -> list[Path]:
    return sorted(DATA.glob("*.xml")) + sorted(SHARED.glob("*.xml"))


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_word_of_each_tei_file_is_in_a_passage_in_metadata_or_skipped_with_a_reason(path):
    coverage = read_volume(path).coverage
    assert coverage.kept_share >= 0.99, coverage.warning()
    assert coverage.lost_words == 0, coverage.first_lost
    assert coverage.passage_words > coverage.metadata_words


def test_front_matter_not_read_shows_as_lost(monkeypatch):
    monkeypatch.setattr(tei_lists, "read_matter", lambda *args: ([], []))
    coverage = read_volume(FRONT).coverage
    assert coverage.kept_share < 0.99 and coverage.lost_words > 1000
    assert coverage.first_lost.startswith("Foreign Relations of the United States 1955–1957")  # the title page
    assert "words were lost" in coverage.warning()


def test_a_closer_not_kept_shows_as_lost(monkeypatch):
    monkeypatch.setattr(tei_document.DocumentReader, "_closer", lambda self, element: None)
    coverage = read_volume(CHAPTER).coverage
    assert coverage.first_lost == "Fisher Howe"  # the signature of d10
    assert coverage.lost_words == 4  # Fisher Howe, Hoover, Bohlen


def test_text_outside_any_document_is_lost_and_an_ornament_is_skipped(tmp_path):
    path = write(tmp_path, HEADER + """<div type="chapter"><head>Chapter</head>
      <p>A stray paragraph between documents.</p>
      <div type="document" n="1"><head>1. Note</head><p>Text.</p><p rend="center">* * *</p><p>More.</p></div>
      </div>""" + FOOTER)
    coverage = read_volume(path).coverage
    assert coverage.first_lost.startswith("A stray paragraph between documents. 1. Note")
    assert coverage.lost_words == 5
    assert coverage.skipped["ornament"] == 3


# --- who, to whom, how classified, pointing where -------------------------------------------------


def test_sender_and_recipient_come_from_the_head_where_marked():
    chapter = documents(CHAPTER)
    assert (chapter[f"{VOLUME}-d16"].extra["sender"], chapter[f"{VOLUME}-d16"].extra["recipient"]) == (
        "Embassy in the Soviet Union", "Department of State",
    )
    assert "sender" not in chapter[f"{VOLUME}-d10"].extra  # its head names Howe and Hoover, unmarked
    [telegram] = reading(LONG_TELEGRAM).documents
    assert (telegram.extra["sender"], telegram.extra["recipient"]) == ("Kennan", "Secretary of State")
    nicaragua = documents(NICARAGUA)["frus1894Nicaragua-d3"]
    assert (nicaragua.extra["sender"], nicaragua.extra["recipient"]) == ("Baker", "Gresham")


def test_classification_comes_from_the_source_note_or_the_opener():
    chapter = documents(CHAPTER)
    assert chapter[f"{VOLUME}-d10"].extra["classification"] == "Confidential"
    assert chapter[f"{VOLUME}-d15"].extra["classification"] == "Top Secret"
    assert documents(FRONT)[f"{VOLUME}-d2"].extra["classification"] == "Top Secret"
    assert reading(LONG_TELEGRAM).documents[0].extra["classification"] == "Secret"  # opener: "secret"
    assert "classification" not in chapter[f"{VOLUME}-d12"].extra  # an editorial note


def test_cross_references_are_resolved_to_documents_and_pages():
    d2 = documents(FRONT)[f"{VOLUME}-d2"]
    refs = {(r.get("volume"), r.get("document"), r.get("page")): r for r in d2.extra["refs"]}
    assert refs[("frus1955-57v24", 4, None)]["text"] == "Document 4"
    assert refs[("frus1955-57v24", 4, None)]["url"] == "https://history.state.gov/historicaldocuments/frus1955-57v24/d4"
    assert refs[("frus1952-54v05p2", None, 1294)]["text"] == "Foreign Relations, 1952–1954, vol. V, Part 2, pp. 1294"
    assert ("frus1955-57v19", None, None) in refs  # a whole volume
    chapter = documents(CHAPTER)
    assert chapter[f"{VOLUME}-d1"].extra["refs"][0] | {"text": ""} == {
        "volume": "frus1952-54v08", "page": 954, "text": "",
        "url": "https://history.state.gov/historicaldocuments/frus1952-54v08/pg_954",
    }
    assert [(r["volume"], r["document"]) for r in chapter[f"{VOLUME}-d16"].extra["refs"]] == [("frus1955-57v24", 15)]
    assert [r["page"] for r in chapter[f"{VOLUME}-d12"].extra["refs"]] == [216]


# --- the Long Telegram, fragments, and bad files ------------------------------------------------


def test_the_long_telegram_cites_the_bornholm_paragraph_by_part_and_label():
    [telegram] = reading(LONG_TELEGRAM).documents
    bornholm = next(p for p in telegram.paragraphs if "Bornholm" in p.text)
    assert format_citation(telegram, bornholm) == "FRUS 1946, vol. VI, doc. 475, Part 3 ¶(b), pp. 701–702"


def bare_fragment() -> str:
    """The Long Telegram's div alone, as TEIdy ships it: no namespaces, ``frus:`` undeclared."""
    text = LONG_TELEGRAM.read_text(encoding="utf-8")
    start = text.index('<div type="document"')
    return text[start : text.rindex("</div>") + len("</div>")] + "\n"


def test_a_fragment_without_namespace_declarations_is_read_with_exact_offsets(tmp_path):
    path = write(tmp_path, bare_fragment(), "frus1946v06-d475.xml")
    [telegram] = read_volume(path).documents
    bornholm = next(p for p in telegram.paragraphs if "Bornholm" in p.text)
    assert format_citation(telegram, bornholm) == "FRUS 1946, vol. VI, doc. 475, Part 3 ¶(b), pp. 701–702"
    assert telegram.date == "1946-02-22"  # frus:doc-dateTime-min is read although undeclared
    text = path.read_text(encoding="utf-8")
    assert text[bornholm.start : bornholm.end].startswith("<item>") and "Bornholm" in text[bornholm.start : bornholm.end]
    assert read_volume(path).coverage.lost_words == 0


def test_a_tei_file_using_frus_attachment_without_declaring_frus_is_read(tmp_path):
    xml = HEADER.replace(' xmlns:frus="http://history.state.gov/frus/ns/1.0"', "") + """
      <div type="document" n="3"><head>3. Letter</head><p>Text.</p>
      <frus:attachment><head>Enclosure</head><p>Enclosed text.</p></frus:attachment></div>""" + FOOTER
    [doc] = read_volume(write(tmp_path, xml)).documents
    assert [p.section_title for p in body(doc)] == ["", "Enclosure"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("<rss><channel><item>news</item></channel></rss>", r"not a TEI file \(its root element is <rss>"),
        (HEADER + "<div type='chapter'><head>Empty</head><p>x</p></div>" + FOOTER, "no FRUS documents"),
        (HEADER + "<div type='document' n='1'><p>unclosed</div>" + FOOTER, "not well-formed XML at line 7"),
        ('<?xml version="1.0"?>\n<!DOCTYPE TEI [<!ENTITY x "y">]>\n<TEI><text/></TEI>', "line 2: DOCTYPE and ENTITY"),
        ("<TEI><text><body><div type='document'><tei:p>x</tei:p></div></body></text></TEI>", "unbound prefix"),
    ],
    ids=["not-tei", "no-documents", "not-well-formed", "doctype", "unknown-prefix"],
)
def test_bad_files_give_one_line_corpus_errors_naming_the_file(tmp_path, content, message):
    path = write(tmp_path, content, "bad.xml")
    with pytest.raises(CorpusError) as error:
        read_volume(path)
    text = str(error.value)
    assert text.startswith(f"{path}: ") and "\n" not in text
    assert re.search(message, text), text


def test_a_chapter_cut_from_a_volume_is_read_as_a_fragment(tmp_path):
    text = CHAPTER.read_text(encoding="utf-8")
    start, end = text.index('<div type="chapter"'), text.index("                </div>\n            </div>\n        </body>")
    fragment = "\ufeff<!-- cut from a volume; a <div> named in a comment -->\n" + text[start:end] + "                </div>\n"
    path = write(tmp_path, fragment, "frus1955-57v24-ch1.xml")
    read = read_volume(path)
    assert [d.id for d in read.documents][:2] == [f"{VOLUME}-d1", f"{VOLUME}-d10"]
    assert {d.extra["chapter"] for d in read.documents} == {"United States Policy Toward the Soviet Union"}
    d10 = read.documents[1]
    assert format_citation(d10, body(d10)[1]) == "FRUS 1955–57, vol. XXIV, doc. 10, para. 2, pp. 30–31"
    assert read.coverage.lost_words == 0
