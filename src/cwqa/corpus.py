"""The corpus folder: which reader reads each file, and the documents and coverage they give.

Readers are looked up by file suffix. A ``.txt`` file is a FRUS volume when it is laid out as
one (numbered document headings in order, see `readers.frus_text`), else a single document with
its metadata file beside it, or, without one, a document whose id and title are guessed and
reported.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from .documents import Coverage, Document, Reading
from .errors import CorpusError
from .readers import frus_text, plain, tei
from .readers.source import METADATA_SUFFIX, metadata_path, read_metadata, read_source_text

Reader = Callable[[Path], Reading]


def read_text_file(path: Path) -> Reading:
    """A ``.txt`` file: a whole FRUS volume, or one document (with or without a metadata file)."""
    text = read_source_text(path)
    if frus_text.looks_like_volume(text):
        return frus_text.read_text_volume(path, text, read_metadata(path, required=()))
    meta = read_metadata(path)
    guessed: tuple[str, ...] = ()
    if meta is None:
        meta, guessed = plain.guess_metadata(path, text)
    reading = plain.read_text_document(path, text, meta)
    if guessed:
        reading = Reading(reading.documents, replace(reading.coverage, guessed=guessed))
    return reading


READERS: dict[str, Reader] = {".txt": read_text_file, ".xml": tei.read_volume}


def register_reader(suffix: str, reader: Reader) -> None:
    """Teach `read_corpus` a file format (by suffix, e.g. '.pdf')."""
    READERS[suffix] = reader


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The document files of a corpus folder (metadata files and READMEs excluded), sorted."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    files = []
    for path in sorted(corpus_dir.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.name.endswith(METADATA_SUFFIX):
            continue
        if path.name.lower().startswith("readme"):
            continue
        if path.suffix in READERS:
            files.append(path)
    return files


@dataclass(frozen=True)
class Corpus:
    """Every document of a corpus folder, and the coverage of each file it was read from."""

    documents: list[Document]
    coverage: list[Coverage]


def read_corpus(corpus_dir: Path) -> Corpus:
    """Read every document file in `corpus_dir`; a bad file raises CorpusError naming it."""
    files = corpus_files(corpus_dir)
    if not files:
        raise CorpusError(f"{corpus_dir}: no document files (*.txt documents or FRUS volumes, *.xml FRUS TEI volumes)")
    documents: list[Document] = []
    coverage: list[Coverage] = []
    seen: dict[str, Path] = {}
    for path in files:
        reading = READERS[path.suffix](path)
        for document in reading.documents:
            if document.id in seen:
                raise CorpusError(
                    f"{path}: document id {document.id!r} is already used by {seen[document.id].name}"
                )
            seen[document.id] = path
            documents.append(document)
        coverage.append(reading.coverage)
    return Corpus(documents, coverage)


def load_corpus(corpus_dir: Path) -> list[Document]:
    """The documents of `corpus_dir` (see `read_corpus` for their coverage too)."""
    return read_corpus(corpus_dir).documents


def file_sha256(path: Path) -> str:
    """Content hash of a corpus file, recorded in the index manifest to detect staleness."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def corpus_fingerprint(corpus_dir: Path) -> dict[str, str]:
    """sha256 of every document file and its metadata file, by file name."""
    hashes = {}
    for path in corpus_files(corpus_dir):
        hashes[path.name] = file_sha256(path)
        meta = metadata_path(path)
        if meta.exists():
            hashes[meta.name] = file_sha256(meta)
    return hashes


def source_text(document: Document) -> str:
    """The text of the file a document was read from (what paragraph offsets point into)."""
    return document.path.read_text(encoding="utf-8")
