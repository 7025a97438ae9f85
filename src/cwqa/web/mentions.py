"""The persons and abbreviations a document mentions, as history.state.gov shows them beside it.

A TEI document records the ids its mentions point to (`extra["persons"]`: 'p_DJF1' from
`persName/@corresp`, `extra["terms"]`: 't_NSC1' from `gloss/@target`). Those ids are the labels of
the entries of its volume's List of Persons and List of Abbreviations, which are indexed as
documents of their own (`cwqa.readers.tei_lists`). Here each id is looked up in the indexed lists
of the same volume and shown as the list prints it: "Dulles, John Foster" — "Secretary of State".

An id whose list entry is not indexed (the volume's lists are not in the corpus, or were trimmed)
is kept and said to be missing, not dropped: the document does mention someone. Plain-text
volumes record no mentions, and none are guessed from names in the text, so they show nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from ..documents import ENTRY_KINDS, IndexedDocument
from .escape import escape_html

# A document's extra key -> (the chunk kind of its list's entries, the list's name for messages)
KINDS = {"persons": ("person", "List of Persons"), "terms": ("term", "List of Abbreviations")}


@dataclass(frozen=True)
class Entry:
    """One person or term a document mentions, resolved to its list entry when that is indexed."""

    kind: str  # "persons" or "terms"
    ref: str  # the id the mention points to: 'p_DJF1'
    label: str  # as the list prints it: 'Dulles, John Foster', 'CoCom'
    description: str  # the rest of the entry: 'Secretary of State'; '' when not indexed
    doc_id: str = ""  # the list document and passage holding the entry ('' when not indexed)
    chunk_id: str = ""

    @property
    def found(self) -> bool:
        return bool(self.chunk_id)


EntryTable = dict[tuple[str, str], Entry]  # (volume id, entry id) -> entry


def _volume_of(document: IndexedDocument) -> str:
    return str((document.extra or {}).get("volume_id") or "")


def entry_table(documents: Sequence[IndexedDocument], chunks: Iterable) -> EntryTable:
    """Every indexed list entry by (volume, entry id), computed once per index build.

    An entry longer than a passage is split into windows of one paragraph; they are joined here,
    so the description is the whole entry.
    """
    lists = {d.id: (_volume_of(d), str(d.extra.get("list"))) for d in documents if (d.extra or {}).get("list") in KINDS}
    texts: dict[str, list] = {}
    for chunk in chunks:
        if chunk.doc_id in lists and chunk.kind in ENTRY_KINDS and chunk.label:
            texts.setdefault(chunk.paragraph_id, []).append(chunk)
    table: EntryTable = {}
    for windows in texts.values():
        first = windows[0]
        volume, kind = lists[first.doc_id]
        text = " ".join(window.text for window in windows)
        label = first.section_label or first.label
        table[(volume, first.label)] = Entry(kind, first.label, label, _description(text, label), first.doc_id, first.id)
    return table


def _description(text: str, label: str) -> str:
    """The entry without its printed name: 'Dulles, John Foster, Secretary of State' -> 'Secretary of State'."""
    if label and text.startswith(label):
        return text[len(label) :].lstrip(" ,:;.—–-")
    return text


def _unresolved_label(ref: str) -> str:
    """What an id says of its entry when the entry is not indexed: 't_NSC1' -> 'NSC'.

    Term ids spell the abbreviation; person ids are initials ('p_LJSJ1'), so they are shown as they are.
    """
    match = re.fullmatch(r"t_(.+?)\d*", ref)
    return match.group(1) if match else ref


def document_entries(document: IndexedDocument, table: EntryTable) -> dict[str, list[Entry]]:
    """The persons and terms a document mentions, first mention first, each resolved in its
    volume's indexed lists ({"persons": [...], "terms": [...]}; empty lists when none are recorded)."""
    extra = document.extra or {}
    volume = _volume_of(document)
    found: dict[str, list[Entry]] = {}
    for kind in KINDS:
        found[kind] = [
            table.get((volume, ref)) or Entry(kind, ref, _unresolved_label(ref), "")
            for ref in extra.get(kind) or ()
        ]
    return found


def entries_html(entries: Sequence[Entry], kind: str) -> str:
    """One list (persons or terms) for the document view's side column, escaped: the printed name
    in bold and the entry's description; a missing entry says which list lacks it."""
    if not entries:
        return ""
    _, list_name = KINDS[kind]
    rows = []
    for entry in entries:
        if entry.found:
            rest = f" — {escape_html(entry.description)}" if entry.description else ""
            rows.append(f'<li><b>{escape_html(entry.label)}</b>{rest}</li>')
        else:
            rows.append(
                f'<li><b>{escape_html(entry.label)}</b> <span class="cwqa-cardmeta">'
                f"(not in an indexed {escape_html(list_name)})</span></li>"
            )
    return f'<ul class="cwqa-entries">{"".join(rows)}</ul>'
