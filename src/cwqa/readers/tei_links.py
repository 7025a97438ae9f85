"""What a FRUS document says of itself and points to: its date and place, the people and terms
it mentions, who wrote it to whom, its classification, and its cross-references to other
documents and pages.

These become a document's ``extra`` so that facets ("documents mentioning Dulles"), display
("From the Embassy in the Soviet Union to the Department of State") and links between documents
need no second reading of the file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from .tei_xml import FRUS_NS, URL_BASE, local, plain_text

# Classifications as FRUS source notes print them ("Top Secret; Limit Distribution.").
_CLASSIFICATION = re.compile(
    r"(?:^|[.;:]\s+)((?:Top Secret|Secret|Confidential|Limited Official Use|Official Use Only|Unclassified|Restricted)"
    r"(?:;\s*[A-Z][\w/-]*(?:\s+[A-Za-z][\w/-]*){0,3})*)\s*\.",
)
_CLASSIFICATION_WORD = re.compile(r"(top secret|secret|confidential|restricted|strictly confidential)\.?", re.IGNORECASE)
_TARGET = re.compile(r"(?P<volume>[\w-]*)#(?P<fragment>.+)|(?P<whole>frus[\w-]+)")


def links(roots: list[ET.Element], head: ET.Element | None, source_note: str, header: list[str], volume_id: str) -> dict:
    """All of a document's names and pointers, for its ``extra`` (empty ones included)."""
    return {
        "classification": classification(source_note, header),
        "persons": mentions(roots, "persName", "corresp"),
        "terms": mentions(roots, "gloss", "target"),
        "refs": references(roots, volume_id),
        **correspondents(head),
    }


def date_and_place(datelines: list[ET.Element], div: ET.Element) -> tuple[str, str]:
    """ISO date and place from the dateline, else the date from the document's date range.

    An editorial note's range spans the whole volume: it is no date, so it stays empty.
    """
    when, place = "", ""
    for dateline in datelines:
        for element in dateline.iter():
            if local(element) == "date" and element.get("when") and not when:
                when = element.get("when")
            elif local(element) == "placeName" and not place:
                place = plain_text(element)
    if when:
        return when[:10], place
    if div.get("subtype") == "editorial-note":
        return "", place
    return div.get(f"{{{FRUS_NS}}}doc-dateTime-min", "")[:10], place


def mentions(roots: Iterable[ET.Element], element_name: str, attribute: str) -> list[str]:
    """The ids a document's mentions point to ('#p_DJF1' -> 'p_DJF1'), first mention first."""
    seen: dict[str, None] = {}
    for root in roots:
        for element in root.iter():
            if local(element) != element_name:
                continue
            for token in (element.get(attribute) or "").split():
                if token.startswith("#") and len(token) > 1:
                    seen.setdefault(token[1:], None)
    return list(seen)


def correspondents(head: ET.Element | None) -> dict[str, str]:
    """Sender and recipient as the head marks them (``persName``/``gloss`` with @type from/to)."""
    found: dict[str, list[str]] = {"from": [], "to": []}
    if head is None:
        return {}
    for element in head.iter():
        kind = element.get("type")
        if local(element) in ("persName", "gloss", "orgName", "placeName") and kind in found:
            text = plain_text(element)
            if text and text not in found[kind]:
                found[kind].append(text)
    record = {"sender": "; ".join(found["from"]), "recipient": "; ".join(found["to"])}
    return {key: value for key, value in record.items() if value}


def classification(source_note: str, header_lines: Iterable[str] = ()) -> str:
    """'Top Secret; Limit Distribution' from the source note, else a header line that is one.

    Older volumes print it above the dateline ('SECRET') instead of in a source note.
    """
    match = _CLASSIFICATION.search(source_note)
    if match:
        return match.group(1)
    for line in header_lines:
        if _CLASSIFICATION_WORD.fullmatch(line.strip()):
            return line.strip().rstrip(".").title()
    return ""


def references(roots: Iterable[ET.Element], volume_id: str) -> list[dict]:
    """Each ``ref[@target]`` resolved: a document or page of this volume or another, or a URL.

    '#d39' -> {"volume": <this>, "document": 39}; 'frus1952-54v08#pg_954' -> {"volume":
    "frus1952-54v08", "page": 954}; a whole volume 'frus1955-57v19' -> {"volume": ...}.
    """
    records = []
    for root in roots:
        for element in root.iter():
            if local(element) == "ref" and element.get("target"):
                record = resolve_target(element.get("target").strip(), volume_id)
                record["text"] = plain_text(element)
                records.append(record)
    return records


def resolve_target(target: str, volume_id: str) -> dict:
    """One cross-reference target as a record with a URL where history.state.gov has one."""
    if re.match(r"https?://", target):
        return {"url": target}
    match = _TARGET.fullmatch(target)
    if not match:
        return {"target": target}
    if match.group("whole"):
        volume = match.group("whole")
        return {"volume": volume, "url": f"{URL_BASE}/{volume}"}
    volume = match.group("volume") or volume_id
    fragment = match.group("fragment")
    record: dict = {"volume": volume}
    document = re.fullmatch(r"d(\d+)(?:fn(\w+))?", fragment)
    page = re.fullmatch(r"pg_(\w+)", fragment)
    if document:
        record["document"] = int(document.group(1))
        if document.group(2):
            record["note"] = document.group(2)
        record["url"] = f"{URL_BASE}/{volume}/d{document.group(1)}"
    elif page:
        number = page.group(1)
        record["page"] = int(number) if number.isdigit() else number
        record["url"] = f"{URL_BASE}/{volume}/pg_{number}"
    else:
        record["target"] = fragment
        record["url"] = f"{URL_BASE}/{volume}/{fragment}"
    return record
