"""The printed apparatus of a FRUS plain-text volume: its back index, its name, and what a
document's title and source note say about it.

A volume is named by its id, ``frus1961-63v05``, from its metadata file or else its file name,
and cited by a short name made from it, ``FRUS 1961–63, vol. V``. Titles name sender and
recipient ("Telegram From the Embassy in the Soviet Union to the Department of State"); source
notes name the archive and the classification ("Department of State, Central Files,
611.61/3-1061. Secret; Priority.").

A plain-text export has no page markers, but its index does say which document each page
belongs to::

    Zorin, Valerian A., 262 [Pg. 262 is part of Doc. 100], 263 [Pg. 263 includes portions of
    Doc. 100 and Doc. 101]

Every such bracket names one page and the documents printed on it, so a document's first and
last printed pages are the lowest and highest pages the index ever gives it. A page that no
index entry mentions is unknown: a document is known only as far as the index cites its pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..text import slug

URL_BASE = "https://history.state.gov/historicaldocuments"
_VOLUME_ID = re.compile(r"frus(\d{4})(?:-(\d{2}|\d{4}))?v(\d{1,3})(?:p(\d{1,2}))?")

# "[Pg. 262 is part of Doc. 100]", "[Pg. 263 includes portions of Doc. 100 and Doc. 101]",
# "[Pg. 364 includes portions of Doc. 152, Doc. 153, and Doc. 154]": any list of "Doc. N".
_PAGE_NOTE = re.compile(r"\[Pg\.\s*(\d+)\s+(?:is\s+part\s+of|includes\s+portions\s+of)\s+([^\]]*)\]", re.IGNORECASE)
_DOC_NUMBER = re.compile(r"\bDoc\.\s*(\d+)", re.IGNORECASE)
_INDEX_HEADING = re.compile(r"^[ \t]*(?:Index|INDEX)[ \t]*$", re.MULTILINE)
_CLASSIFICATION = re.compile(
    r"(?:^|[.;]\s+)(Top Secret|Secret|Confidential|Limited Official Use|Official Use Only|Unclassified"
    r"|No classification marking)\b"
)
_KEEPS_TO = {"Ambassador", "designate", "Mission", "Delegation", "Assistant", "Representative", "Adviser",
             "Advisor", "Counselor", "Envoy", "Minister", "Observer"}  # fmt: skip


def index_start(text: str, after: int) -> int | None:
    """Offset where the back index begins, looking only past `after` (the last document's heading).

    The printed book ends with a line "Index" whose entries carry "[Pg. N ...]" notes; when the
    heading is missing, the index starts at the line holding the first such note.
    """
    for heading in _INDEX_HEADING.finditer(text, after):
        if _PAGE_NOTE.search(text, heading.end(), heading.end() + 5000):
            return heading.start()
    note = _PAGE_NOTE.search(text, after)
    if note is None:
        return None
    return text.rfind("\n", 0, note.start()) + 1


def page_notes(index_text: str) -> list[tuple[int, list[int]]]:
    """Each "[Pg. N ...]" note of the index: the page and the documents it names, in order."""
    notes = []
    for match in _PAGE_NOTE.finditer(index_text):
        documents = [int(number) for number in _DOC_NUMBER.findall(match.group(2))]
        if documents:
            notes.append((int(match.group(1)), documents))
    return notes


def document_pages(index_text: str) -> dict[int, tuple[int, int]]:
    """Document number -> (first page, last page), from every page the index attributes to it."""
    pages: dict[int, tuple[int, int]] = {}
    for page, documents in page_notes(index_text):
        for number in documents:
            first, last = pages.get(number, (page, page))
            pages[number] = (min(first, page), max(last, page))
    return pages


# ---------------------------------------------------------------------------------------------
# The volume's name


@dataclass(frozen=True)
class Volume:
    """A volume's identity: its id, the short name citations use, its title and web address."""

    id: str  # "frus1961-63v05"
    short: str  # "FRUS 1961–63, vol. V"
    title: str
    url: str  # "https://history.state.gov/historicaldocuments/frus1961-63v05", "" when not a FRUS id


def short_name(volume_id: str) -> str | None:
    """'frus1961-63v05' -> 'FRUS 1961–63, vol. V'; 'frus1969-76v14p2' -> '..., vol. XIV, pt. 2'."""
    match = _VOLUME_ID.fullmatch(volume_id)
    if not match:
        return None
    first, last, volume, part = match.groups()
    years = first
    if last:
        last = last[2:] if len(last) == 4 and last[:2] == first[:2] else last
        years += "–" + last
    return f"FRUS {years}, vol. {_roman(int(volume))}" + (f", pt. {int(part)}" if part else "")


def _roman(number: int) -> str:
    numerals = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]  # fmt: skip
    out = ""
    for value, numeral in numerals:
        count, number = divmod(number, value)
        out += numeral * count
    return out


def volume_for(path: Path, meta: dict | None) -> tuple[Volume, list[str]]:
    """The volume's id and names from its metadata file, else guessed from the file name (and said so)."""
    meta = meta or {}
    source = meta.get("source") if isinstance(meta.get("source"), dict) else {}
    guessed: list[str] = []
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    named = str(source.get("volume", ""))
    volume_id = str(meta.get("id") or (named if _VOLUME_ID.fullmatch(named) else ""))
    if not volume_id:
        volume_id = slug(stem) or "volume"
        guessed.append(f"volume {volume_id} from the file name")
    short = source.get("volume_short") or meta.get("citation_name") or short_name(volume_id)
    if not short:
        short = stem
        guessed.append(f"short name {short!r} from the file name (not a FRUS volume id like frus1961-63v05)")
    title = meta.get("title") or (named if named and named != volume_id else "")
    url = f"{URL_BASE}/{volume_id}" if _VOLUME_ID.fullmatch(volume_id) else ""
    return Volume(volume_id, short, title, url), guessed


# ---------------------------------------------------------------------------------------------
# Metadata from the title and the source note


def sender_recipient(title: str) -> tuple[str, str]:
    """('Embassy in the Soviet Union', 'Department of State') from 'Telegram From the Embassy in the
    Soviet Union to the Department of State'; a ' to ' inside a name ('Ambassador to the Soviet
    Union', '(Bundy)' is past) does not split it."""
    match = re.search(r"\bFrom\s+(.+)$", title)
    if not match:
        return "", ""
    rest = match.group(1)
    for to in re.finditer(r"\s*\bto(?:\s+|(?=[A-Z]))", rest):
        before = rest[: to.start()]
        words = before.split()
        if words and before.count("(") == before.count(")") and words[-1] not in _KEEPS_TO:
            return _bare(before), _bare(rest[to.end() :])
    return "", ""


def _bare(name: str) -> str:
    return re.sub(r"^the\s+", "", name.strip(), flags=re.IGNORECASE)


def author(title: str) -> str:
    """'Central Intelligence Agency' from 'Memorandum Prepared by the Central Intelligence Agency'."""
    match = re.search(r"\b(?:Prepared (?:by|in)|Memorandum by|Paper by)\s+(.+)$", title)
    return _bare(match.group(1)) if match else ""


def source_note_parts(note: str) -> dict:
    """Archive ('Department of State, Central Files, 611.61/3-1061') and classification ('Secret')."""
    match = _CLASSIFICATION.search(note)
    if not match:
        return {"archive": note.split(". ")[0].strip()} if note else {}
    return {"archive": note[: match.start()].strip(" ."), "classification": match.group(1)}
