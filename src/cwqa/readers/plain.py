"""Reader for a plain-text document with a metadata file beside it (``x.txt`` + ``x.meta.json``).

The parser recovers the printed structure from the text itself: section headings, paragraph
labels, page markers and paragraphs split at page breaks. The title lines, signature and source
note become the document's metadata; every other line is in a passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..documents import METADATA, Document, Paragraph, Reading, Span, account, heading_paragraph
from ..errors import CorpusError
from ..text import slug, unique

_PAGE_MARKER = re.compile(r"\[Page (\d+)\]")
_PART_HEADING = re.compile(r"PART\s+(\d+)\s*[:.]\s*(.*)", re.IGNORECASE | re.DOTALL)
_LABEL = re.compile(r"(\([a-z]{1,2}\)|\(\d{1,2}\)|\d{1,2}\.)\s+")
_TERMINAL = tuple('.!?:;)"\'”’]')
# A footnote number glued to the word or bracket it annotates: "Report1", "(attached)2".
_FOOTNOTE_MARK = re.compile(r"(?<=[A-Za-z)])\d{1,2}(?=[\s,.;:]|$)")
_SIGNATURE = re.compile(r"[A-Z][A-Z.\- ]{1,40}")


@dataclass
class _Block:
    """A run of source lines read as one unit (a paragraph line, a heading, a page marker)."""

    text: str
    start: int
    end: int
    blank_before: int


def _blocks(text: str) -> list[_Block]:
    """Split the source into units: one a line, except a **bold** heading spanning several lines."""
    blocks: list[_Block] = []
    blank = 0
    position = 0
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        line_start = position
        position += len(line)
        i += 1
        if not stripped:
            blank += 1
            continue
        if stripped.startswith("**") and not stripped.endswith("**"):
            # Bold heading over several lines: gather it up to its closing marker.
            while i < len(lines) and not stripped.endswith("**"):
                stripped += " " + lines[i].strip()
                position += len(lines[i])
                i += 1
        end = _rstrip_offset(text, line_start, position)
        blocks.append(_Block(stripped, line_start + (len(line) - len(line.lstrip())), end, blank))
        blank = 0
    return blocks


def _rstrip_offset(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def clean_heading(raw: str) -> str:
    """A heading as displayed: bold markers and symmetric OCR noise removed, title-cased.

    'PART 5: IPRACTICAL DEDUCTIONS FROM STANDPOINT OF US POLICYI' has a stray 'I' glued at both
    ends (a bar or bracket read as I by OCR): both go, or neither, so a real word is never cut.
    """
    text = raw.strip().strip("*").strip()
    match = _PART_HEADING.fullmatch(text)
    if not match:
        return text.rstrip(":").strip()
    number, title = match.group(1), " ".join(match.group(2).split()).rstrip(":").strip()
    words = title.split()
    if len(words) >= 2 and words[0].startswith("I") and words[-1].endswith("I") and words[0][1:2].isupper():
        words[0], words[-1] = words[0][1:], words[-1][:-1]
    return f"Part {number}: " + _title_case(words)


_SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with"}
_KEEP_UPPER = {"US", "USSR", "UNO", "UN", "NSC", "I.E.,", "I.E."}


def _title_case(words: list[str]) -> str:
    out = []
    for i, word in enumerate(words):
        if word in _KEEP_UPPER:
            out.append(word.lower() if word.startswith("I.E") else word)
        elif i > 0 and word.lower() in _SMALL_WORDS:
            out.append(word.lower())
        else:
            out.append(word[:1].upper() + word[1:].lower())
    return " ".join(out)


def _is_heading(block: _Block, next_block: _Block | None) -> bool:
    text = block.text
    if text.startswith("**") and text.endswith("**") and len(text) > 4:
        return True
    if _PART_HEADING.fullmatch(text) and len(text) < 200:
        return True
    # A short title-like line standing alone between blank lines: "Policy Conclusions".
    alone = block.blank_before >= 1 and (next_block is None or next_block.blank_before >= 1)
    words = text.split()
    return (
        alone
        and len(words) <= 6
        and not text.endswith(_TERMINAL)
        and text[:1].isupper()
        and not _LABEL.match(text + " ")
        and not _PAGE_MARKER.fullmatch(text)
        and not _SIGNATURE.fullmatch(text)
    )


@dataclass
class _Draft:
    """A paragraph being assembled: pieces of source text that may still be rejoined."""

    section: tuple[str, str, str]  # id, label, title
    text: str
    start: int
    end: int
    first_page: int | None
    last_page: int | None
    footnotes: list[str] = field(default_factory=list)


def parse_text_document(text: str, meta: dict, path: Path) -> tuple[Document, list[Span]]:
    """Recover sections, labeled paragraphs and pages from a plain-text document.

    Returns the document and the spans of the lines kept as metadata (title lines, page markers,
    signature and source note), for the coverage report.
    """
    doc_id = meta["id"]
    pages = meta.get("source", {}).get("pages") or [None, None]
    blocks = _blocks(text)
    # Pages before the first printed marker are known only as a range: from the document's first
    # page up to the page just before that marker.
    markers = [int(m.group(1)) for m in _PAGE_MARKER.finditer(text)]
    page_range = (pages[0], (markers[0] - 1) if markers else pages[1])

    header: list[str] = []
    header_span: list[int] = []  # start of the first title line, end of the last
    trailer: list[str] = []
    kept: list[Span] = []  # lines kept as metadata rather than passages
    drafts: list[_Draft] = []
    section = ("preamble", "Preamble", "Preamble")
    untitled = list(meta.get("untitled_sections", []))
    body_started = False
    in_trailer = False
    strip_footnotes = bool(meta.get("footnote_markers"))

    for index, block in enumerate(blocks):
        next_block = blocks[index + 1] if index + 1 < len(blocks) else None
        content = block.text
        if in_trailer:
            trailer.append(content)
            kept.append(Span(block.start, block.end, METADATA))
            continue
        if _PAGE_MARKER.fullmatch(content):
            kept.append(Span(block.start, block.end, METADATA))
            number = int(_PAGE_MARKER.fullmatch(content).group(1))
            page_range = (number, number)
            continue
        if not body_started and _looks_like_header(content):
            # Title lines open the file; the last short line before the first paragraph is
            # the first section's heading ("General Considerations"), not a title line.
            opens_body = next_block is not None and not _looks_like_header(next_block.text)
            if not (_is_heading(block, next_block) and opens_body):
                header.append(content)
                kept.append(Span(block.start, block.end, METADATA))
                header_span[:] = [header_span[0] if header_span else block.start, block.end]
                continue
        if body_started and _SIGNATURE.fullmatch(content) and len(content.split()) <= 3 and block.blank_before:
            trailer.append(content)
            kept.append(Span(block.start, block.end, METADATA))
            in_trailer = True
            continue
        if _is_heading(block, next_block):
            kept.append(Span(block.start, block.end, METADATA))
            title = clean_heading(content)
            match = _PART_HEADING.fullmatch(content.strip("*").strip())
            if match:
                section = (f"part-{match.group(1)}", f"Part {match.group(1)}", title)
            else:
                section = (slug(title), title, title)
            body_started = True
            continue
        if body_started and block.blank_before >= 2 and drafts:
            # A section the source prints without a heading (NSC 5607's objectives list).
            title = untitled.pop(0) if untitled else f"Untitled section {len(drafts) + 1}"
            section = (slug(title), title, title)
        body_started = True
        footnotes: list[str] = []
        if strip_footnotes:
            footnotes = _FOOTNOTE_MARK.findall(content)
            content = _FOOTNOTE_MARK.sub("", content)
        first_page, last_page = page_range
        inline = list(_PAGE_MARKER.finditer(content))
        if inline:
            number = int(inline[-1].group(1))
            # The text just before a marker is on the page before it; a paragraph is shorter
            # than a page, so one that crosses a marker starts on that previous page.
            first_page = max(first_page or number - 1, int(inline[0].group(1)) - 1)
            last_page = number
            page_range = (number, number)
            content = _PAGE_MARKER.sub("", content)
        drafts.append(_Draft(section, content, block.start, block.end, first_page, last_page, footnotes))

    drafts = _rejoin(drafts)
    paragraphs = _finish(doc_id, drafts, meta, path)
    if header:
        # The printed heading ("104. National Security Council Report", "The Chargé in Moscow
        # (Kennan) to the Secretary of State") answers who-wrote-to-whom questions: keep it
        # searchable as a passage of its own, cleaned like the body.
        heading_text = " / ".join(_FOOTNOTE_MARK.sub("", line) if strip_footnotes else line for line in header)
        paragraphs.insert(0, heading_paragraph(doc_id, heading_text, pages[0], header_span))
    extra = {"header": header, **_read_trailer(trailer)}
    document = Document(
        id=doc_id,
        title=meta["title"],
        citation_name=meta["citation_name"],
        path=path,
        paragraphs=tuple(paragraphs),
        author=meta.get("author", ""),
        date=meta.get("date", ""),
        place=meta.get("place", ""),
        collection=meta.get("collection", ""),
        source=dict(meta.get("source", {})),
        extra=extra,
    )
    return document, kept


def _looks_like_header(text: str) -> bool:
    """Title lines before the body: short and not a sentence ('NSC 5607', 'The Long Telegram')."""
    return len(text) < 120 and not text.endswith((".", "?", "!", ":", ";"))


def _continues(previous: _Draft, following: _Draft) -> str | None:
    """How `following` continues `previous`, if it does: the joining text, else None."""
    if previous.section != following.section:
        return None
    head = following.text.lstrip()
    # Split at a page break: a block ending mid-sentence, and one starting in lower case.
    if not previous.text.rstrip().endswith(_TERMINAL) and head[:1].islower():
        return " "
    # A quotation introduced by a colon belongs to the paragraph that introduces it.
    if previous.text.rstrip().endswith(":") and head[:1] in "\"“":
        return "\n\n"
    # A bulleted list belongs to the paragraph that announces it (or to its earlier items).
    if head.startswith("- ") and (previous.text.rstrip().endswith(":") or "\n- " in previous.text):
        return "\n"
    return None


def _rejoin(drafts: list[_Draft]) -> list[_Draft]:
    joined: list[_Draft] = []
    for draft in drafts:
        glue = _continues(joined[-1], draft) if joined else None
        if glue is None:
            joined.append(draft)
            continue
        previous = joined[-1]
        previous.text = previous.text.rstrip() + glue + draft.text.lstrip()
        previous.end = draft.end
        previous.last_page = draft.last_page
        previous.footnotes += draft.footnotes
    return joined


def _finish(doc_id: str, drafts: list[_Draft], meta: dict, path: Path) -> list[Paragraph]:
    """Give each draft its label, its stable id and its place in the document."""
    printed_labels = meta.get("paragraph_labels") or []
    if printed_labels and len(printed_labels) != len(drafts):
        raise CorpusError(
            f"{meta['_path']}: field 'paragraph_labels' lists {len(printed_labels)} labels "
            f"but {path.name} has {len(drafts)} paragraphs"
        )
    paragraphs: list[Paragraph] = []
    used: dict[str, int] = {}
    position_in_section: dict[str, int] = {}
    for ordinal, draft in enumerate(drafts, start=1):
        section_id, section_label, section_title = draft.section
        text = draft.text.strip()
        position_in_section[section_id] = position_in_section.get(section_id, 0) + 1
        match = _LABEL.match(text)
        if printed_labels:
            label = printed_labels[ordinal - 1]
        else:
            label = match.group(1) if match else ""
        key = slug(label) if label else f"p{position_in_section[section_id]}"
        paragraph_id, repeat = unique(f"{doc_id}/{section_id}/{key}", used)
        paragraphs.append(
            Paragraph(
                id=paragraph_id,
                doc_id=doc_id,
                section_id=section_id,
                section_label=section_label,
                section_title=section_title,
                label=label,
                ordinal=ordinal,
                text=" ".join(text.split(" ")) if "\n" in text else " ".join(text.split()),
                first_page=draft.first_page,
                last_page=draft.last_page,
                start=draft.start,
                end=draft.end,
                series_note=_series_note(repeat),
            )
        )
    return paragraphs


def _series_note(repeat: int) -> str:
    return {1: "", 2: "second list", 3: "third list"}.get(repeat, f"list {repeat}")


def _read_trailer(lines: list[str]) -> dict:
    """Signature and source note, kept as metadata rather than body text."""
    extra: dict = {}
    if not lines:
        return extra
    extra["signature"] = lines[0]
    rest = lines[1:]
    if "Source" in rest:
        at = rest.index("Source")
        extra["source_note"] = "\n".join(rest[at + 1 :])
        rest = rest[:at]
    if rest:
        extra["trailer"] = rest
    return extra


def read_text_document(path: Path, text: str, meta: dict) -> Reading:
    """Reader for plain-text documents: the text file plus its metadata file."""
    document, kept = parse_text_document(text, meta, path)
    if not document.paragraphs:
        raise CorpusError(f"{path}: no paragraphs found")
    return Reading([document], account(path, text, [document], kept))


def guess_metadata(path: Path, text: str) -> tuple[dict, tuple[str, ...]]:
    """Metadata for a text file that came without a metadata file: id from the file name, title
    from its first line. Returns the metadata and what was guessed, for the CLI and app to say."""
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    doc_id = slug(stem) or "document"
    first = next((line.strip().strip("*").strip() for line in text.splitlines() if line.strip()), stem)
    title = first if len(first) <= 120 else first[:117].rsplit(" ", 1)[0] + "…"
    meta = {"id": doc_id, "title": title, "citation_name": title, "_path": path}
    guessed = (f"id {doc_id!r} from the file name", f"title {title!r} from the first line")
    return meta, guessed
