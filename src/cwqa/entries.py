""""Who was Thompson?" and "What does CoCom stand for?" answered by the volume's own lists first.

A FRUS volume's List of Persons and List of Abbreviations say in one line who someone was or what
an abbreviation stands for ("Thompson, Llewellyn E., … thereafter Ambassador to the Soviet
Union"). In a whole volume, the name is also in hundreds of passages that only mention it ("Ambassador
Thompson reported…"), and those can outrank the one entry that answers. So when a question asks
exactly who someone was or what an abbreviation means, and a list entry prints that name, the
entry is put first. Nothing else is reordered: a question that names no entry is left alone.

The question forms are the plain ones people use ("who was X", "what was X's job", "what position
did X hold", "what did X do", "what does X stand for / mean", "what is (the|a) X"). A name matches
a persons entry when its last word is (one of) the entry's surname words and its other words
are among the entry's names ("Allen Dulles" is "Dulles, Allen W.", not "Dulles, John Foster"); it matches
a terms entry when it is the abbreviation as printed, case aside ("CoCom", "the BIS").
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from typing import Sequence

from .passages import Hit

DEPTH = 20  # entries searched for a name: more than any surname's entries in one volume's list
# Question forms that ask who someone was or what an abbreviation stands for; `name` is asked.
_PERSON_FORMS = (
    r"who (?:was|is|were) (?P<name>.+)",
    r"what (?:was|is) (?P<name>.+?)['’]s? (?:job|role|position|title|post|office)",
    r"what (?:position|post|office|job) did (?P<name>.+?) (?:hold|have)",
    r"what did (?P<name>.+?) do",
)
_TERM_FORMS = (
    r"what (?:does|did) (?:the )?(?P<name>.+?) (?:stand for|mean)",
    r"what (?:is|was|were|are) (?:the |an? )?(?P<name>.+?)",
)
_TAIL = re.compile(r"\s+(?:in|during|from|at) \d{4}$|\s+(?:telegram|telegrams)$")  # "Zhukov in 1955", "a Dulte telegram"
_TITLES = {"mr", "mrs", "sir", "admiral", "general", "gen", "ambassador", "secretary", "president", "senator", "dr", "jr", "ii", "iii"}
_MAX_NAME_WORDS = 4  # "what is the Soviet position on Berlin" names no entry


def _fold(text: str) -> str:
    """Lowercase without accents or punctuation: 'Köprülü' -> 'koprulu', 'Jr.' -> 'jr'."""
    text = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^\w\s-]", "", "".join(c for c in text if not unicodedata.combining(c))).lower().strip()


def asked_name(question: str) -> tuple[str, str] | None:
    """('person' or 'term', the name) when the question asks who someone was or what a term means.

    'who was Admiral Radford?' -> ('person', 'Admiral Radford'); 'what does CoCom stand for' ->
    ('term', 'CoCom'). A 'what is …' question may ask either, so it is tried as a term only.
    """
    text = " ".join(question.strip().rstrip("?.! ").split())
    for kind, forms in (("person", _PERSON_FORMS), ("term", _TERM_FORMS)):
        for form in forms:
            match = re.fullmatch(form, text, re.IGNORECASE)
            if match:
                name = _TAIL.sub("", match.group("name").strip())
                if name and len(name.split()) <= _MAX_NAME_WORDS:
                    return kind, name
    return None


def names_person(name: str, label: str) -> bool:
    """Whether an asked name is the person a persons entry prints ('Thompson' and 'Thompson,
    Llewellyn E.'; 'Allen Dulles' and 'Dulles, Allen W.'; titles such as 'Admiral' aside)."""
    words = _words(name)
    surname, _, given = label.partition(",")
    surname_words, given_words = set(_words(surname)), set(_words(given))
    # The last word asked is (one of) the surname's; any other word asked is a name the entry prints.
    return bool(words) and words[-1] in surname_words and all(w in given_words | surname_words for w in words[:-1])


def _words(name: str) -> list[str]:
    """A name's words, folded, without titles and suffixes ('Admiral Radford' -> ['radford'])."""
    return [word for word in _fold(name).replace("-", " ").split() if word not in _TITLES]


def names_term(name: str, label: str) -> bool:
    """Whether an asked name is the abbreviation a terms entry prints ('the BIS' and 'BIS')."""
    return re.sub(r"^(?:the|an?) ", "", _fold(name)) == _fold(label)


def naming_entries(question: str, hits: Sequence[Hit]) -> list[Hit]:
    """The hits that are list entries naming what the question asks about, in their order."""
    asked = asked_name(question)
    if asked is None:
        return []
    kind, name = asked

    def names(hit: Hit) -> bool:
        label = hit.chunk.section_label or hit.chunk.label
        if hit.chunk.kind == "person":  # 'what was Stassen' asks of a person as well as a term
            return names_person(name, label)
        return hit.chunk.kind == "term" and kind == "term" and names_term(name, label)

    return [hit for hit in hits if names(hit)]


def entries_first(hits: Sequence[Hit], entries: Sequence[Hit]) -> list[Hit]:
    """The entries, then the other hits, each once and ranked again from 1 (scores unchanged)."""
    ranked = {hit.chunk.id: hit for hit in hits}
    # An entry the main search found keeps that search's scores; one it missed keeps its own.
    entries = [ranked.get(hit.chunk.id, hit) for hit in entries]
    chosen = {hit.chunk.id for hit in entries}
    ordered = [*entries, *(hit for hit in hits if hit.chunk.id not in chosen)]
    return [dataclasses.replace(hit, rank=rank) for rank, hit in enumerate(ordered, 1)]


def list_documents(documents: Sequence) -> list[str]:
    """The ids of the indexed persons and terms lists (documents whose extra names a list)."""
    return [document.id for document in documents if (document.extra or {}).get("list") in ("persons", "terms")]
