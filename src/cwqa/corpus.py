"""Corpus stage: files in `corpus/` become `Document`s made of cited `Paragraph`s.

A plain-text document (``*.txt``) comes with a metadata file beside it (``*.meta.json``) that says
what it is and where it is printed. The parser recovers the printed structure from the text itself:
section headings, paragraph labels, page markers and paragraphs split at page breaks. Other formats
(FRUS TEI volumes) register a reader in ``READERS`` by file suffix.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .errors import CorpusError

METADATA_SUFFIX = ".meta.json"


@dataclass(frozen=True)
class Paragraph:
    """One paragraph as printed, with everything needed to cite it and to find it in its file."""

    id: str  # stable: "long-telegram/part-3/b"
    doc_id: str
    section_id: str  # "part-3", "policy-conclusions"
    section_label: str  # as cited: "Part 3", "Policy Conclusions"
    section_title: str  # as displayed: "Part 3: Projection of Soviet Outlook ..."
    label: str  # as printed: "(b)", "1.", "9"; "" when the paragraph has none
    ordinal: int  # 1-based position among the document's paragraphs
    text: str
    first_page: int | None
    last_page: int | None
    start: int  # character offsets of the paragraph's span in the source file
    end: int
    kind: str = "body"  # "body", "heading" (the printed title lines) or "footnote"
    anchor_id: str | None = None  # for a footnote: the paragraph it hangs from
    series_note: str = ""  # "second list" when a label repeats within its section


@dataclass(frozen=True)
class Document:
    """A document of the corpus: its metadata, its paragraphs, and the file it was read from."""

    id: str
    title: str
    citation_name: str  # how citations open: 'Kennan, "Long Telegram", 22 Feb 1946'
    path: Path
    paragraphs: tuple[Paragraph, ...]
    author: str = ""
    date: str = ""  # ISO 8601, as precise as known
    place: str = ""
    collection: str = ""
    source: dict = field(default_factory=dict)  # printed source: volume, document, pages, url
    extra: dict = field(default_factory=dict)  # signature, source note, header lines, ...

    @property
    def url(self) -> str:
        """Where the printed document can be read online, if known."""
        return self.source.get("url", "")


def file_sha256(path: Path) -> str:
    """Content hash of a corpus file, recorded in the index manifest to detect staleness."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Citations


def format_pages(first: int | None, last: int | None) -> str:
    """'p. 245' or 'pp. 244–245'; empty when the pages are unknown."""
    if first is None:
        return ""
    if last is None or last == first:
        return f"p. {first}"
    return f"pp. {first}–{last}"


def heading_paragraph(doc_id: str, text: str, page: int | None, span: tuple[int, int]) -> Paragraph:
    """A document's printed heading lines as its first passage ('{doc_id}/heading', ordinal 0).

    Every reader keeps one: "The Chargé in Moscow (Kennan) to the Secretary of State" answers
    who wrote to whom, which no body paragraph says.
    """
    return Paragraph(
        id=f"{doc_id}/heading", doc_id=doc_id, section_id="heading", section_label="Heading",
        section_title="Heading", label="", ordinal=0, text=text,
        first_page=page, last_page=page, start=span[0], end=span[1], kind="heading",
    )


def paragraph_mark(paragraph: Paragraph) -> str:
    """How a paragraph is named inside its section: '¶(b)', '¶9', or 'para. 3' when unlabeled."""
    if paragraph.label:
        mark = "¶" + paragraph.label.rstrip(".")
    else:
        mark = f"para. {section_position(paragraph)}"
    if paragraph.series_note:
        mark += f" ({paragraph.series_note})"
    return mark


def section_position(paragraph: Paragraph) -> int:
    """1-based position of a paragraph in its section, encoded in its id for unlabeled ones."""
    tail = paragraph.id.rsplit("/", 1)[-1]
    match = re.fullmatch(r"p(\d+)", tail)
    return int(match.group(1)) if match else paragraph.ordinal


def format_citation(document: Document, paragraph: Paragraph) -> str:
    """A citation a reader can check in print.

    'Kennan, "Long Telegram", 22 Feb 1946, Part 3 ¶(b), pp. 696–709 — FRUS 1946, vol. VI, doc. 475'
    """
    where = [document.citation_name]
    if paragraph.kind == "footnote":
        where.append(f"n. {paragraph.label}" if paragraph.label else "note")
    elif paragraph.kind == "heading":
        where.append("heading")
    else:
        section = paragraph.section_label
        where.append(f"{section} {paragraph_mark(paragraph)}".strip())
    pages = format_pages(paragraph.first_page, paragraph.last_page)
    if pages:
        where.append(pages)
    citation = ", ".join(part for part in where if part)
    printed = document.source.get("volume_short", "")
    if printed:
        number = document.source.get("document")
        citation += f" — {printed}" + (f", doc. {number}" if number else "")
    return citation


# ---------------------------------------------------------------------------------------------
# Reading the corpus folder

Reader = Callable[[Path], list[Document]]
READERS: dict[str, Reader] = {}


def register_reader(suffix: str, reader: Reader) -> None:
    """Teach `load_corpus` a file format (by suffix, e.g. '.xml')."""
    READERS[suffix] = reader


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The document files of a corpus folder (metadata files and READMEs excluded), sorted."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    _register_builtin_readers()
    files = []
    for path in sorted(corpus_dir.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.name.endswith(METADATA_SUFFIX):
            continue
        if path.name.lower().startswith("readme"):
            continue
        if path.suffix in READERS:
            files.append(path)
    return files


def load_corpus(corpus_dir: Path) -> list[Document]:
    """Read every document file in `corpus_dir`; a bad file raises CorpusError naming it."""
    files = corpus_files(corpus_dir)
    if not files:
        raise CorpusError(f"{corpus_dir}: no document files (*.txt with metadata, *.xml FRUS volumes)")
    documents: list[Document] = []
    seen: dict[str, Path] = {}
    for path in files:
        for document in READERS[path.suffix](path):
            if document.id in seen:
                raise CorpusError(
                    f"{path}: document id {document.id!r} is already used by {seen[document.id].name}"
                )
            seen[document.id] = path
            documents.append(document)
    return documents


def _register_builtin_readers() -> None:
    READERS.setdefault(".txt", read_text_document)
    try:  # the FRUS TEI reader is its own module; the corpus works without it
        from . import frus

        READERS.setdefault(".xml", frus.read_volume)
    except ImportError:
        pass


def read_source_text(path: Path) -> str:
    """A corpus file's text; not UTF-8 or empty gives a CorpusError naming the file."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CorpusError(f"{path}: not UTF-8 (byte {error.start}: {data[error.start:error.start + 1]!r})")
    if not text.strip():
        raise CorpusError(f"{path}: the file is empty")
    return text


# ---------------------------------------------------------------------------------------------
# Metadata

_REQUIRED_FIELDS = ("id", "title", "citation_name")
_TEXT_FIELDS = ("id", "title", "citation_name", "author", "date", "place", "collection")


def read_metadata(text_path: Path) -> dict:
    """The metadata file beside a text document, checked; errors name the file and the field."""
    meta_path = text_path.with_name(text_path.name[: -len(text_path.suffix)] + METADATA_SUFFIX)
    if not meta_path.exists():
        raise CorpusError(f"{text_path}: no metadata file {meta_path.name} beside it")
    try:
        meta = json.loads(read_source_text(meta_path))
    except json.JSONDecodeError as error:
        raise CorpusError(f"{meta_path}: not valid JSON (line {error.lineno}: {error.msg})")
    if not isinstance(meta, dict):
        raise CorpusError(f"{meta_path}: must hold a JSON object")
    for name in _REQUIRED_FIELDS:
        if not str(meta.get(name) or "").strip():
            raise CorpusError(f"{meta_path}: field {name!r} is missing or empty")
    for name in _TEXT_FIELDS:
        if name in meta and not isinstance(meta[name], str):
            raise CorpusError(f"{meta_path}: field {name!r} must be a string, not {meta[name]!r}")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", meta["id"]):
        raise CorpusError(f"{meta_path}: field 'id' must be lowercase letters, digits and '-', not {meta['id']!r}")
    if meta.get("date") and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", meta["date"]):
        raise CorpusError(f"{meta_path}: field 'date' must be YYYY, YYYY-MM or YYYY-MM-DD, not {meta['date']!r}")
    source = meta.get("source", {})
    if not isinstance(source, dict):
        raise CorpusError(f"{meta_path}: field 'source' must be an object, not {source!r}")
    pages = source.get("pages")
    if pages is not None and not (
        isinstance(pages, list) and len(pages) == 2 and all(isinstance(p, int) for p in pages) and pages[0] <= pages[1]
    ):
        raise CorpusError(f"{meta_path}: field 'source.pages' must be [first, last] page numbers, not {pages!r}")
    for name in ("paragraph_labels", "untitled_sections"):
        value = meta.get(name, [])
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise CorpusError(f"{meta_path}: field {name!r} must be a list of strings, not {value!r}")
    meta["_path"] = meta_path
    return meta


# ---------------------------------------------------------------------------------------------
# Plain-text parsing

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


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


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


def parse_text_document(text: str, meta: dict, path: Path) -> Document:
    """Recover sections, labeled paragraphs and pages from a plain-text document."""
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
            continue
        if _PAGE_MARKER.fullmatch(content):
            number = int(_PAGE_MARKER.fullmatch(content).group(1))
            page_range = (number, number)
            continue
        if not body_started and _looks_like_header(content):
            # Title lines open the file; the last short line before the first paragraph is
            # the first section's heading ("General Considerations"), not a title line.
            opens_body = next_block is not None and not _looks_like_header(next_block.text)
            if not (_is_heading(block, next_block) and opens_body):
                header.append(content)
                header_span[:] = [header_span[0] if header_span else block.start, block.end]
                continue
        if body_started and _SIGNATURE.fullmatch(content) and len(content.split()) <= 3 and block.blank_before:
            trailer.append(content)
            in_trailer = True
            continue
        if _is_heading(block, next_block):
            title = clean_heading(content)
            match = _PART_HEADING.fullmatch(content.strip("*").strip())
            if match:
                section = (f"part-{match.group(1)}", f"Part {match.group(1)}", title)
            else:
                section = (_slug(title), title, title)
            body_started = True
            continue
        if body_started and block.blank_before >= 2 and drafts:
            # A section the source prints without a heading (NSC 5607's objectives list).
            title = untitled.pop(0) if untitled else f"Untitled section {len(drafts) + 1}"
            section = (_slug(title), title, title)
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
    return Document(
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
        key = _slug(label) if label else f"p{position_in_section[section_id]}"
        base = f"{doc_id}/{section_id}/{key}"
        used[base] = used.get(base, 0) + 1
        repeat = used[base]
        paragraph_id = base if repeat == 1 else f"{base}-{repeat}"
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


def read_text_document(path: Path) -> list[Document]:
    """Reader for plain-text documents: the text file plus its metadata file."""
    text = read_source_text(path)
    meta = read_metadata(path)
    document = parse_text_document(text, meta, path)
    if not document.paragraphs:
        raise CorpusError(f"{path}: no paragraphs found")
    return [document]


def source_text(document: Document) -> str:
    """The text of the file a document was read from (what paragraph offsets point into)."""
    return document.path.read_text(encoding="utf-8")
