"""A FRUS volume's front and back matter: the List of Persons and the List of Abbreviations and
Terms become searchable, cited documents; the rest is accounted for with the reason it is not.

Each person or term is one passage, printed name first ("Dulles, John Foster, Secretary of
State"), labelled with its xml:id, which the documents' mentions point to
(``persName/@corresp="#p_DJF1"``, ``gloss/@target="#t_NSC1"``). A passage is cited::

    List of Persons, Dulles, John Foster ¶p_DJF1 — FRUS 1955–57, vol. XXIV

The preface, table of contents, list of sources and short titles, the title page and the
back-of-book index are skipped, each under its own reason in the coverage report; a part not
recognised is left unclaimed, so it shows as lost rather than vanishing.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ..documents import METADATA, Document, Paragraph, Span
from ..text import unique
from .tei_xml import (
    COLLECTION,
    URL_BASE,
    XML_ID,
    Parsed,
    Volume,
    children,
    local,
    page_number,
    plain_text,
    text_without,
)

# xml:id of the list -> (key, paragraph kind, title when the list has no head)
LISTS = {
    "persons": ("persons", "person", "List of Persons"),
    "terms": ("terms", "term", "List of Abbreviations and Terms"),
    "abbreviations": ("terms", "term", "List of Abbreviations and Terms"),
}
# xml:id or subtype of a front or back division -> why its words are not in passages
SKIPPED = {
    "preface": "preface",
    "toc": "table of contents",
    "table-of-contents": "table of contents",
    "contents": "table of contents",
    "sources": "list of sources",
    "shorttitles": "list of short titles",
    "short-titles": "list of short titles",
}
BACK_SKIPPED = {"index": "back-of-book index"}
TITLE_PAGE = "title page"
ENTRY_IDS = {"person": "persName", "term": "term"}


def read_matter(root: ET.Element, volume: Volume, parsed: Parsed, path: Path) -> tuple[list[Document], list[Span]]:
    """The persons and terms lists as Documents, and the spans of all front and back matter.

    Spans: the lists' heads as metadata; skipped parts under their reason.
    """
    documents: list[Document] = []
    spans: list[Span] = []
    for part in (e for e in root.iter() if local(e) in ("front", "back")):
        back = local(part) == "back"
        for child in part:
            name = local(child)
            if name == "titlePage":
                spans.append(Span(*parsed.span(child), TITLE_PAGE))
            elif name == "div":
                kind = division_kind(child, back)
                if kind in LISTS:
                    document, kept = list_document(child, LISTS[kind], volume, parsed, path)
                    documents.append(document)
                    spans.extend(kept)
                elif kind:
                    spans.append(Span(*parsed.span(child), kind))
    return documents, spans


def division_kind(div: ET.Element, back: bool) -> str:
    """A front/back division's list key ('persons', 'terms') or skip reason; '' if unknown.

    The xml:id decides first: the lists of persons and terms carry subtype="index" too, and
    only the back matter's index is the book's index.
    """
    skipped = {**SKIPPED, **(BACK_SKIPPED if back else {})}
    for value in (div.get(XML_ID, ""), div.get("subtype", "")):
        if value in LISTS:
            return value
        if value in skipped:
            return skipped[value]
    return ""


def list_document(div: ET.Element, kinds: tuple[str, str, str], volume: Volume, parsed: Parsed, path: Path):
    """One list (persons or terms) as a Document of entries, with its head's metadata span."""
    key, kind, default_title = kinds
    heads = children(div, "head")
    title = plain_text(heads[0]) if heads else default_title
    doc_id = f"{volume.id}-{key}"
    paragraphs = _entries(div, kind, doc_id, key, title, parsed)
    xml_id = div.get(XML_ID) or key
    document = Document(
        id=doc_id, title=title, citation_name=title, path=path, paragraphs=tuple(paragraphs),
        collection=COLLECTION,
        source={
            "series": volume.series, "volume": volume.title, "volume_short": volume.short,
            "part": title, "document": None, "url": f"{URL_BASE}/{volume.id}/{xml_id}",
        },
        extra={
            "volume_id": volume.id, "volume_title": volume.title, "volume_short": volume.short,
            "xml_id": xml_id, "subtype": key, "list": key, "entries": sum(p.kind == kind for p in paragraphs),
        },
    )
    return document, [Span(*parsed.span(head), METADATA) for head in heads]


def _entries(div: ET.Element, kind: str, doc_id: str, key: str, title: str, parsed: Parsed) -> list[Paragraph]:
    """Each ``item`` an entry as printed (a nested list's items are entries of their own);
    a paragraph beside the list (an introduction) is a body passage of the same document."""
    paragraphs: list[Paragraph] = []
    used: dict[str, int] = {}
    page = None
    introductions = set(children(div, "p"))
    for element in div.iter():
        name = local(element)
        if name == "pb":
            page = page_number(element)
        elif name == "item" or element in introductions:
            text = text_without(element, {"list"})
            if not text:
                continue
            label, printed = _entry_label(element, kind) if name == "item" else ("", "")
            base = label or f"p{len(paragraphs) + 1}"
            paragraph_id, _ = unique(f"{doc_id}/{base}", used)
            start, end = parsed.span(element)
            paragraphs.append(Paragraph(
                id=paragraph_id, doc_id=doc_id, section_id=key, section_label=printed, section_title=title,
                label=label, ordinal=len(paragraphs) + 1, text=text, first_page=page, last_page=page,
                start=start, end=end, kind=kind if name == "item" else "body",
            ))
    return paragraphs


def _entry_label(item: ET.Element, kind: str) -> tuple[str, str]:
    """The entry's xml:id ('p_DJF1') and its printed name ('Dulles, John Foster')."""
    for element in item.iter():
        if local(element) == ENTRY_IDS[kind] and element.get(XML_ID):
            return element.get(XML_ID), plain_text(element)
    text = text_without(item, {"list"})
    return "", text.split(",")[0].strip()
