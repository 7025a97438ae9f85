"""One FRUS document (``div[@type="document"]``) read into a `Document` cited as printed::

    FRUS 1955–57, vol. XXIV, doc. 104, ¶9, pp. 244–245
    FRUS 1955–57, vol. XXIV, doc. 104, n. 2, p. 246
    FRUS 1894, Nicaragua, doc. 2, Inclosure para. 1, p. 10

What the reader recovers from the markup:

- paragraphs: ``p``, and each ``list/item`` with its printed ``label`` ("9."); items of a list
  nested in a numbered item carry both labels ("1.a.");
- sections: sub-headings ``p[@rend="center"|"flushleft"]``; the title-like lines that open a
  document ("NSC 5607", "STATEMENT OF POLICY ON ...") and its ``opener`` lines ("[Telegram.]")
  go to ``extra["header"]`` instead; ``frus:attachment`` opens a section named after its
  ``head``, cited as an attachment ("Tab A ¶3", "Attachment para. 2", "Inclosure para. 1");
- printed pages from ``pb[@n]`` in document order, so a paragraph that crosses a page break
  has both pages, and a document starts on the last page break before it;
- footnotes (``note[@n]``, the source note included) as paragraphs of kind "footnote",
  anchored to the paragraph they hang from and kept out of its text; a note on the head of
  the chapter before the document is the document's note too, as on history.state.gov;
- ``start``/``end``: the exact character span of each paragraph's element in the file, and
  the spans of what it keeps as metadata (head, dateline, closer, labels), for the coverage.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from ..documents import METADATA, Document, Paragraph, Span, heading_paragraph
from ..errors import CorpusError
from ..text import slug as _slug
from ..text import unique as _unique
from . import tei_links
from .tei_sections import attachment_names, attachment_record, is_heading, short_cite
from .tei_xml import (
    COLLECTION,
    SPACED,
    URL_BASE,
    XML_ID,
    Parsed,
    Volume,
    children,
    local,
    page_number,
    plain_text,
    preferred,
    text_without,
)

# Containers whose content is paragraphs, never text of their own (see `_has_own_text`).
PARAGRAPH_LIKE = {"p", "ab", "table", "salute", "seg", "l", "lg", "figure", "label"}
META_LISTS = {"subject", "participants"}
ORNAMENT = "ornament"  # a skip reason: '* * *' and '. . . .' lines between paragraphs


@dataclass
class Place:
    """Where a document div sits: its first page, the divisions around it, notes on their heads."""

    div: ET.Element
    page: int | None
    divisions: list[tuple[str, str]]  # (type, head) of the enclosing compilation, chapter, ...
    lead_notes: list[tuple[ET.Element, int | None]] = field(default_factory=list)


@dataclass
class _Container:
    """The document itself or one of its attachments: its title lines, closers and datelines."""

    title: str = ""
    cite: str = ""  # how citations name it: "" for the document, "Tab A" for an attachment
    started: bool = False  # has a paragraph been read in it yet
    head: ET.Element | None = None
    header: list[str] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    closers: list[str] = field(default_factory=list)
    datelines: list[ET.Element] = field(default_factory=list)
    lists: dict[str, list[str]] = field(default_factory=dict)  # "subject", "participants"


@dataclass
class _Draft:
    """A paragraph being read: where its text goes while the walk is inside its element."""

    kind: str  # "body", "footnote", or "meta" (text kept as metadata, never a paragraph)
    element: ET.Element | None
    label: str = ""
    section: tuple[str, str, str] = ("body", "", "")  # section id, title, cited label
    anchor: _Draft | None = None
    container: _Container | None = None
    pieces: list[str] = field(default_factory=list)
    first_page: int | None = None
    last_page: int | None = None

    @property
    def text(self) -> str:
        return " ".join("".join(self.pieces).split())


class DocumentReader:
    """Reads one ``div[@type="document"]`` in document order, keeping track of the printed page."""

    def __init__(self, place: Place, volume: Volume, parsed: Parsed, path: Path):
        self.place, self.div, self.page = place, place.div, place.page
        self.volume, self.parsed, self.path = volume, parsed, path
        self.number = (self.div.get("n") or "").strip()
        self.xml_id = self.div.get(XML_ID) or (f"d{self.number}" if self.number else "")
        if not self.xml_id:
            raise CorpusError(f'{path}: line {parsed.line(self.div)}: a <div type="document"> has neither n nor xml:id')
        self.doc_id = f"{volume.id}-d{self.number}" if self.number else f"{volume.id}-{self.xml_id}"
        self.drafts: list[_Draft] = []
        self.footnotes: list[_Draft] = []
        self.pending_headings: list[str] = []
        self.section: tuple[str, str, str] = ("body", "", "")
        self.section_ids: dict[str, str] = {}  # slug -> section title that owns it
        self.document = _Container()
        self.container = self.document
        self.attachments: list[_Container] = []
        self.attachment_names = attachment_names(self.div)
        self.text_pages: list[int] = []
        self.head: tuple[ET.Element, int | None] | None = None  # the <head> and the page it is on
        self.kept: list[ET.Element] = []  # elements whose words are kept as metadata
        self.ornaments: list[ET.Element] = []

    # -- the walk ------------------------------------------------------------------------------

    def read(self) -> tuple[Document, list[Span]]:
        """The `Document` and the spans of what it keeps as metadata."""
        for note, page in self.place.lead_notes:  # a note on the chapter head just before
            self.page, resume = page, self.page
            self._footnote(note, None)
            self.page = resume
        heads = children(self.div, "head")
        title = ""
        for child in self.div:  # in order, so a page break before the head counts for it
            if heads and child is heads[0]:
                title = self._meta_text(child)
                self.head = (child, self.page)
            else:
                self._block(child)
        self.container.header.extend(self.pending_headings)
        spans = [Span(*self.parsed.span(e), METADATA) for e in self.kept]
        spans += [Span(*self.parsed.span(e), ORNAMENT) for e in self.ornaments]
        return self._document(title), spans

    def _block(self, element: ET.Element) -> None:
        """An element at paragraph level: a paragraph, a heading, a list, or a container."""
        name = local(element)
        if name == "pb":
            self.page = page_number(element)
        elif name == "head" or name == "p" and is_heading(element, plain_text(element)):
            self._heading(element)
        elif name == "list":
            self._list(element, "")
        elif name == "dateline":
            self._meta_text(element)
            self.container.datelines.append(element)
        elif name == "opener":
            self._opener(element)
        elif name == "closer":
            self._closer(element)
        elif name == "attachment":
            self._attachment(element)
        elif name == "note":
            self._footnote(element, self.drafts[-1] if self.drafts else None)  # between paragraphs
        elif name in PARAGRAPH_LIKE or _has_own_text(element):
            self._paragraph(element, "")
        else:  # quote, postscript, div, ...: their children are paragraphs
            for child in element:
                self._block(child)

    def _list(self, element: ET.Element, prefix: str) -> None:
        """A list: each item a paragraph labelled by the ``label`` before it (prefixed when nested)."""
        if element.get("type") in META_LISTS:
            # A memo's SUBJECT line and its list of participants describe it; they are not prose.
            self._meta_text(element)
            items = [plain_text(item) for item in children(element, "item")]
            self.container.lists.setdefault(element.get("type"), []).extend(i for i in items if i)
            return
        label = ""
        for child in element:
            name = local(child)
            if name == "label":
                label = plain_text(child)
                self.kept.append(child)  # printed as the item's label, kept on its paragraph
            elif name == "item":
                self._paragraph(child, prefix + label)
                label = ""
            else:
                self._block(child)

    def _paragraph(self, element: ET.Element, label: str) -> _Draft:
        """A printed paragraph (or list item) in the current section and container."""
        self._open_section()
        draft = _Draft("body", element, label, self.section, container=self.container)
        self.drafts.append(draft)
        self._inline(element, draft)
        return draft

    def _inline(self, element: ET.Element, draft: _Draft) -> None:
        """Text of an element into `draft`; notes, page breaks and nested lists are handled apart."""
        self._add(draft, element.text)
        for child in element:
            name = local(child)
            if name == "pb":
                self.page = page_number(child)
            elif name == "note" and child.get("rend") != "inline" and draft.kind != "footnote":
                self._footnote(child, draft if draft.kind == "body" else None)
            elif name == "list" and draft.kind == "body":
                self._list(child, draft.label)  # its items are paragraphs of their own
            elif name == "choice":
                self._inline(preferred(child), draft)
            else:
                spaced = name in SPACED
                draft.pieces.append(" " if spaced else "")
                self._inline(child, draft)
                draft.pieces.append(" " if spaced else "")
            self._add(draft, child.tail)

    def _add(self, draft: _Draft, text: str | None) -> None:
        """Append text, noting the page it is printed on (a page counts once it has text)."""
        if not text:
            return
        draft.pieces.append(text)
        if text.strip() and self.page is not None:
            draft.first_page = draft.first_page if draft.first_page is not None else self.page
            draft.last_page = self.page
            self.text_pages.append(self.page)

    def _footnote(self, element: ET.Element, anchor: _Draft | None) -> None:
        """A note becomes a paragraph of its own, cited 'n. 2', anchored where it is called."""
        label = (element.get("n") or "").strip()
        if element.get("type") == "source" and label in ("", "0"):
            label = "source"  # an unnumbered source note
        draft = _Draft("footnote", element, label, ("footnotes", "Footnotes", ""), anchor, self.container)
        self.footnotes.append(draft)
        self._inline(element, draft)

    def _meta_text(self, element: ET.Element) -> str:
        """Text kept as metadata (title, dateline, closer); its notes still become footnotes."""
        self.kept.append(element)
        draft = _Draft("meta", element)
        self._inline(element, draft)
        return draft.text

    # -- sections, openers, closers, attachments -----------------------------------------------

    def _heading(self, element: ET.Element) -> None:
        """A sub-heading waits for the paragraph it titles (see `_open_section`)."""
        text = self._meta_text(element)
        if _slug(text):
            self.pending_headings.append(text)
        else:  # an ornament ('* * *') is not a heading
            self.kept.remove(element)
            self.ornaments.append(element)

    def _open_section(self) -> None:
        """Headings waiting for a paragraph become its section.

        Before a container's first paragraph, all but the last heading are title lines
        ('NSC 5607', 'STATEMENT OF POLICY ON ...'): they go to the header, not the body.
        """
        if self.pending_headings:
            lead, last = self.pending_headings[:-1], self.pending_headings[-1]
            if not self.container.started:
                self.container.header.extend(lead)
                lead = []
            self._set_section(" — ".join(lead + [last]))
            self.pending_headings = []
        self.container.started = True

    def _set_section(self, heading: str) -> None:
        """Open a section: its id (unique), its title as shown and its name as cited."""
        container = self.container
        title = f"{container.title} — {heading}" if container.title and heading else (heading or container.title)
        cite = f"{container.cite} — {heading}" if container.cite and heading else (container.cite or short_cite(title))
        slug = _slug(title) or "body"
        base, n = slug, 1
        while self.section_ids.get(slug, title) != title:  # a new section with a used name
            n += 1
            slug = f"{base}-{n}"
        self.section_ids[slug] = title
        self.section = (slug, title, cite)

    def _opener(self, element: ET.Element) -> None:
        """An opener's lines ('[Telegram.]', 'SECRET') are header lines; its dateline dates it."""
        self.kept.append(element)
        loose = _has_own_text(element)  # '<opener>SECRET <dateline>...': the opener is one line
        if loose:
            self.container.header.append(text_without(element, {"dateline"}))
        for child in element:
            if local(child) == "dateline":
                self._meta_text(child)
                self.container.datelines.append(child)
            elif local(child) == "pb":
                self.page = page_number(child)
            else:
                line = self._meta_text(child)  # read even when loose: its notes are footnotes
                if line and not loose:
                    self.container.header.append(line)

    def _closer(self, element: ET.Element) -> None:
        """A closer is metadata: its signature names the writer, its dateline may date it."""
        text = self._meta_text(element)
        signed = [plain_text(s) for s in element.iter() if local(s) == "signed"]
        self.container.signatures.extend(s for s in signed if s)
        if text and text != " ".join(signed):
            self.container.closers.append(text)
        for dateline in (d for d in element.iter() if local(d) == "dateline"):
            self.container.datelines.append(dateline)

    def _attachment(self, element: ET.Element) -> None:
        """An attachment's paragraphs form a section named after its head, cited as attachment."""
        heads = children(element, "head")
        outer, outer_section = self.container, self.section
        title, cite = self.attachment_names.get(element, ("Attachment", "Attachment"))
        self.container = _Container(title=title, cite=cite, head=heads[0] if heads else None)
        if heads:
            self._meta_text(heads[0])
        self.attachments.append(self.container)
        self.pending_headings = []
        self._set_section("")
        for child in element:
            if not (heads and child is heads[0]):
                self._block(child)
        self.container.header.extend(self.pending_headings)
        self.pending_headings = []
        self.container, self.section = outer, outer_section

    # -- the result ----------------------------------------------------------------------------

    def _document(self, title: str) -> Document:
        """The finished Document, cited 'FRUS 1955–57, vol. XXIV, doc. 104' (see below)."""
        paragraphs = self._paragraphs()
        heading = self._heading_paragraph(title)
        if heading is not None:
            paragraphs.insert(0, heading)
        pages = [self.text_pages[0], max(self.text_pages)] if self.text_pages else None
        date, place = tei_links.date_and_place(self.document.datelines, self.div)
        # volume_short is left empty so format_citation adds no '— FRUS ..., doc. n' tail:
        # citation_name already opens with it. The value is in extra["volume_short"].
        source = {
            "series": self.volume.series, "volume": self.volume.title, "volume_short": "",
            "document": int(self.number) if self.number.isdigit() else self.number,
            "url": f"{URL_BASE}/{self.volume.id}/{self.xml_id}",
        }
        if pages:
            source["pages"] = pages
        number = source["document"]
        return Document(
            id=self.doc_id, title=title,
            citation_name=f"{self.volume.short}, doc. {number}" if number != "" else self.volume.short,
            path=self.path, paragraphs=tuple(paragraphs), date=date, place=place,
            collection=COLLECTION, source=source, extra=self._extra(number),
        )

    def _heading_paragraph(self, title: str) -> Paragraph | None:
        """The printed heading as a passage of its own, as the text reader keeps it: "104.
        National Security Council Report / NSC 5607 / ... / Washington, June 29, 1956." answers
        who wrote to whom, and when. An editorial note's heading says nothing: none for it."""
        if self.head is None or not title or self.div.get("subtype") == "editorial-note":
            return None
        element, page = self.head
        dateline = " ".join(plain_text(d) for d in self.document.datelines[:1])
        if dateline.rstrip(". ") in title:
            dateline = ""  # a memorandum's title often carries it already
        text = " / ".join(line for line in [title, *self.document.header, dateline] if line.strip())
        page = page or (self.text_pages[0] if self.text_pages else None)
        return heading_paragraph(self.doc_id, text, page, self.parsed.span(element))

    def _extra(self, number) -> dict:
        """Metadata for facets and display; empty optional fields are left out."""
        roots = [self.div, *(note for note, _ in self.place.lead_notes)]
        source_note = next((f.text for f in self.footnotes if f.element.get("type") == "source"), "")
        extra = {
            "volume_id": self.volume.id, "volume_title": self.volume.title, "volume_short": self.volume.short,
            "doc_number": number, "xml_id": self.xml_id, "subtype": self.div.get("subtype", ""),
            "source_note": source_note, "footnote_count": len(self.footnotes),
            "divisions": [head for _, head in self.place.divisions],
        }
        container = self.document
        datetimes = [d.get("when") for dl in container.datelines for d in dl.iter() if local(d) == "date"]
        optional = {
            "compilation": next((h for kind, h in reversed(self.place.divisions) if kind == "compilation"), ""),
            "chapter": next((h for kind, h in reversed(self.place.divisions) if kind == "chapter"), ""),
            "header": container.header,
            "subject": "; ".join(container.lists.get("subject", [])),
            "participants": container.lists.get("participants", []),
            "dateline": " ".join(plain_text(d) for d in container.datelines[:1]),
            "datetime": next((w for w in datetimes if w), ""),
            "signature": "; ".join(container.signatures),
            "closer": container.closers,
            "attachments": [attachment_record(a) for a in self.attachments],
            **tei_links.links(roots, self.head[0] if self.head else None, source_note, container.header, self.volume.id),
        }
        extra.update({key: value for key, value in optional.items() if value})
        return extra

    def _paragraphs(self) -> list[Paragraph]:
        """Body paragraphs in document order, then the footnotes; ids stable and unique."""
        body = [d for d in self.drafts if d.text]
        counts: dict[str, int] = {}
        for draft in body:
            counts[draft.label] = counts.get(draft.label, 0) + 1
        ids: dict[int, str] = {}
        paragraphs: list[Paragraph] = []
        used: dict[str, int] = {}
        positions: dict[str, int] = {}
        for draft in body:
            section_id, _, cite = draft.section
            key = _slug(draft.label)
            if not key:
                # Unlabeled paragraphs are cited by their place among the section's paragraphs.
                positions[section_id] = positions.get(section_id, 0) + 1
                key = f"p{positions[section_id]}"
            paragraph_id, repeat = _unique(f"{self.doc_id}/{section_id}/{key}", used)
            ids[id(draft)] = paragraph_id
            # A label found once in the document identifies its paragraph alone ('¶9'); else
            # the section is cited with it ('Recommendation ¶1', 'Part 3 ¶(b)'). An attachment
            # is always named ('Tab A ¶1'): its numbering starts afresh.
            unique_label = bool(draft.label) and counts[draft.label] == 1
            attachment = draft.container.cite if draft.container is not None else ""
            section_label = (attachment or "") if unique_label else cite
            paragraphs.append(self._record(draft, paragraph_id, section_label, len(paragraphs) + 1, repeat))
        for n, draft in enumerate(self.footnotes, start=1):
            paragraph_id, _ = _unique(f"{self.doc_id}/fn-{_slug(draft.label) or n}", used)
            anchor = ids.get(id(draft.anchor)) if draft.anchor is not None else None
            paragraphs.append(self._record(draft, paragraph_id, "", len(paragraphs) + 1, 1, anchor))
        return paragraphs

    def _record(self, draft, paragraph_id, section_label, ordinal, repeat, anchor=None) -> Paragraph:
        """A draft as a Paragraph, with the span of its element in the file."""
        start, end = self.parsed.span(draft.element)
        return Paragraph(
            id=paragraph_id, doc_id=self.doc_id, section_id=draft.section[0], section_label=section_label,
            section_title=draft.section[1], label=draft.label, ordinal=ordinal, text=draft.text,
            first_page=draft.first_page, last_page=draft.last_page, start=start, end=end, kind=draft.kind,
            anchor_id=anchor, series_note={1: "", 2: "second list", 3: "third list"}.get(repeat, f"list {repeat}"),
        )


def _has_own_text(element: ET.Element) -> bool:
    """Mixed content (text beside or between its children) is a paragraph, not a container."""
    if (element.text or "").strip():
        return True
    return any((child.tail or "").strip() for child in element)
