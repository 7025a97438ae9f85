"""The FRUS TEI reader on a verbatim excerpt of FRUS 1955–57 vol. XXIV (documents 104–108).

tests/data/frus1955-57v24-excerpt.xml is a copy of shared/frus/frus1955-57v24-excerpt.xml, so
these tests need nothing outside the repository.
"""

import shutil
from functools import lru_cache
from pathlib import Path

import pytest

from cwqa.corpus import load_corpus
from cwqa.documents import format_citation
from cwqa.errors import CorpusError
from cwqa.readers.tei import read_volume

EXCERPT = Path(__file__).parent / "data" / "frus1955-57v24-excerpt.xml"
VOLUME = "frus1955-57v24"

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<TEI xmlns="http://www.tei-c.org/ns/1.0" xmlns:frus="http://history.state.gov/frus/ns/1.0">
  <teiHeader><fileDesc><titleStmt>
    <title type="series">Foreign Relations of the United States</title>
    <title type="sub-series">1952–1954</title>
    <title type="volume-number">Volume II, Part 1</title>
  </titleStmt><publicationStmt><idno type="frus">frus1952-54v02p1</idno></publicationStmt></fileDesc></teiHeader>
  <text><body><pb n="10"/>
"""
FOOTER = "</body></text></TEI>\n"


@lru_cache(maxsize=1)
def documents():
    return {document.id: document for document in read_volume(EXCERPT).documents}


def document(n: int):
    return documents()[f"{VOLUME}-d{n}"]


def body(n: int):
    return [p for p in document(n).paragraphs if p.kind == "body"]


def footnotes(n: int):
    return [p for p in document(n).paragraphs if p.kind == "footnote"]


def labelled(n: int, label: str):
    return next(p for p in body(n) if p.label == label)


def write_volume(tmp_path: Path, documents_xml: str, name: str = "vol.xml") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + documents_xml + FOOTER, encoding="utf-8")
    return path


# --- documents and their metadata ------------------------------------------------------------


def test_excerpt_gives_one_document_per_document_div_numbered_104_to_108():
    assert list(documents()) == [f"{VOLUME}-d{n}" for n in range(104, 109)]
    assert [d.source["document"] for d in documents().values()] == [104, 105, 106, 107, 108]
    assert all(d.collection == "Foreign Relations of the United States" for d in documents().values())


def test_dates_come_from_the_dateline_and_an_editorial_note_has_none():
    dates = {n: document(n).date for n in range(104, 109)}
    assert dates == {104: "1956-06-29", 105: "1956-07-05", 106: "1956-09-18", 107: "", 108: "1956-11-13"}
    assert document(108).extra["datetime"] == "1956-11-13T19:55:00-05:00"
    assert document(104).place == "Washington"


def test_subtypes_mark_the_editorial_note():
    subtypes = {n: document(n).extra["subtype"] for n in range(104, 109)}
    assert subtypes[107] == "editorial-note"
    assert {subtypes[n] for n in (104, 105, 106, 108)} == {"historical-document"}


def test_a_document_starts_on_the_last_page_break_before_it():
    pages = {n: document(n).source["pages"] for n in range(104, 109)}
    # d105 starts on 246, whose page break sits inside d104.
    assert pages == {104: [243, 246], 105: [246, 249], 106: [250, 252], 107: [252, 253], 108: [253, 254]}


def test_footnote_counts_include_the_source_note():
    counts = {n: document(n).extra["footnote_count"] for n in range(104, 109)}
    assert counts == {104: 2, 105: 3, 106: 4, 107: 0, 108: 4}
    assert [p.label for p in footnotes(104)] == ["1", "2"]


def test_title_is_the_head_without_its_source_note():
    assert document(104).title == "104. National Security Council Report"
    assert document(105).title == (
        "105. Report From the Chief of Staff of the United States Air Force (Twining) to the President"
    )


def test_volume_metadata_and_url():
    source = document(104).source
    assert source["series"] == "Foreign Relations of the United States"
    assert source["volume"] == (
        "Foreign Relations of the United States, 1955–1957, Soviet Union, Eastern Mediterranean, Volume XXIV"
    )
    assert source["url"] == "https://history.state.gov/historicaldocuments/frus1955-57v24/d104"
    assert document(104).citation_name == "FRUS 1955–57, vol. XXIV, doc. 104"
    assert document(104).extra["volume_short"] == "FRUS 1955–57, vol. XXIV"
    assert document(104).extra["volume_id"] == VOLUME


def test_source_note_signature_and_subject_go_to_extra():
    assert document(104).extra["source_note"].startswith("Source: Department of State, S/P–NSC Files: Lot 62 D 1")
    assert document(105).extra["signature"] == "N.F. Twining"
    assert document(108).extra["signature"] == "Hoover"
    assert document(106).extra["subject"] == "Invitation to Soviet Bloc to U.S. Election Campaign"
    assert not any("Twining" == p.text or "SUBJECT" in p.text for p in body(105))


# --- structure of NSC 5607 -------------------------------------------------------------------


def test_nsc_5607_has_numbered_paragraphs_1_to_17_with_lettered_sub_items():
    labels = [p.label for p in body(104)]
    assert labels == ["1.", "1.a.", "1.b."] + [f"{n}." for n in range(2, 18)]


def test_sub_headings_become_sections_and_title_lines_go_to_the_header():
    sections = {p.label: p.section_title for p in body(104)}
    assert sections["1.a."] == "General Considerations"
    assert sections["9."] == "Policy Conclusions"
    assert [sections[f"{n}."] for n in range(11, 16)] == ["Objectives"] * 5
    assert sections["16."] == "Courses of Action"
    assert document(104).extra["header"] == ["NSC 5607", "STATEMENT OF POLICY ON EAST-WEST EXCHANGES"]
    texts = [p.text for p in body(104)]
    assert not any("NSC 5607" in t or "STATEMENT OF POLICY" in t or t == "Objectives" for t in texts)


def test_a_paragraph_crossing_a_page_break_has_both_pages():
    paragraph = labelled(104, "9.")
    assert (paragraph.first_page, paragraph.last_page) == (244, 245)
    assert "seem to be an acceptable" in paragraph.text
    assert (labelled(104, "1.").first_page, labelled(104, "2.").first_page) == (243, 244)


def test_citation_of_nsc_paragraph_9_names_volume_document_paragraph_and_pages():
    citation = format_citation(document(104), labelled(104, "9."))
    assert citation == "FRUS 1955–57, vol. XXIV, doc. 104, ¶9, pp. 244–245"
    assert format_citation(document(104), labelled(104, "1.a.")) == "FRUS 1955–57, vol. XXIV, doc. 104, ¶1.a, p. 243"


def test_footnote_citation_names_the_note_and_its_page():
    note = footnotes(104)[1]
    assert format_citation(document(104), note) == "FRUS 1955–57, vol. XXIV, doc. 104, n. 2, p. 246"


def test_repeated_labels_are_cited_with_their_section():
    # d105 prints three lists numbered from 1: the section tells them apart.
    first = next(p for p in body(105) if p.label == "1." and p.section_title == "Recommendation")
    assert format_citation(document(105), first) == "FRUS 1955–57, vol. XXIV, doc. 105, Recommendation ¶1, p. 249"
    unlabeled = body(105)[0]
    assert format_citation(document(105), unlabeled) == (
        "FRUS 1955–57, vol. XXIV, doc. 105, Purposes of the Visit para. 1, p. 246"
    )


# --- footnotes ---------------------------------------------------------------------------------


def test_footnote_text_is_kept_out_of_body_paragraphs():
    paragraph = labelled(104, "16.")
    assert "the 17-point proposal (attached) as submitted at the Geneva" in paragraph.text
    for n in range(104, 109):
        texts = " ".join(p.text for p in body(n))
        for note in footnotes(n):
            assert note.text not in texts, (n, note.label)


def test_each_footnote_is_a_paragraph_anchored_where_it_is_called():
    note = footnotes(104)[1]
    assert (note.kind, note.label, note.id) == ("footnote", "2", f"{VOLUME}-d104/fn-2")
    assert note.text == "See footnote 4, Document 99."
    assert note.anchor_id == labelled(104, "16.").id
    assert footnotes(108)[2].anchor_id == labelled(108, "2.").id  # a note inside a nested list item


def test_source_note_is_a_retrievable_footnote():
    source = footnotes(104)[0]
    assert source.label == "1"
    assert source.text.startswith("Source: Department of State")
    assert (source.first_page, source.anchor_id) == (243, None)


def test_a_footnote_of_several_paragraphs_is_one_footnote():
    note = next(p for p in footnotes(106) if p.label == "2")
    assert note.text.startswith("According to a memorandum of a telephone conversation")
    assert note.text.endswith("The Sec. thinks he will go ahead.” (Ibid.)")


# --- text, ids and offsets ---------------------------------------------------------------------


def test_inline_elements_give_their_text_and_whitespace_is_collapsed():
    first = body(106)[0]
    assert first.text.startswith("I called by appointment on Governor Adlai E. Stevenson this morning")
    assert "Ambassador Lacy. This letter was" in first.text
    assert all("  " not in p.text and "\n" not in p.text for d in documents().values() for p in d.paragraphs)


def test_paragraph_ids_are_readable_and_unique_within_each_document():
    assert labelled(104, "9.").id == f"{VOLUME}-d104/policy-conclusions/9"
    assert labelled(104, "1.a.").id == f"{VOLUME}-d104/general-considerations/1-a"
    assert body(106)[1].id == f"{VOLUME}-d106/body/p2"
    for d in documents().values():
        ids = [p.id for p in d.paragraphs]
        assert len(ids) == len(set(ids)), d.id
        headed = d.paragraphs[0].kind == "heading"  # the printed heading comes first, as ordinal 0
        assert [p.ordinal for p in d.paragraphs] == list(range(0 if headed else 1, len(ids) + (0 if headed else 1)))


def test_the_printed_heading_is_a_passage_naming_the_document_and_its_date():
    heading = documents()[f"{VOLUME}-d104"].paragraphs[0]
    assert heading.kind == "heading" and heading.id == f"{VOLUME}-d104/heading"
    assert heading.text == "104. National Security Council Report / NSC 5607 / STATEMENT OF POLICY ON EAST-WEST EXCHANGES / Washington, June 29, 1956."
    assert heading.first_page == 243
    memorandum = documents()[f"{VOLUME}-d106"].paragraphs[0]
    assert memorandum.text.count("September 18, 1956") == 1  # the dateline is not repeated
    assert documents()[f"{VOLUME}-d107"].paragraphs[0].kind == "body"  # an editorial note has no heading passage


def test_offsets_are_the_span_of_the_paragraph_element_in_the_file():
    text = EXCERPT.read_text(encoding="utf-8")
    item = labelled(104, "9.")
    span = text[item.start : item.end]
    assert span.startswith("<item>The exchanges should") and span.endswith("field.</item>")
    note = footnotes(104)[1]
    assert text[note.start : note.end].startswith('<note n="2"')
    assert text[note.start : note.end].endswith("</note>")


# --- the corpus folder and bad files -----------------------------------------------------------


def test_load_corpus_reads_a_volume_file_by_its_suffix(tmp_path):
    shutil.copy(EXCERPT, tmp_path / EXCERPT.name)
    loaded = load_corpus(tmp_path)
    assert [d.id for d in loaded] == list(documents())


def test_attachment_paragraphs_form_a_section_named_after_its_head(tmp_path):
    path = write_volume(tmp_path, """
      <div type="document" xml:id="d5" n="5" subtype="historical-document">
        <head>5. Memorandum<note n="1" type="source">Source: Files.</note></head>
        <p>I enclose the paper.</p>
        <closer><signed>John Smith</signed></closer>
        <frus:attachment>
          <head>Enclosure</head>
          <p>First paragraph of the enclosure.</p>
          <pb n="11"/>
          <p rend="flushleft">Details</p>
          <p>Second paragraph.</p>
          <closer><signed>A. Drafter</signed></closer>
        </frus:attachment>
      </div>""")
    [doc] = read_volume(path).documents
    paragraphs = [p for p in doc.paragraphs if p.kind == "body"]
    assert [(p.section_title, p.text) for p in paragraphs] == [
        ("", "I enclose the paper."),
        ("Enclosure", "First paragraph of the enclosure."),
        ("Enclosure — Details", "Second paragraph."),
    ]
    assert paragraphs[2].first_page == 11
    assert doc.extra["signature"] == "John Smith"
    assert doc.extra["attachments"] == [{"title": "Enclosure", "signature": "A. Drafter"}]
    assert doc.citation_name == "FRUS 1952–54, vol. II, pt. 1, doc. 5"


def test_malformed_xml_is_a_corpus_error_naming_file_and_line(tmp_path):
    path = write_volume(tmp_path, '<div type="document" xml:id="d1" n="1">\n<p>unclosed\n</div>\n', "bad.xml")
    with pytest.raises(CorpusError) as error:
        read_volume(path)
    # expat stops at the end tag that does not match: the line of '</div>'.
    line = path.read_text(encoding="utf-8").splitlines().index("</div>") + 1
    assert str(error.value).startswith(f"{path}: not well-formed XML at line {line},")
    assert "mismatched tag" in str(error.value)


def test_a_doctype_with_entities_is_refused(tmp_path):
    path = tmp_path / "entity.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE TEI [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        '<TEI xmlns="http://www.tei-c.org/ns/1.0"><text><body><p>&x;</p></body></text></TEI>\n',
        encoding="utf-8",
    )
    with pytest.raises(CorpusError, match=r"entity\.xml: line 2: DOCTYPE"):
        read_volume(path)


def test_a_file_without_documents_or_not_tei_is_refused(tmp_path):
    with pytest.raises(CorpusError, match="no FRUS documents"):
        read_volume(write_volume(tmp_path, "<div type='chapter'><head>Empty</head></div>"))
    other = tmp_path / "other.xml"
    other.write_text("<rss><channel/></rss>", encoding="utf-8")
    with pytest.raises(CorpusError, match="not a TEI file"):
        read_volume(other)


def test_a_tei_file_with_a_utf8_byte_order_mark_reads_as_without(tmp_path):
    from cwqa.readers.tei import read_volume as read

    source = Path(__file__).parent / "data" / "frus1946v06-d475.xml"
    marked = tmp_path / "frus1946v06-d475.xml"
    marked.write_bytes(b"\xef\xbb\xbf" + source.read_bytes())
    plain, with_mark = read(source), read(marked)
    assert [p.text for d in with_mark.documents for p in d.paragraphs] == [p.text for d in plain.documents for p in d.paragraphs]
    assert with_mark.coverage.lost_words == 0
