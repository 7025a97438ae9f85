"""Parsing the seeds: parts, sections, labels, pages, rejoined page-break splits, metadata, errors."""

from __future__ import annotations

import json
import re

import pytest

from cwqa.corpus import format_citation, load_corpus, read_source_text
from cwqa.errors import CorpusError


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


def test_missing_metadata_file_is_reported(corpus_copy):
    (corpus_copy / "000_c4af6ddfc8abae36.meta.json").unlink()
    with pytest.raises(CorpusError, match="no metadata file 000_c4af6ddfc8abae36.meta.json"):
        load_corpus(corpus_copy)


def test_duplicate_document_ids_are_refused(corpus_copy):
    meta_path = corpus_copy / "004_f76ce0a354435b07.meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["id"] = "long-telegram"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(CorpusError, match="document id 'long-telegram' is already used"):
        load_corpus(corpus_copy)
