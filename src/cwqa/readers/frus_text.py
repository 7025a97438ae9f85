"""Reader for a whole FRUS volume exported as plain text (e.g. ``frus1961-63v05.txt``).

The export has no markup: documents follow one another, each opening with a line
``N. Title`` (``9. Telegram From the Embassy in the Soviet Union to the Department of StateSource``,
the word "Source" glued on where the book had its source footnote), then a dateline
(``Moscow, March 10, 1961, 10 a.m.``), the text, a ``* * *`` rule, the ``* Source:`` note and
the footnotes (``1 For text, see ...``). The book's index closes the file. What is recovered:

- documents: a line ``N. Title`` is a document heading only when N is the next document
  number, the title reads like a title (short, not ending as a sentence does) and what follows
  confirms it: a dateline, or the title is "Editorial Note", or ends with the glued "Source".
  A numbered paragraph (``2. One of the principal factors ...``) fails those tests whatever its
  number. A jump in numbering (5, then 7) is accepted only with that evidence and the blank
  lines around a heading; jumps and out-of-sequence headings are reported in ``guessed``;
- the heading passage: number, title, dateline and the lines before the text (``NIE 11-4-60``,
  the SUBJECT and the PARTICIPANTS of a memorandum of conversation);
- date (ISO) and place from the dateline; an editorial note has none, and its date stays empty
  rather than borrowed from its neighbours;
- sections from sub-headings (``The Problem``, ``PART II — NOTES AND COMMENTS — East-West
  Relations``, ``Attachment``), labels of numbered paragraphs (``1.``, ``(a)``), the source note
  (kind "source-note") and footnotes (kind "footnote", anchored to the paragraph carrying their
  number). A number glued to a word (``January1``) is removed only when the document has that
  footnote;
- metadata: the signature (short lines closing the text or standing before an attachment),
  declassification notices, and, through `frus_index`, archive and classification from the
  source note and sender and recipient from ``... From X to Y`` titles;
- pages: the index tells which documents each page holds, so every paragraph is given its
  document's page range; the text itself says no more than that.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field
from datetime import date as _date
from pathlib import Path

from ..documents import METADATA, Document, Paragraph, Reading, Span, account, heading_paragraph
from ..errors import CorpusError
from ..text import slug, unique
from . import frus_index
from .frus_headings import (
    MONTHS, Line, ends_sentence, find_headings, looks_like_volume, parse_dateline, source_lines,
)

__all__ = ["looks_like_volume", "read_text_volume"]

COLLECTION = "Foreign Relations of the United States"
INDEX_SKIP = "back-of-book index (used for page numbers)"
FRONT_SKIP = "front matter (before the first document)"

_PART = re.compile(r"(?:PART|Part|SECTION|Section)\s+(?:[IVXLC]+|\d+)\b")
_ATTACHMENT = re.compile(r"(?:Attachment|ATTACHMENT|Enclosure|ENCLOSURE|Tab [A-Z]|Annex|ANNEX|Appendix|APPENDIX|POSTSCRIPT)\b")
_LABEL = re.compile(r"(\d{1,3}\.|\([a-z0-9]{1,3}\)|[a-z]\.)\s+")
_NOTICE = re.compile(r"\[[^\]]*not declassified[^\]]*\]", re.IGNORECASE)
_ORNAMENT = re.compile(r"[*\s]+")
_FOOTNOTE = re.compile(r"(\d{1,2})\s+(\S.*)")
# A footnote number glued to what it annotates: "January1", "communiqué,2", "(attached)3"; after a
# number only before a new word ("Jan 25.2 Arrangements", "March 18,1 but"); never part of a
# number ("8.6 percent", "11-60", "1,000").
_MARK = re.compile(
    r"(?:(?<=[^\W\d_])|(?<=[)\]”’\"?!])|(?<=[^\W\d_][.,;:])|(?<=[)\]”’\"][.,;:])"
    r"|(?<=\d\.)(?=\d{1,2}\s+[A-Z“(\[])|(?<=\d,)(?=\d{1,2}\s+[^\W\d_]))(\d{1,2})(?!\d)(?=[\s,.;:)\]”’\"—–-]|$)"
)
_LIST_HEADS = {"PARTICIPANTS": "participants", "LIST OF PARTICIPANTS": "participants", "PRESENT": "participants"}


# ---------------------------------------------------------------------------------------------
# The volume


def read_text_volume(path: Path, text: str, meta: dict | None) -> Reading:
    """Read a FRUS volume exported as plain text: one `Document` per printed document, in order."""
    lines, stray = source_lines(text), []
    headings = find_headings(lines, stray=stray)
    if not headings:
        raise CorpusError(f"{path}: no numbered document headings ('1. Title' followed by a dateline) found")
    volume, guessed = frus_index.volume_for(path, meta)
    first_line = lines[headings[0][0]]
    index_at = frus_index.index_start(text, lines[headings[-1][0]].end)
    end_line = bisect.bisect_left([line.start for line in lines], index_at if index_at is not None else len(text))
    pages = frus_index.document_pages(text[index_at:]) if index_at is not None else {}
    spans = [Span(0, first_line.start, FRONT_SKIP)] if text[: first_line.start].strip() else []
    if index_at is not None:
        spans.append(Span(index_at, len(text), INDEX_SKIP))
    else:
        guessed.append("no back-of-book index: the documents' pages are unknown")
    documents = []
    for k, (i, number, title) in enumerate(headings):
        j = headings[k + 1][0] if k + 1 < len(headings) else end_line
        document, kept = _read_document(lines[i:j], number, title, volume, pages.get(number), path)
        documents.append(document)
        spans += kept
    numbers = [n for _, n, _ in headings]
    guessed += [f"document numbering jumps from {a} to {b}: no document between them in the file"
                for a, b in itertools.pairwise(numbers) if b != a + 1]  # fmt: skip
    guessed += [f"heading '{n}. {title[:60]}' is out of sequence after document {last}: read as part of it"
                for n, title, last in stray]  # fmt: skip
    missing = [n for n in numbers if n not in pages]
    if pages and missing:
        guessed.append(f"pages unknown for {len(missing)} of {len(numbers)} documents: the index never cites them (first: doc. {missing[0]})")
    return Reading(documents, account(path, text, documents, spans, tuple(guessed)))


# ---------------------------------------------------------------------------------------------
# One document


@dataclass
class _Draft:
    """A paragraph being read: its kind, place and span; footnote marks still in its text."""

    kind: str  # "body", "footnote", "source-note"
    text: str
    start: int
    end: int
    label: str = ""
    section: tuple[str, str] = ("body", "")
    marks: tuple[str, ...] = ()  # numbers of the footnotes glued to its words, already removed


def _split_notes(lines: list[Line]) -> tuple[list[Line], list[Line], list[Line]]:
    """(text, rule, notes): the notes start after the last '* * *' followed by a note, or at '* Source:'."""
    for k in range(len(lines) - 2, -1, -1):
        after = lines[k + 1].text
        if _ORNAMENT.fullmatch(lines[k].text) and (after.startswith("* Source") or _FOOTNOTE.fullmatch(after)):
            return lines[:k], lines[k : k + 1], lines[k + 1 :]
    for k, line in enumerate(lines):
        if line.text.startswith("* Source:"):
            return lines[:k], [], lines[k:]
    return lines, [], []


def _read_notes(lines: list[Line]) -> list[_Draft]:
    """The source note and the footnotes; a line that opens no note continues the one before."""
    notes: list[_Draft] = []
    for line in lines:
        footnote = _FOOTNOTE.fullmatch(line.text)
        if line.text.startswith("* Source"):
            text = re.sub(r"^\*\s*Source:?\s*", "", line.text)
            notes.append(_Draft("source-note", text, line.start, line.end, "source", ("source-note", "Source note")))
        elif footnote:
            notes.append(_Draft("footnote", footnote.group(2), line.start, line.end, footnote.group(1), ("footnotes", "Footnotes")))
        elif notes:
            notes[-1].text += " " + line.text
            notes[-1].end = line.end
        else:
            notes.append(_Draft("footnote", line.text, line.start, line.end, "", ("footnotes", "Footnotes")))
    return notes


def _is_subheading(text: str) -> bool:
    """'The Problem', 'PART II', 'VI. The Question of Succession': a short line that is no sentence."""
    return (
        len(text) <= 120 and len(text.split()) <= 14 and text[:1].isalnum() and not ends_sentence(text)
        and not _LABEL.match(text) and ": " not in text
    )  # fmt: skip


def _in_list(text: str) -> bool:
    """A line of a list of participants ('Mr. Smirnovski, Counselor, Sov. Emb.'): short, no sentence."""
    heads = text.rstrip(":").strip().upper()
    return len(text.split()) <= 30 and not text.startswith("[") and not ends_sentence(text) and heads not in _LIST_HEADS and heads != "SUBJECT"


def _strip_marks(text: str, marks: set[str]) -> tuple[str, tuple[str, ...]]:
    """Text without the glued numbers of footnotes the document has, and those numbers."""
    if not marks:
        return text, ()
    found: list[str] = []

    def drop(match: re.Match) -> str:
        if match.group(1) in marks:
            found.append(match.group(1))
            return ""
        return match.group(0)

    return _MARK.sub(drop, text), tuple(found)


@dataclass
class _Body:
    """The text of a document read line by line: paragraphs, sections, header lines and metadata."""

    header_end: int
    header: list[str] = field(default_factory=list)
    drafts: list[_Draft] = field(default_factory=list)
    kept: list[Span] = field(default_factory=list)
    lists: dict[str, list[str]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    signature: list[str] = field(default_factory=list)  # closers before an attachment, and the last lines


_Pending = tuple[Line, str, tuple[str, ...]]  # a title-like line, its text without marks, the marks


def _rows(pending: list[_Pending], section: tuple[str, str]) -> list[_Draft]:
    """Title-like lines too many to be headings: the rows of a list or table, kept as paragraphs."""
    return [_Draft("body", text, line.start, line.end, "", section, found) for line, text, found in pending]


def _take_headings(body: _Body, pending: list[_Pending], started: bool, section, used) -> tuple[str, str]:
    """The section that headings waiting for a paragraph open; some of them are other things.

    Before the first paragraph they are the document's header ('NIE 11-4-60') except the last,
    or all from a 'PART II' on; later, lines before an 'Attachment' close the document above it
    (its signature), and more than four in a row are a table, not headings.
    """
    if not started:
        parts = [i for i, (_, text, _) in enumerate(pending) if _PART.match(text)]
        cut = parts[0] if parts else len(pending) - 1
        body.header += [text for _, text, _ in pending[:cut]]
        body.header_end = pending[cut - 1][0].end if cut else body.header_end
        pending = pending[cut:]
    elif len(pending) > 4:
        body.drafts += _rows(pending, section)
        return section
    else:
        attached = [i for i, (_, text, _) in enumerate(pending) if _ATTACHMENT.match(text)]
        if attached and attached[0] > 0:
            body.signature += [text for _, text, _ in pending[: attached[0]]]
            pending = pending[attached[0] :]
    title = " — ".join(text for _, text, _ in pending)
    return unique(slug(title) or "section", used)[0], title


def _read_body(lines: list[Line], header_end: int, marks: set[str]) -> _Body:
    """Sort each line of a document's text: notice, SUBJECT or PARTICIPANTS list, sub-heading or paragraph."""
    body = _Body(header_end)
    pending: list[_Pending] = []
    section: tuple[str, str] = ("body", "")
    used: dict[str, int] = {}
    started, k = False, 0
    while k < len(lines):
        line, k = lines[k], k + 1
        text, found = _strip_marks(line.text, marks)
        head = text.rstrip(":").strip().upper()
        if _NOTICE.fullmatch(text) or _ORNAMENT.fullmatch(text):
            body.kept.append(Span(line.start, line.end, METADATA))
            body.notices += [text] if _NOTICE.fullmatch(text) else []
        elif head in _LIST_HEADS or head == "SUBJECT":
            block = [line]  # SUBJECT and the one line after it; a list heading and its lines
            while k < len(lines) and (_in_list(_strip_marks(lines[k].text, marks)[0]) if head != "SUBJECT" else len(block) < 2):
                block.append(lines[k])
                k += 1
            name, items = _LIST_HEADS.get(head, "subject"), [_strip_marks(b.text, marks)[0] for b in block[1:]]
            body.lists.setdefault(name, []).extend(items)
            body.kept += [Span(b.start, b.end, METADATA) for b in block]
            if not started:
                body.header += [text for _, text, _ in pending] + [f"{name.capitalize()}: " + "; ".join(items)]
                body.header_end, pending = block[-1].end, []
        elif _is_subheading(text):
            pending.append((line, text, found))
            body.kept.append(Span(line.start, line.end, METADATA))
        else:
            if pending:
                section, pending = _take_headings(body, pending, started, section, used), []
            started = True
            label = _LABEL.match(text)
            body.drafts.append(_Draft("body", text, line.start, line.end, label.group(1) if label else "", section, found))
    if not started and pending:
        body.header += [text for _, text, _ in pending]
        body.header_end = pending[-1][0].end
    elif len(pending) > 4:
        body.drafts += _rows(pending, section)
    elif all(len(text) <= 60 and len(text.split()) <= 8 for _, text, _ in pending):
        body.signature += [text for _, text, _ in pending]  # 'Thompson'; 'John A. McCone', 'Director'
    return body


def _read_document(lines, number: int, printed: str, volume: frus_index.Volume, pages, path: Path) -> tuple[Document, list[Span]]:
    """One printed document from its lines (heading first): its paragraphs and the metadata spans."""
    heading, rest = lines[0], lines[1:]
    doc_id = f"{volume.id}-d{number}"
    editorial = printed.lower() == "editorial note"
    dateline = rest[0] if rest and parse_dateline(rest[0].text) else None
    text_lines, rule, note_lines = _split_notes(rest[1:] if dateline else rest)
    notes = _read_notes(note_lines)
    marks = {n.label for n in notes if n.kind == "footnote" and n.label}
    body = _read_body(text_lines, (dateline or heading).end, marks)
    spans = [Span(line.start, line.end, METADATA) for line in rule] + body.kept
    in_heading = [] if editorial else [m for line in lines if line.start < body.header_end for m in _strip_marks(line.text, marks)[1]]
    paragraphs = _finish(doc_id, body.drafts, notes, pages, {mark: f"{doc_id}/heading" for mark in in_heading})
    title = _strip_marks(re.sub(r"(?<=\S)Source$", "", printed).strip(), marks)[0]
    when, place, time = parse_dateline(dateline.text) if dateline else ("", "", "")
    first_page, last_page = pages or (None, None)
    if editorial:  # as in the TEI reader: an editorial note's heading says nothing a passage needs
        spans.append(Span(heading.start, body.header_end, METADATA))
    else:
        lead = " / ".join([f"{number}. {title}"] + ([dateline.text] if dateline else []) + body.header)
        paragraphs.insert(0, heading_paragraph(doc_id, lead, first_page, (heading.start, body.header_end), first_page))
    source_note = next((n.text for n in notes if n.kind == "source-note"), "")
    sender, recipient = frus_index.sender_recipient(title)
    subtype = "editorial-note" if editorial else "historical-document"
    source = {"series": COLLECTION, "volume": volume.id, "volume_short": volume.short, "document": number, "subtype": subtype}
    if pages:
        source["pages"] = [first_page, last_page]
    if volume.url:
        source["url"] = f"{volume.url}/d{number}"
    extra = {"volume_id": volume.id, "volume_short": volume.short, "doc_number": number, "subtype": subtype,
             "source_note": source_note, "footnote_count": sum(n.kind == "footnote" for n in notes)}  # fmt: skip
    optional = {
        "volume_title": volume.title, **frus_index.source_note_parts(source_note), "header": body.header,
        "dateline": dateline.text if dateline else "", "time": time, "sender": sender, "recipient": recipient,
        "signature": "; ".join(body.signature), "subject": "; ".join(body.lists.get("subject", [])),
        "participants": body.lists.get("participants", []), "notices": body.notices,
        "pages_from": "back-of-book index" if pages else "",
    }  # fmt: skip
    extra.update({key: value for key, value in optional.items() if value})
    document = Document(
        id=doc_id, title=title, citation_name=_citation_name(title, when), path=path, paragraphs=tuple(paragraphs),
        author=sender or frus_index.author(title), date=when, place=place, collection=COLLECTION, source=source, extra=extra,
    )  # fmt: skip
    return document, spans


def _finish(doc_id: str, drafts: list[_Draft], notes: list[_Draft], pages, anchors: dict[str, str]) -> list[Paragraph]:
    """Paragraph records: ids stable and unique, footnotes anchored, pages the document's range.

    `anchors` holds footnotes whose mark is in the heading lines; the rest hang from the first
    paragraph that carries their mark.

    Ids and section labels follow the TEI reader: '{doc}/{section}/{label or pN}'; a label printed
    once in the document names its paragraph alone ('¶9'), else it is cited with its section.
    """
    first, last = pages or (None, None)
    labels: dict[str, int] = {}
    for draft in drafts:
        labels[draft.label] = labels.get(draft.label, 0) + 1
    records: list[Paragraph] = []
    used: dict[str, int] = {}
    positions: dict[str, int] = {}
    for draft in drafts:
        section_id, section_title = draft.section
        key = slug(draft.label)
        if not key:
            positions[section_id] = positions.get(section_id, 0) + 1
            key = f"p{positions[section_id]}"
        paragraph_id, repeat = unique(f"{doc_id}/{section_id}/{key}", used)
        for mark in draft.marks:
            anchors.setdefault(mark, paragraph_id)
        section_label = "" if draft.label and labels[draft.label] == 1 else section_title
        records.append(_record(draft, paragraph_id, doc_id, section_label, len(records) + 1, first, last, repeat))
    for draft in notes:
        name = "source-note" if draft.kind == "source-note" else f"fn-{slug(draft.label) or 'x'}"
        paragraph_id, _ = unique(f"{doc_id}/{name}", used)
        anchor = anchors.get(draft.label) if draft.kind == "footnote" else None
        records.append(_record(draft, paragraph_id, doc_id, "", len(records) + 1, first, last, 1, anchor))
    return records


def _record(draft: _Draft, paragraph_id, doc_id, section_label, ordinal, first, last, repeat, anchor=None) -> Paragraph:
    return Paragraph(
        id=paragraph_id, doc_id=doc_id, section_id=draft.section[0], section_label=section_label,
        section_title=draft.section[1], label=draft.label, ordinal=ordinal, text=" ".join(draft.text.split()),
        first_page=first, last_page=last, start=draft.start, end=draft.end, kind=draft.kind, anchor_id=anchor,
        series_note={1: "", 2: "second list", 3: "third list"}.get(repeat, f"list {repeat}"),
    )  # fmt: skip


def _citation_name(title: str, when: str) -> str:
    """'Telegram From the Embassy in the Soviet Union to the Department of State, 10 Mar 1961'."""
    if len(when) != 10:
        return title
    day = _date.fromisoformat(when)
    return f"{title}, {day.day} {MONTHS[day.month - 1][:3]} {day.year}"
