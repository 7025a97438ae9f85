"""Cross-references in the document view: each of a document's references as a link that opens
the referenced document in the app, or, when no indexed document matches, as words that say so."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from ..crossrefs import Catalogue, document_references, volume_id
from ..documents import IndexedDocument
from .escape import escape_html, safe_url
from .urlstate import document_params


@dataclass(frozen=True)
class ReferenceLink:
    """One cross-reference as the document view shows it."""

    text: str  # the document's words: 'footnote 4, Document 99', 'See Documents 83-85'
    target: str  # what it names: 'doc. 99', 'frus1952-54v08, p. 954'
    doc_id: str = ""  # the indexed document it opens; '' when none is indexed
    title: str = ""  # that document's title
    params: dict | None = None  # the app's query parameters that open it
    url: str = ""  # history.state.gov's page for it, when known (http(s) only)


def _target(volume: str, number: int | None, page: int | None, own_volume: str) -> str:
    where = "" if volume == own_volume else f"{volume}, "
    if number is not None:
        return f"{where}doc. {number}"
    return f"{where}p. {page}"


def reference_links(
    document: IndexedDocument, catalogue: Catalogue, chunks: Sequence, documents: Mapping[str, IndexedDocument]
) -> list[ReferenceLink]:
    """The document's cross-references in order (`chunks`: its passages, read for "See Document N"),
    each resolved to an indexed document of this or another volume when one matches."""
    own = volume_id(document)
    texts = {document.id: [chunk.text for chunk in chunks]}
    links = []
    for ref in document_references(document, catalogue, texts):
        target = documents.get(ref.doc_id) if ref.doc_id else None
        links.append(ReferenceLink(
            text=ref.text, target=_target(ref.volume, ref.number, ref.page, own),
            doc_id=target.id if target else "", title=target.title if target else "",
            params=document_params(target.id) if target else None, url=safe_url(ref.url),
        ))
    return links


def link_label(link: ReferenceLink) -> str:
    """The words of a resolved reference's link: 'doc. 47 · 47. Memorandum of a Conversation …'."""
    return f"{link.target} · {link.title}" if link.title else link.target


def unresolved_html(links: Sequence[ReferenceLink]) -> str:
    """References that open nothing here, escaped: what they name, 'not indexed', and the printed
    source's address when history.state.gov has one."""
    rows = []
    for link in links:
        if link.doc_id:
            continue
        printed = f' · <a href="{escape_html(link.url)}" target="_blank" rel="noopener">history.state.gov</a>' if link.url else ""
        words = f" (“{escape_html(link.text)}”)" if link.text and link.text != link.target else ""
        rows.append(f"<li>{escape_html(link.target)}{words}: not indexed{printed}</li>")
    return f'<ul class="cwqa-entries">{"".join(rows)}</ul>' if rows else ""


def reference_catalogue(documents: Sequence[IndexedDocument]) -> Catalogue:
    """The indexed documents by volume and number (and pages), built once per index build."""
    return Catalogue(documents)
