"""How the parts of a FRUS document are named and cited: sub-headings and attachments.

A section is cited by its heading ('Recommendation ¶1'), or by its number when the heading is
numbered ('Part 3 ¶(b)' for 'Part 3: Projection of Soviet Outlook ...'). An attachment is cited
by its head when that is a label ('Tab A ¶2'), else by the kind its opener names ('[Inclosure
in No. 2.]' -> 'Inclosure para. 1') or as 'Attachment', numbered when a document has several.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from . import tei_links
from .tei_xml import children, local, plain_text

HEADING_RENDS = {"center", "flushleft"}
# An attachment head that is itself a label: 'Tab A', 'Attachment 2', 'Enclosure 1 to Tab B'.
_LABEL_HEAD = re.compile(r"(Attachment|Enclosure|Inclosure|Tab|Annex|Appendix|Exhibit|Addendum)(\s+[A-Z0-9]{1,4})?(\s+(to|of)\s+.{1,30})?")
# An opener line naming the attachment: '[Inclosure in No. 2.]', '[Enclosure 1]'.
_KIND_LINE = re.compile(r"\[?\s*((?:Attachment|Enclosure|Inclosure|Annex|Appendix|Tab|Exhibit)(?:\s+[A-Z0-9]{1,4}\b)?)")
# A section heading cited by its number alone: 'Part 3: Projection of ...' -> 'Part 3'.
_NUMBERED_HEADING = re.compile(r"((?:Part|Section|Chapter|Annex|Appendix)\s+[0-9IVXLC]+[A-Za-z]?)\s*[:.—–-]\s+\S.*")


def is_heading(element: ET.Element, text: str) -> bool:
    """A ``p[@rend="center"|"flushleft"]`` used as a heading.

    Not a heading: a salutation ('Dear Foster:'), a bracketed editorial line ('[Here follows
    ...]'), or a long line; those are printed paragraphs that happen to be centred.
    """
    return (
        element.get("rend") in HEADING_RENDS
        and 0 < len(text) <= 200
        and not text.endswith(":")
        and not text.startswith("[")
    )


def short_cite(title: str) -> str:
    """How a section is cited: 'Part 3' for 'Part 3: Projection of ...', else its title."""
    match = _NUMBERED_HEADING.fullmatch(title)
    return match.group(1) if match else title


def attachment_names(div: ET.Element) -> dict[ET.Element, tuple[str, str]]:
    """Each attachment's (section title, cited label), worked out before the walk.

    A head that is a label ('Tab A') is both. Otherwise the label is the kind an opener line
    names ('[Inclosure in No. 2.]' -> 'Inclosure') or 'Attachment', and the title is
    'Inclosure: <head>'. A label used by several attachments of a document is numbered.
    """
    found: list[tuple[ET.Element, str, str]] = []  # (attachment, cited label, head when not a label)
    for element in (e for e in div.iter() if local(e) == "attachment"):
        heads = children(element, "head")
        head = plain_text(heads[0]).strip(" .[]") if heads else ""
        if head and _LABEL_HEAD.fullmatch(head):
            found.append((element, head, ""))
            continue
        lines = [plain_text(opener) for opener in children(element, "opener")]
        kind = next((m.group(1) for m in (_KIND_LINE.match(line) for line in lines) if m), "Attachment")
        found.append((element, kind, head))
    totals: dict[str, int] = {}
    for _, cite, _ in found:
        totals[cite] = totals.get(cite, 0) + 1
    seen: dict[str, int] = {}
    names = {}
    for element, cite, head in found:
        if totals[cite] > 1:
            seen[cite] = seen.get(cite, 0) + 1
            cite = f"{cite} {seen[cite]}"
        names[element] = (f"{cite}: {head}" if head else cite, cite)
    return names


def attachment_record(attachment) -> dict:
    """What ``extra["attachments"]`` says of one attachment (a `tei_document` container)."""
    record = {
        "title": attachment.title,
        "label": attachment.cite if attachment.cite != attachment.title else "",
        "header": attachment.header,
        "signature": "; ".join(attachment.signatures),
        "dateline": " ".join(plain_text(d) for d in attachment.datelines[:1]),
        **tei_links.correspondents(attachment.head),
    }
    return {key: value for key, value in record.items() if value or key == "title"}
