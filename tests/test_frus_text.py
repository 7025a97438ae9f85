"""The plain-text FRUS volume reader, checked the way a historian checks a citation.

The real volume (FRUS 1961–63 vol. V, tests/data/frus1961-63v05.txt, verbatim) is read once;
small generated volumes check that no word is ever lost, whatever the layout.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from cwqa.documents import format_citation
from cwqa.readers.frus_index import document_pages, short_name
from cwqa.readers.frus_text import INDEX_SKIP, looks_like_volume, read_text_volume
from cwqa.text import word_count

ROOT = Path(__file__).resolve().parents[1]
VOLUME = ROOT / "tests" / "data" / "frus1961-63v05.txt"
SEEDS = [ROOT / "corpus" / "000_c4af6ddfc8abae36.txt", ROOT / "corpus" / "004_f76ce0a354435b07.txt"]


@pytest.fixture(scope="module")
def text() -> str:
    return VOLUME.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def reading(text):
    return read_text_volume(VOLUME, text, None)


@pytest.fixture(scope="module")
def docs(reading):
    return {document.source["document"]: document for document in reading.documents}


def body(document):
    return [p for p in document.paragraphs if p.kind == "body"]


# ---------------------------------------------------------------------------------------------
# The real volume


def test_the_volume_has_its_390_documents_numbered_in_order(reading):
    numbers = [d.source["document"] for d in reading.documents]
    assert numbers == list(range(1, 391))
    assert [d.id for d in reading.documents][:2] == ["frus1961-63v05-d1", "frus1961-63v05-d2"]
    assert sum(d.source["subtype"] == "editorial-note" for d in reading.documents) == 130


def test_titles_do_not_keep_the_glued_source_marker(reading, docs):
    assert not [d.title for d in reading.documents if d.title.endswith("Source")]
    assert docs[9].title == "Telegram From the Embassy in the Soviet Union to the Department of State"
    assert docs[5].title == "Editorial Note"


def test_doc_41_is_cited_with_its_number_and_printed_pages(docs):
    document = docs[41]
    citation = format_citation(document, body(document)[0])
    assert "doc. 41" in citation and "pp. 92–93" in citation
    assert citation.endswith("— FRUS 1961–63, vol. V, doc. 41")
    assert document.source["pages"] == [92, 93]
    assert document.url == "https://history.state.gov/historicaldocuments/frus1961-63v05/d41"


def test_doc_41_date_and_place_come_from_its_dateline(docs):
    # The file prints "Moscow, March 10, 1961, 10 a.m." under the heading of document 41.
    document = docs[41]
    assert (document.date, document.place) == ("1961-03-10", "Moscow")
    assert document.extra["dateline"] == "Moscow, March 10, 1961, 10 a.m."
    assert document.extra["time"] == "10 a.m."


def test_editorial_notes_have_no_invented_date(docs):
    assert docs[5].date == "" and docs[5].source["subtype"] == "editorial-note"
    assert "Department of Defense study" in body(docs[5])[0].text


def test_text_after_part_ii_of_document_8_is_in_passages(text, docs):
    document = docs[8]
    start = text.index("PART II", text.index("8. Current Intelligence Weekly Review"))
    after = [p for p in body(document) if p.start > start]
    assert after and after[0].text.startswith("The USSR last week used propaganda charges")
    assert "PART II" in after[0].section_title
    assert any(p.text.startswith("Press reports of the full text of Khrushchev") for p in after)
    assert document.extra["notices"] == ["[1 paragraph (10 lines of 2-column source text) not declassified]"]


def test_glued_footnote_numbers_are_removed_only_where_a_footnote_exists(docs):
    note = next(p for p in body(docs[8]) if "subsequent note to the US on 14 January" in p.text)
    assert "14 January probably" in note.text
    footnote = next(p for p in docs[8].paragraphs if p.kind == "footnote" and p.label == "1")
    assert footnote.anchor_id == note.id and footnote.text.startswith("For text of the Soviet note")
    assert any("8.6 percent" in p.text for p in body(docs[1]))  # a number, not a footnote mark


def test_source_note_and_footnotes_are_searchable_passages(docs):
    kinds = [p.kind for p in docs[41].paragraphs]
    assert kinds[0] == "heading" and kinds.count("source-note") == 1 and kinds.count("footnote") == 2
    source = next(p for p in docs[41].paragraphs if p.kind == "source-note")
    assert source.text == "Department of State, Central Files, 611.61/3-1061. Secret; Priority."
    assert "source note" in format_citation(docs[41], source)


def test_telegram_sender_recipient_classification_and_signature(docs):
    extra = docs[41].extra
    assert (extra["sender"], extra["recipient"]) == ("Embassy in the Soviet Union", "Department of State")
    assert extra["classification"] == "Secret"
    assert extra["archive"] == "Department of State, Central Files, 611.61/3-1061"
    assert extra["signature"] == "Thompson"


def test_memorandum_sender_is_not_split_at_ambassador_to(docs):
    extra = docs[175].extra
    assert extra["sender"] == "Ambassador to the Soviet Union (Thompson)"
    assert extra["recipient"] == "Secretary of State Rusk"
    assert extra["classification"] == "Top Secret"


def test_memorandum_of_conversation_keeps_subject_and_participants_in_its_heading(docs):
    document = docs[47]
    assert document.extra["subject"] == "U.S.-Soviet Relations, etc."
    assert "Mr. Andrei Gromyko, Minister of Foreign Affairs of the USSR" in document.extra["participants"]
    assert "Participants: The Secretary; Under Secretary Bowles" in document.paragraphs[0].text
    assert body(document)[0].text.startswith("During the luncheon")


def test_numbered_paragraphs_keep_their_labels_and_do_not_start_documents(docs):
    labels = [p.label for p in body(docs[1])]
    assert labels[:1] == [""] and "2." in labels and "21." in labels
    assert any(p.text.startswith("41. In general, however") for p in body(docs[6]))


def test_coverage_keeps_every_body_word_and_reports_the_index(reading, text):
    coverage = reading.coverage
    assert coverage.source_words == word_count(text) == 407601
    assert coverage.kept_share >= 0.99 and coverage.lost_words == 0
    assert coverage.skipped[INDEX_SKIP] > 50000
    assert coverage.warning() is None
    assert coverage.guessed == ("volume frus1961-63v05 from the file name",)


def test_every_paragraph_span_holds_its_first_word(reading, text):
    for document in reading.documents:
        for paragraph in document.paragraphs:
            first = paragraph.text.split()[0]
            assert first in text[paragraph.start : paragraph.end], paragraph.id


def test_body_paragraphs_carry_the_document_page_range(docs):
    assert {(p.first_page, p.last_page) for p in docs[41].paragraphs if p.kind != "heading"} == {(92, 93)}


def test_looks_like_volume_only_for_volumes(text):
    assert looks_like_volume(text)
    for seed in SEEDS:
        assert not looks_like_volume(seed.read_text(encoding="utf-8")), seed.name
    listing = "Things to pack\n\n1. Passport\n\n2. Tickets\n\n3. Warm coat\n\nThat is all.\n"
    assert not looks_like_volume(listing)


# ---------------------------------------------------------------------------------------------
# Volume names and page notes


def test_volume_short_names_from_ids():
    assert short_name("frus1961-63v05") == "FRUS 1961–63, vol. V"
    assert short_name("frus1946v06") == "FRUS 1946, vol. VI"
    assert short_name("frus1969-76v14p2") == "FRUS 1969–76, vol. XIV, pt. 2"
    assert short_name("soviet-notes") is None


def test_index_notes_with_three_documents_give_each_its_page():
    index = "Abel, 343 [Pg. 343 includes portions of Doc. 140 and Doc. 141], 364 [Pg. 364 includes portions of Doc. 152, Doc. 153, and Doc. 154]"
    pages = document_pages(index)
    assert pages[141] == (343, 343) and pages[153] == (364, 364) and pages[154] == (364, 364)


# ---------------------------------------------------------------------------------------------
# Generated volumes

WORDS = "soviet policy embassy treaty talks moscow berlin ambassador premier agreement missile test".split()


def make_volume(numbers, paragraphs=2, footnotes=1, words=8) -> str:
    """A small volume laid out like the real export, with numbered paragraphs that use the next
    document's number, glued footnote marks, sub-headings, a rule, notes and a back index."""
    out = ["\n\n"]
    for k, n in enumerate(numbers):
        editorial = k % 3 == 2
        out.append(f"{n}. Editorial Note\n\n\n" if editorial else f"{n}. Telegram From the Embassy in the Soviet Union to the Department of StateSource\n\n\nMoscow, March {k + 1}, 1961, 5 p.m.\n\n")
        out.append("Background\n\n")
        for j in range(paragraphs):
            text = " ".join(WORDS[(j + i) % len(WORDS)] for i in range(words))
            mark = "1" if (j == 0 and footnotes and not editorial) else ""
            label = f"{n + 1}. " if j % 2 else ""
            out.append(f"{label}The {text}{mark} ends here.\n\n")
            out.append(f"{n + 1}. Short Numbered Heading\n\n") if j == 0 else None
        if not editorial:
            out.append("Kohler\n\n\n\n* * *\n\n\n\n* Source: Department of State, Central Files, 611.61/3-1061. Secret.\n\n")
            out += [f"{f} Not printed, see telegram {f}.\n\n" for f in range(1, footnotes + 1)]
        out.append("\n\n\n")
    out.append("Index\n\n\nTreaty, 5 [Pg. 5 is part of Doc. 1], 6 [Pg. 6 includes portions of Doc. 1 and Doc. 2]\n")
    return "".join(out)


@hypothesis_settings(max_examples=60, deadline=None)
@given(
    count=st.integers(min_value=3, max_value=7),
    paragraphs=st.integers(min_value=1, max_value=4),
    footnotes=st.integers(min_value=0, max_value=3),
    words=st.integers(min_value=1, max_value=30),
)
def test_generated_volumes_lose_no_word(count, paragraphs, footnotes, words):
    text = make_volume(list(range(1, count + 1)), paragraphs, footnotes, words)
    assert looks_like_volume(text)
    reading = read_text_volume(Path("frus1961-63v05.txt"), text, None)
    coverage = reading.coverage
    assert [d.source["document"] for d in reading.documents] == list(range(1, count + 1))
    assert coverage.lost_words == 0
    assert coverage.passage_words + coverage.metadata_words + sum(coverage.skipped.values()) == coverage.source_words
    assert coverage.source_words == word_count(text)
    assert reading.documents[0].source["pages"] == [5, 6]


def test_a_gap_in_numbering_is_read_reported_and_loses_nothing():
    text = make_volume([1, 2, 3, 5, 6])
    reading = read_text_volume(Path("frus1961-63v05.txt"), text, None)
    assert [d.source["document"] for d in reading.documents] == [1, 2, 3, 5, 6]
    assert reading.coverage.lost_words == 0
    assert any("jumps from 3 to 5" in guess for guess in reading.coverage.guessed)


def test_a_repeated_number_is_kept_as_text_and_reported():
    text = make_volume([1, 2, 3, 3, 4])
    reading = read_text_volume(Path("frus1961-63v05.txt"), text, None)
    assert [d.source["document"] for d in reading.documents] == [1, 2, 3, 4]
    assert reading.coverage.lost_words == 0
    assert any("'3. Telegram From" in guess and "out of sequence after document 3" in guess for guess in reading.coverage.guessed)


def test_metadata_names_the_volume_and_other_file_names_fall_back():
    text = make_volume([1, 2, 3])
    meta = {"id": "frus1961-63v05", "title": "Soviet Union", "source": {"volume_short": "FRUS 1961–1963, Volume V"}}
    named = read_text_volume(Path("volume.txt"), text, meta)
    assert not [guess for guess in named.coverage.guessed if "file name" in guess]
    assert named.coverage.guessed == ("pages unknown for 1 of 3 documents: the index never cites them (first: doc. 3)",)
    assert named.documents[0].source["volume_short"] == "FRUS 1961–1963, Volume V"
    assert named.documents[0].extra["volume_title"] == "Soviet Union"
    other = read_text_volume(Path("Soviet Papers.txt"), text, None)
    assert other.documents[0].id == "soviet-papers-d1" and "url" not in other.documents[0].source
    assert any("file name" in guess for guess in other.coverage.guessed)
    assert re.search(r"doc\. 1$", format_citation(other.documents[0], body(other.documents[0])[0]))
