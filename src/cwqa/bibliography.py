"""Citation export: a Chicago-style FRUS note, BibTeX and RIS for a passage's document.

    Telegram From the Embassy in the Soviet Union to the Department of State, Moscow, March 10,
    1961, Foreign Relations of the United States, 1961–1963, vol. V, doc. 41, pp. 92–93.

Only what the document's metadata says is written: a field the source does not give (a place, a
page) is left out rather than guessed.
"""

from __future__ import annotations

import re
from typing import Sequence

from .documents import IndexedDocument, format_pages
from .passages import Hit

FORMATS = ("chicago", "bibtex", "ris")
SERIES = "Foreign Relations of the United States"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")  # fmt: skip


def long_date(iso: str) -> str:
    """'1961-03-10' -> 'March 10, 1961'; '1961-03' -> 'March 1961'; '' stays ''."""
    parts = [int(p) for p in re.findall(r"\d+", iso or "")]
    if len(parts) >= 3:
        return f"{_MONTHS[parts[1] - 1]} {parts[2]}, {parts[0]}"
    if len(parts) == 2:
        return f"{_MONTHS[parts[1] - 1]} {parts[0]}"
    return str(parts[0]) if parts else ""


def _volume_names(document: IndexedDocument) -> str:
    """Where the volume is named: its short name, its printed title, or the citation name
    (TEI documents cite as 'FRUS 1955–57, vol. XXIV, doc. 104')."""
    source = document.source
    return " | ".join(str(v) for v in (source.get("volume_short"), source.get("volume"), document.citation_name) if v)


def series_title(document: IndexedDocument) -> str:
    """'Foreign Relations of the United States, 1961–1963' from the volume's name
    ('FRUS 1961–63, vol. V'), with the years written out as the title page prints them."""
    match = re.search(r"(\d{4})(?:\s*[–-]\s*(\d{2,4}))?", _volume_names(document))
    if not match:
        return SERIES if document.collection == SERIES else document.collection or ""
    first, last = match.group(1), match.group(2)
    if last and len(last) == 2:
        last = first[:2] + last
    return f"{SERIES}, {first}–{last}" if last else f"{SERIES}, {first}"


def volume_number(document: IndexedDocument) -> str:
    """'V' from 'FRUS 1961–63, vol. V'; '' when the volume has no number."""
    match = re.search(r"\b(?:vol\.|Volume)\s*([IVXLC]+|\d+)\b", _volume_names(document))
    return match.group(1) if match else ""


def document_title(document: IndexedDocument) -> str:
    """The title as a note gives it: without the printed number ('104. National Security ...')."""
    return re.sub(r"^\d+\.\s+", "", document.title)


def _pages(hit: Hit | None, document: IndexedDocument) -> tuple[int | None, int | None]:
    if hit is not None and hit.chunk.first_page is not None:
        return hit.chunk.first_page, hit.chunk.last_page
    pages = document.source.get("pages")
    return (pages[0], pages[1]) if isinstance(pages, list) and len(pages) == 2 else (None, None)


def chicago(document: IndexedDocument, hit: Hit | None = None) -> str:
    """A Chicago-style note for the document (and the passage's pages, when a hit is given)."""
    parts = [document_title(document)]
    if document.place:
        parts.append(document.place)
    if document.date:
        parts.append(long_date(document.date))
    series = series_title(document)
    if series:
        volume = volume_number(document)
        parts.append(f"*{series}*" + (f", vol. {volume}" if volume else ""))
    if document.number:
        parts.append(f"doc. {document.number}")
    first, last = _pages(hit, document)
    if first is not None:
        parts.append(format_pages(first, last))
    return ", ".join(part for part in parts if part) + "."


def _bibtex_escape(text: str) -> str:
    return re.sub(r"([{}\\%&$#_])", r"\\\1", str(text))


def bibtex(document: IndexedDocument, hit: Hit | None = None) -> str:
    """One BibTeX @incollection entry, keyed by the document id."""
    fields = {"title": document_title(document), "booktitle": series_title(document), "volume": volume_number(document)}
    if document.number:
        fields["number"] = str(document.number)
        fields["note"] = f"doc. {document.number}"
    first, last = _pages(hit, document)
    if first is not None:
        fields["pages"] = f"{first}--{last}" if last and last != first else str(first)
    if document.date:
        fields["year"] = document.date[:4]
        fields["date"] = document.date
    if document.place:
        fields["address"] = document.place
    if document.url:
        fields["url"] = document.url
    key = re.sub(r"[^A-Za-z0-9:_-]", "-", document.id)
    body = ",\n".join(f"  {name} = {{{_bibtex_escape(value)}}}" for name, value in fields.items() if value)
    return f"@incollection{{{key},\n{body}\n}}\n"


def ris(document: IndexedDocument, hit: Hit | None = None) -> str:
    """One RIS record (a book section)."""
    lines = [("TY", "CHAP"), ("TI", document_title(document)), ("T2", series_title(document)), ("VL", volume_number(document))]
    if document.number:
        lines.append(("M1", f"doc. {document.number}"))
    first, last = _pages(hit, document)
    if first is not None:
        lines += [("SP", str(first)), ("EP", str(last if last is not None else first))]
    if document.date:
        lines += [("PY", document.date[:4]), ("DA", document.date.replace("-", "/"))]
    if document.place:
        lines.append(("CY", document.place))
    if document.url:
        lines.append(("UR", document.url))
    lines.append(("ER", ""))
    return "".join(f"{tag}  - {value}".rstrip() + "\n" for tag, value in lines if value or tag == "ER")


def export(documents: Sequence[IndexedDocument], hits: Sequence[Hit | None], style: str) -> str:
    """The result set in one style: one note a line (Chicago), or concatenated entries (BibTeX, RIS).
    A document cited by several hits is exported once, with its first hit's pages."""
    writers = {"chicago": chicago, "bibtex": bibtex, "ris": ris}
    if style not in writers:
        raise ValueError(f"unknown export style {style!r} (choose from {', '.join(FORMATS)})")
    seen: set[str] = set()
    pieces = []
    for document, hit in zip(documents, hits):
        if document.id in seen:
            continue
        seen.add(document.id)
        pieces.append(writers[style](document, hit))
    return "\n".join(piece.rstrip("\n") for piece in pieces) + "\n"
