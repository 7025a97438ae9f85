"""The step that puts the List of Persons / Abbreviations entry first for "who was …?" and
"what does … stand for?", on the real entries of FRUS 1955–57 vol. XXIV's front matter."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from cwqa.chunking import chunk_documents
from cwqa.entries import asked_name, entries_first, list_documents, names_person, names_term, naming_entries
from cwqa.passages import Hit
from cwqa.readers.tei import read_volume

FRONT = Path(__file__).parent / "data" / "frus1955-57v24-front.xml"


@cache
def front():
    documents = read_volume(FRONT).documents
    return documents, chunk_documents(documents, 160)


def hits_of(*paragraph_ids: str) -> list[Hit]:
    by_id = {chunk.paragraph_id: chunk for chunk in front()[1]}
    return [Hit(rank, 1.0 / rank, by_id[pid], "hybrid", 0.5, 5.0) for rank, pid in enumerate(paragraph_ids, 1)]


@pytest.mark.parametrize("question, asked", [
    ("who was Thompson?", ("person", "Thompson")),
    ("Who was Admiral Radford", ("person", "Admiral Radford")),
    ("what was John Foster Dulles's job", ("person", "John Foster Dulles")),
    ("what position did Bulganin hold", ("person", "Bulganin")),
    ("who was Zhukov in 1955", ("person", "Zhukov")),
    ("what does CoCom stand for", ("term", "CoCom")),
    ("what is a Dulte telegram", ("term", "Dulte")),
    ("What is the NSC?", ("term", "NSC")),
])
def test_the_plain_question_forms_give_the_name_asked(question, asked):
    assert asked_name(question) == asked


@pytest.mark.parametrize("question", [
    "What did Kennan say drives Soviet policy?",
    "what is the Soviet position on Berlin and the access routes",
    "Why did Khrushchev send the letter?",
])
def test_other_questions_ask_no_name(question):
    asked = asked_name(question)
    assert asked is None or not any(
        names_person(asked[1], chunk.section_label) or names_term(asked[1], chunk.section_label)
        for chunk in front()[1] if chunk.kind in ("person", "term")
    )


def test_a_name_matches_only_the_person_it_names():
    assert names_person("Allen Dulles", "Dulles, Allen W.")
    assert not names_person("Allen Dulles", "Dulles, John Foster")
    assert not names_person("Allen Dulles", "Allen, George V.")
    assert names_person("Admiral Radford", "Radford, Admiral Arthur M.")
    assert names_person("Herbert Hoover Jr.", "Hoover, Herbert C., Jr.")
    assert names_person("Makarios", "Makarios III")
    assert names_person("Koprulu", "Köprülü, Mehmet Fuat")
    assert names_term("the BIS", "BIS") and not names_term("BIS", "BBC")


def test_the_entry_naming_the_person_asked_comes_first_and_nothing_else_moves():
    volume = "frus1955-57v24-persons"
    hits = hits_of(f"{volume}/p_BCEC1", f"{volume}/p_DAW1", f"{volume}/p_TLE1", f"{volume}/p_DJF1")
    named = naming_entries("who was Thompson?", hits)
    assert [hit.chunk.label for hit in named] == ["p_TLE1"]
    ordered = entries_first(hits, named)
    assert [hit.chunk.label for hit in ordered] == ["p_TLE1", "p_BCEC1", "p_DAW1", "p_DJF1"]
    assert [hit.rank for hit in ordered] == [1, 2, 3, 4]
    assert "List of Persons" in ordered[0].citation and "FRUS 1955–57, vol. XXIV" in ordered[0].citation
    assert entries_first(hits, naming_entries("why did Dulles go to Geneva?", hits)) == hits


def test_a_terms_entry_is_named_by_its_abbreviation():
    hits = hits_of("frus1955-57v24-terms/t_CIA1", "frus1955-57v24-terms/t_CoCom1")
    assert [hit.chunk.label for hit in naming_entries("What does CoCom stand for?", hits)] == ["t_CoCom1"]


def test_the_lists_are_found_among_the_documents():
    assert sorted(list_documents(front()[0])) == ["frus1955-57v24-persons", "frus1955-57v24-terms"]
