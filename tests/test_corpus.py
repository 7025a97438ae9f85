"""Parsing the seeds: parts, sections, labels, pages, rejoined page-break splits, metadata, errors."""

from __future__ import annotations

import json
import re

import pytest

from hypothesis import given, settings as hypothesis_settings, strategies as st

from cwqa.corpus import load_corpus, read_corpus, read_text_file
from cwqa.documents import format_citation
from cwqa.errors import CorpusError
from cwqa.readers.source import read_source_text


def body(document):
    return [p for p in document.paragraphs if p.kind == "body"]


def by_id(document, paragraph_id):
    return next(p for p in document.paragraphs if p.id == paragraph_id)


def test_long_telegram_has_preamble_and_five_titled_parts(documents):
    telegram = documents["long-telegram"]
    titles = []
    for paragraph in body(telegram):
        if paragraph.section_title not in titles:
            titles.append(paragraph.section_title)
    assert titles[0] == "Preamble"
    assert [t.split(":")[0] for t in titles[1:]] == ["Part 1", "Part 2", "Part 3", "Part 4", "Part 5"]
    assert titles[2] == "Part 2: Background of Outlook"


def test_multiline_bold_part_4_heading_is_one_clean_title(documents):
    part4 = next(p for p in documents["long-telegram"].paragraphs if p.section_id == "part-4")
    assert part4.section_title.startswith("Part 4: Following May Be Said as to What We May Expect")
    assert part4.section_title.endswith("Accepts No Responsibility")
    assert "*" not in part4.section_title and "\n" not in part4.section_title


def test_ocr_noise_is_cleaned_in_part_5_title_but_source_keeps_it(documents):
    telegram = documents["long-telegram"]
    part5 = next(p for p in telegram.paragraphs if p.section_id == "part-5")
    assert part5.section_title == "Part 5: Practical Deductions from Standpoint of US Policy"
    assert "IPRACTICAL DEDUCTIONS FROM STANDPOINT OF US POLICYI" in read_source_text(telegram.path)


def test_part_3_has_lettered_paragraphs_a_to_h(documents):
    labels = [p.label for p in body(documents["long-telegram"]) if p.section_id == "part-3" and p.label]
    assert labels == [f"({letter})" for letter in "abcdefgh"]


def test_preamble_keeps_the_five_subject_list(documents):
    first = body(documents["long-telegram"])[0]
    assert first.section_id == "preamble"
    for subject in ("(1) Basic features of post-war Soviet outlook.", "(5) Practical deductions from standpoint of US policy."):
        assert subject in first.text


def test_stalin_quotation_stays_with_its_paragraph(documents):
    paragraph = by_id(documents["long-telegram"], "long-telegram/part-1/a")
    assert paragraph.text.startswith("(a) USSR still lives in antagonistic")
    assert "Battle between these two centers for command of world economy" in paragraph.text


def test_page_break_splits_are_rejoined(documents):
    paragraph = by_id(documents["long-telegram"], "long-telegram/part-1/c")
    assert "capitalist wars between two capitalist states, and wars of intervention" in paragraph.text
    # Every block of the telegram that ends mid-sentence was joined to its continuation.
    for p in body(documents["long-telegram"]):
        assert not p.text[:1].islower(), p.id


def test_repeated_labels_get_distinct_ids_and_say_which_list(documents):
    telegram = documents["long-telegram"]
    second = by_id(telegram, "long-telegram/part-1/a-2")
    assert second.text.startswith("(a) Everything must be done")
    assert "second list" in format_citation(telegram, second)
    ids = [p.id for p in telegram.paragraphs]
    assert len(ids) == len(set(ids))


def test_signature_and_source_note_are_metadata_not_body(documents):
    telegram = documents["long-telegram"]
    assert telegram.extra["signature"] == "KENNAN"
    assert "pp. 696-709" in telegram.extra["source_note"]
    assert not any("KENNAN" == p.text or "digicoll" in p.text for p in telegram.paragraphs)


def test_long_telegram_paragraphs_cite_the_printed_page_range(documents):
    for paragraph in body(documents["long-telegram"]):
        assert (paragraph.first_page, paragraph.last_page) == (696, 709)


def test_nsc_5607_sections_include_the_unheaded_objectives(documents):
    sections = []
    for paragraph in body(documents["nsc-5607"]):
        if paragraph.section_label not in sections:
            sections.append(paragraph.section_label)
    assert sections == ["General Considerations", "Policy Conclusions", "Objectives", "Courses of Action"]
    objectives = [p for p in body(documents["nsc-5607"]) if p.section_label == "Objectives"]
    assert [p.text.split()[1] for p in objectives] == ["increase", "encourage", "stimulate", "stimulate", "stimulate"]


def test_nsc_5607_paragraphs_carry_printed_numbers_1_to_17(documents):
    labels = [p.label for p in body(documents["nsc-5607"])]
    assert labels[0] == "1." and labels[-1] == "17."
    assert [label for label in labels if "." in label[:-1]] == ["1.a.", "1.b."]


def test_nsc_5607_page_markers_land_on_the_right_paragraphs(documents):
    nsc = documents["nsc-5607"]
    pages = {p.label: (p.first_page, p.last_page) for p in body(nsc)}
    assert pages["8."] == (243, 244)  # before any marker: the range up to the first marker
    assert pages["9."] == (244, 245)  # "[Page 245]" falls inside it
    assert pages["10."] == (245, 245)
    assert pages["15."] == (245, 245)
    assert pages["16."] == (246, 246)  # after the "[Page 246]" line
    assert all("[Page" not in p.text for p in nsc.paragraphs)


def test_footnote_markers_are_removed_from_text(documents):
    nsc = documents["nsc-5607"]
    courses = next(p for p in body(nsc) if p.label == "16.")
    assert "proposal (attached) as submitted" in courses.text
    heading = next(p for p in nsc.paragraphs if p.kind == "heading")
    assert heading.text.startswith("104. National Security Council Report /")


def test_citations_name_document_section_paragraph_and_page(documents):
    telegram, nsc = documents["long-telegram"], documents["nsc-5607"]
    assert format_citation(telegram, by_id(telegram, "long-telegram/part-3/b")) == (
        'Kennan, "Long Telegram", 22 Feb 1946, Part 3 ¶(b), pp. 696–709 — FRUS 1946, vol. VI, doc. 475'
    )
    assert format_citation(nsc, by_id(nsc, "nsc-5607/policy-conclusions/9")) == (
        "NSC 5607, 29 Jun 1956, Policy Conclusions ¶9, pp. 244–245 — FRUS 1955–57, vol. XXIV, doc. 104"
    )


def test_offsets_point_at_the_paragraph_in_the_source_file(documents):
    for document in documents.values():
        source = read_source_text(document.path)
        for paragraph in document.paragraphs:
            # Compare with the printed page markers and glued footnote numbers taken out.
            raw = re.sub(r"\[Page \d+\]|(?<=[A-Za-z)])\d(?=\s)", " ", source[paragraph.start : paragraph.end])
            span = " ".join(raw.split())
            words = paragraph.text.replace(" / ", " ").split()
            assert " ".join(words[1:6]) in span, paragraph.id
            assert span.endswith(words[-1].rstrip("0123456789")) or words[-1] in span, paragraph.id


# -- bad input ------------------------------------------------------------------------------------


def test_file_that_is_not_utf8_is_named_in_the_error(corpus_copy):
    (corpus_copy / "000_c4af6ddfc8abae36.txt").write_bytes("Kennan \xe9t\xe9".encode("latin-1"))
    with pytest.raises(CorpusError, match=r"000_c4af6ddfc8abae36\.txt: not UTF-8"):
        load_corpus(corpus_copy)


def test_empty_file_is_named_in_the_error(corpus_copy):
    (corpus_copy / "004_f76ce0a354435b07.txt").write_text("  \n\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"004_f76ce0a354435b07\.txt: the file is empty"):
        load_corpus(corpus_copy)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"title": ""}, "field 'title' is missing or empty"),
        ({"date": "22 Feb 1946"}, "field 'date' must be YYYY, YYYY-MM or YYYY-MM-DD"),
        ({"id": "Long Telegram"}, "field 'id' must be lowercase"),
        ({"source": {"pages": [709, 696]}}, "field 'source.pages'"),
    ],
)
def test_bad_metadata_names_the_file_and_field(corpus_copy, change, message):
    meta_path = corpus_copy / "000_c4af6ddfc8abae36.meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta.update(change)
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(CorpusError, match="000_c4af6ddfc8abae36.meta.json: " + message.replace("(", r"\(")):
        load_corpus(corpus_copy)


def test_metadata_that_is_not_json_gives_its_line(corpus_copy):
    (corpus_copy / "004_f76ce0a354435b07.meta.json").write_text('{"id": "nsc-5607",\n oops}', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"004_f76ce0a354435b07\.meta\.json: not valid JSON \(line 2"):
        load_corpus(corpus_copy)


def test_a_text_file_without_metadata_is_read_and_what_was_guessed_is_said(corpus_copy):
    (corpus_copy / "000_c4af6ddfc8abae36.meta.json").unlink()
    corpus = read_corpus(corpus_copy)
    guessed = next(c for c in corpus.coverage if c.path.endswith("000_c4af6ddfc8abae36.txt"))
    assert any("from the file name" in g for g in guessed.guessed)
    assert any("from the first line" in g for g in guessed.guessed)
    document = next(d for d in corpus.documents if d.path.name == "000_c4af6ddfc8abae36.txt")
    assert document.id == "000-c4af6ddfc8abae36"
    assert guessed.kept_share >= 0.99


def test_a_binary_file_renamed_txt_is_refused_by_name(corpus_copy):
    (corpus_copy / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(CorpusError, match=r"photo\.txt: not a text file"):
        load_corpus(corpus_copy)


def test_a_file_of_control_characters_is_refused_by_name(corpus_copy):
    (corpus_copy / "noise.txt").write_text("\x01\x02\x03\x04 abc " * 200, encoding="utf-8")
    with pytest.raises(CorpusError, match=r"noise\.txt: mostly not text"):
        load_corpus(corpus_copy)


# -- nothing lost: every word of every file is in a passage, in metadata, or skipped with a reason --


def test_every_word_of_the_seeds_is_in_a_passage_or_metadata(corpus_dir):
    corpus = read_corpus(corpus_dir)
    for coverage in corpus.coverage:
        assert coverage.lost_words == 0, coverage.first_lost
        assert coverage.warning() is None
        assert coverage.passage_words + coverage.metadata_words == coverage.source_words
    telegram = next(c for c in corpus.coverage if c.path.endswith("000_c4af6ddfc8abae36.txt"))
    # The signature and the source note are metadata, not lost and not passages.
    assert telegram.metadata_words > 0


def test_lost_text_is_a_warning_that_names_the_file_and_the_first_lost_words(tmp_path):
    from cwqa.documents import Coverage

    coverage = Coverage("corpus/x.txt", 1, 3, source_words=1000, passage_words=900, metadata_words=0,
                        lost_words=100, first_lost="PART II The Soviet economy")
    warning = coverage.warning()
    assert "corpus/x.txt" in warning and "90.0%" in warning and "PART II The Soviet economy" in warning


_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFG.,;:()'\"-0123456789", min_size=1, max_size=12)
_LINE = st.lists(_WORDS, min_size=1, max_size=30).map(" ".join)


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_LINE, st.integers(min_value=1, max_value=3)), min_size=1, max_size=25))
def test_any_plain_text_file_loses_no_word(tmp_path_factory, blocks):
    folder = tmp_path_factory.mktemp("generated")
    text = "".join(line + "\n" * gap for line, gap in blocks)
    if not text.strip():
        return
    path = folder / "generated.txt"
    path.write_text(text, encoding="utf-8")
    coverage = read_text_file(path).coverage
    assert coverage.source_words == len(text.split())
    assert coverage.lost_words == 0, coverage.first_lost
    assert coverage.passage_words + coverage.metadata_words + sum(coverage.skipped.values()) == coverage.source_words


def test_duplicate_document_ids_are_refused(corpus_copy):
    meta_path = corpus_copy / "004_f76ce0a354435b07.meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["id"] = "long-telegram"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(CorpusError, match="document id 'long-telegram' is already used"):
        load_corpus(corpus_copy)


def test_utf16_text_is_refused_by_name_and_a_utf8_byte_order_mark_is_harmless(corpus_copy):
    (corpus_copy / "memo.txt").write_bytes("Memo\n\nThe talks resumed.\n".encode("utf-16"))
    with pytest.raises(CorpusError, match=r"memo\.txt: UTF-16 text; save it as UTF-8"):
        load_corpus(corpus_copy)
    (corpus_copy / "memo.txt").write_bytes("\ufeffMemo\n\nThe talks resumed in Geneva.\n".encode("utf-8"))
    reading = read_text_file(corpus_copy / "memo.txt")
    assert reading.documents[0].title == "Memo" and reading.coverage.lost_words == 0
    assert any("Geneva" in p.text for p in reading.documents[0].paragraphs)
