"""Document headings of a FRUS volume exported as plain text: lines, datelines, and which
``N. Title`` lines open a printed document (see `frus_text` for the whole reader)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date as _date

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip


DATELINE = re.compile(
    r"(?P<place>[A-Z][^\d\[\]]{0,60}?),\s+(?:(?P<month>" + "|".join(MONTHS) + r")\s+"
    r"(?:(?P<day>\d{1,2})(?:\s*(?:–|-|and)\s*\d{1,2})?,?\s+)?(?P<year>\d{4})|(?P<undated>undated))(?P<rest>.*)"
)


HEADING = re.compile(r"(\d{1,4})\.\s+(\S.*)")


ABBREVIATION_END = re.compile(
    r"(?:\b[A-Z]|\b(?:Jr|Sr|Emb|Amb|Sov|Co|Inc|Dept|Gov|Gen|Adm|Col|Mr|Mrs|Dr|St)|\b(?:[A-Z]\.)+[A-Z])\.[\"”’)]*$"
)


MAX_GAP = 25  # a heading may skip at most this many document numbers


@dataclass(frozen=True)
class Line:
    """A non-blank line: its text (stripped, a stray leading '>' dropped) and its offsets."""

    text: str
    start: int
    end: int
    blank_before: int


def source_lines(text: str) -> list[Line]:
    """The file's non-blank lines with their character spans: the reader works line by line."""
    lines, blank, position = [], 0, 0
    for raw in text.splitlines(keepends=True):
        start, position = position, position + len(raw)
        stripped = raw.strip()
        if not stripped:
            blank += 1
            continue
        shown = stripped.lstrip(">").strip() or stripped
        lead = len(raw) - len(raw.lstrip())
        lines.append(Line(shown, start + lead, start + len(raw.rstrip()), blank))
        blank = 0
    return lines


def parse_dateline(line: str) -> tuple[str, str, str] | None:
    """(ISO date or "", place, the rest such as '10 a.m.') of 'Moscow, March 10, 1961, 10 a.m.'."""
    match = DATELINE.fullmatch(line.strip()) if len(line) <= 120 else None
    if match is None:
        return None
    rest = match.group("rest").strip(" ,")
    rest = rest if rest.endswith(("a.m.", "p.m.")) else rest.rstrip(".")  # the dateline's own full stop
    if match.group("undated"):
        return "", match.group("place"), rest
    year, month = int(match.group("year")), MONTHS.index(match.group("month")) + 1
    iso = f"{year:04d}-{month:02d}"
    if match.group("day"):
        try:
            iso = _date(year, month, int(match.group("day"))).isoformat()
        except ValueError:
            pass  # a misprinted day: the month is still right
    return iso, match.group("place"), rest


def reads_like_title(title: str) -> bool:
    """A document title, not a numbered paragraph: short and not ending as a sentence does."""
    return len(title) <= 300 and len(title.split()) <= 40 and title[:1].isupper() and not ends_sentence(title)


def confirmed(title: str, following: Line | None, blank_before: int) -> bool:
    """What follows a heading confirms it: a dateline, or it is an Editorial Note or carries 'Source'."""
    if title.lower() == "editorial note" or (following is not None and parse_dateline(following.text)):
        return True
    return title.endswith("Source") and blank_before >= 2


def find_headings(lines: list[Line], limit: int | None = None, stray: list | None = None) -> list[tuple[int, int, str]]:
    """(line index, number, printed title) of each document heading, in order (see module doc).

    A heading that passes every test but is out of sequence (a repeated or far-off number) is
    read as text of the document before it, and noted in `stray` so the reader can say so.
    """
    found: list[tuple[int, int, str]] = []
    for i, line in enumerate(lines):
        match = HEADING.fullmatch(line.text)
        if not match:
            continue
        number, title = int(match.group(1)), match.group(2).strip()
        last = found[-1][1] if found else None
        following = lines[i + 1] if i + 1 < len(lines) else None
        if not (reads_like_title(title) and confirmed(title, following, line.blank_before)):
            continue
        if last is not None and not last < number <= last + MAX_GAP:
            if stray is not None:
                stray.append((number, title, last))
            continue
        if last is not None and number != last + 1 and (line.blank_before < 2 or following is None or not following.blank_before):
            continue  # a jump in numbering needs a heading set apart as headings are
        found.append((i, number, title))
        if limit is not None and len(found) >= limit:
            break
    return found


def looks_like_volume(text: str) -> bool:
    """Whether a text file is a FRUS volume: its first three document headings are numbered in a run
    (1, 2, 3, or 104, 105, 106 for an excerpt), each confirmed as `find_headings` requires."""
    found = find_headings(source_lines(text), limit=3)
    return len(found) == 3 and [n for _, n, _ in found] == list(range(found[0][1], found[0][1] + 3))


def ends_sentence(text: str) -> bool:
    """Ends as a sentence or clause does: ',' ';' ':' or a full stop that closes no abbreviation
    ('Arthur Schlesinger, Jr.', 'Sov. Emb.', 'Embassy of U.S.S.R.' end names, not sentences)."""
    if re.search(r"[,;:][\"”’)]*$", text):
        return True
    if re.search(r"\b[AaPp]\.[Mm]\.$", text):
        return True  # "The conversation ended at 6:45 P.M."
    return bool(re.search(r"[.!?][\"”’)]*$", text)) and not ABBREVIATION_END.search(text)
