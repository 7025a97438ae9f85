"""Reading a corpus file's bytes and the metadata file beside it, with one-line errors naming the file."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import CorpusError

METADATA_SUFFIX = ".meta.json"
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def read_source_text(path: Path) -> str:
    """A corpus file's text; binary, not UTF-8 or empty gives a CorpusError naming the file."""
    data = path.read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise CorpusError(f"{path}: UTF-16 text; save it as UTF-8")
    nul = data.find(b"\x00", 0, 65536)
    if nul != -1:
        raise CorpusError(f"{path}: not a text file (a NUL byte at byte {nul}; is it binary?)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CorpusError(f"{path}: not UTF-8 (byte {error.start}: {data[error.start:error.start + 1]!r})")
    if text.startswith("\ufeff") and not text[1:].lstrip().startswith("<"):
        # A UTF-8 byte-order mark is no word: blanked, not removed, so offsets still point into the
        # file. XML keeps it: the XML parser reads it as the mark it is.
        text = " " + text[1:]
    if not text.strip():
        raise CorpusError(f"{path}: the file is empty")
    sample = text[:65536]
    controls = len(_CONTROL.findall(sample))
    if controls > max(8, len(sample) // 100):
        raise CorpusError(f"{path}: mostly not text ({controls} control characters in its first {len(sample)} characters)")
    return text


def metadata_path(text_path: Path) -> Path:
    """Where the metadata file of a text document lies: 'x.txt' -> 'x.meta.json'."""
    return text_path.with_name(text_path.name[: -len(text_path.suffix)] + METADATA_SUFFIX)


_REQUIRED_FIELDS = ("id", "title", "citation_name")
_TEXT_FIELDS = ("id", "title", "citation_name", "author", "date", "place", "collection")


def read_metadata(text_path: Path, required: tuple[str, ...] = _REQUIRED_FIELDS) -> dict | None:
    """The metadata file beside a text document, checked; None when there is none.

    Errors name the file and the field.
    """
    meta_path = metadata_path(text_path)
    if not meta_path.exists():
        return None
    try:
        meta = json.loads(read_source_text(meta_path))
    except json.JSONDecodeError as error:
        raise CorpusError(f"{meta_path}: not valid JSON (line {error.lineno}: {error.msg})")
    if not isinstance(meta, dict):
        raise CorpusError(f"{meta_path}: must hold a JSON object")
    for name in required:
        if not str(meta.get(name) or "").strip():
            raise CorpusError(f"{meta_path}: field {name!r} is missing or empty")
    for name in _TEXT_FIELDS:
        if name in meta and not isinstance(meta[name], str):
            raise CorpusError(f"{meta_path}: field {name!r} must be a string, not {meta[name]!r}")
    if "id" in meta and not re.fullmatch(r"[a-z0-9][a-z0-9-]*", str(meta["id"])):
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


