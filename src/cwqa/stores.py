"""A build's passages and documents on disk, read one at a time: what lets a million-passage
index open in seconds.

chunks.jsonl holds one passage a line, documents.jsonl one document a line. Beside them the build
saves, as plain numpy arrays and text:

    chunk_offsets.npy   byte offset of line i (and the file's length last), so passage i is one
                        slice of the memory-mapped file, decoded only when asked for
    chunk_docs.npy      passage i's document, as an index into documents.json
    chunk_days.npy      passage i's date as a number, yyyymmdd (0 where undated; a month or a year
                        alone has zeros for what it lacks), for date filters in vector operations
    chunk_keys.npy      64-bit hashes of the passage ids, sorted, with the positions they belong
                        to in chunk_key_positions.npy: a passage by id is a binary search
    document_offsets.npy  the same for documents.jsonl
    document_ids.txt    the documents' ids, one a line, in index order
    document_numbers.npy  each document's printed number (FRUS "doc. 41"), -1 where it has none
    facet_values.json   each facet's distinct values, and facet_numbers.npy each document's
                        value number per facet (documents.FacetColumn), so facet filters need no
                        pass over the documents when an index is opened

A million passages would be several seconds of JSON and a gigabyte of Python objects if all were
read at open; read this way, opening costs what it takes to map these files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import mmap
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from .documents import FACETS, FacetColumn, IndexedDocument, facet_table
from .passages import Chunk

CHUNKS = "chunks.jsonl"
DOCUMENTS = "documents.jsonl"
DOCUMENT_OFFSETS = "document_offsets.npy"
DOCUMENT_IDS = "document_ids.txt"
DOCUMENT_NUMBERS = "document_numbers.npy"
FACET_VALUES = "facet_values.json"
FACET_NUMBERS = "facet_numbers.npy"
OFFSETS = "chunk_offsets.npy"
DOCS = "chunk_docs.npy"
DAYS = "chunk_days.npy"
KEYS = "chunk_keys.npy"
KEY_POSITIONS = "chunk_key_positions.npy"
CACHE = 4096  # decoded passages kept: a page of results and the documents being read

_FIELDS = {f.name for f in dataclasses.fields(Chunk)}


def day_number(date: str, upper: bool = False) -> int:
    """An ISO date (YYYY, YYYY-MM or YYYY-MM-DD) as yyyymmdd; what it lacks is 00, or 99 when
    `upper` (so "1961-03" as an upper bound includes every day of March). 0 when empty."""
    if not date:
        return 0
    parts = [int(part) for part in date[:10].split("-")[:3] if part.isdigit()]
    if not parts:
        return 0
    year, month, day = (parts + [99 if upper else 0] * 2)[:3]
    return year * 10000 + month * 100 + day


def id_key(chunk_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(chunk_id.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


def _write_lines(path: Path, offsets_path: Path, records) -> None:
    """One JSON object a line, and the byte offset of each line (and of the end) beside it."""
    offsets = [0]
    with open(path, "wb") as handle:
        for record in records:
            line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
            handle.write(line)
            offsets.append(offsets[-1] + len(line))
    np.save(offsets_path, np.asarray(offsets, dtype=np.int64))


class _Lines:
    """A JSON-lines file, memory-mapped; record i is decoded when asked for."""

    def __init__(self, path: Path, offsets_path: Path):
        self.offsets = np.load(offsets_path)
        size = int(self.offsets[-1]) if len(self.offsets) else 0
        with open(path, "rb") as handle:
            self._data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        if len(self._data) != size:
            raise ValueError(f"{path} does not match its offsets")

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def record(self, index: int) -> dict:
        return json.loads(self._data[int(self.offsets[index]) : int(self.offsets[index + 1])])


class _Records(Sequence):
    """A read-only sequence over a JSON-lines file: item i is made from record i when first asked
    for, and the last CACHE items are kept."""

    def __init__(self, lines: _Lines):
        self._lines = lines
        self._cache: OrderedDict[int, object] = OrderedDict()

    def _make(self, record: dict):
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self._lines)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        index = int(index)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        item = self._cache.get(index)
        if item is None:
            item = self._make(self._lines.record(index))
            self._cache[index] = item
            if len(self._cache) > CACHE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(index)
        return item

    def __iter__(self) -> Iterator:
        return (self[i] for i in range(len(self)))

    def record(self, index: int) -> dict:
        """Item i's whole saved record (with fields the item does not keep, e.g. an embedding key)."""
        return self._lines.record(index)


def write_documents(folder: Path, documents: Sequence[IndexedDocument]) -> None:
    """documents.jsonl and the arrays that find, number and facet documents without reading it."""
    _write_lines(folder / DOCUMENTS, folder / DOCUMENT_OFFSETS, (d.to_dict() for d in documents))
    (folder / DOCUMENT_IDS).write_text("".join(f"{d.id}\n" for d in documents), encoding="utf-8")
    np.save(folder / DOCUMENT_NUMBERS, np.asarray([-1 if d.number is None else d.number for d in documents], dtype=np.int64))
    table = facet_table(documents)
    (folder / FACET_VALUES).write_text(json.dumps({name: table[name].values for name in FACETS}, ensure_ascii=False), "utf-8")
    numbers = np.stack([table[name].of_document for name in FACETS], axis=1) if documents else np.zeros((0, len(FACETS)))
    np.save(folder / FACET_NUMBERS, numbers.astype(np.int32))


class DocumentStore(_Records):
    """The documents of one build, as `IndexedDocument`s decoded on demand, with their ids,
    printed numbers and facets loaded whole (they are small)."""

    def __init__(self, folder: Path):
        super().__init__(_Lines(folder / DOCUMENTS, folder / DOCUMENT_OFFSETS))
        self.ids = (folder / DOCUMENT_IDS).read_text(encoding="utf-8").splitlines()
        self.numbers = np.load(folder / DOCUMENT_NUMBERS)
        values = json.loads((folder / FACET_VALUES).read_text(encoding="utf-8"))
        numbers = np.load(folder / FACET_NUMBERS)
        self.facets = {name: FacetColumn(values[name], numbers[:, i]) for i, name in enumerate(FACETS)}
        if len(self.ids) != len(self) or len(self.numbers) != len(self) or len(numbers) != len(self):
            raise ValueError(f"{folder / DOCUMENTS} does not match its arrays")

    def _make(self, record: dict) -> IndexedDocument:
        return IndexedDocument.from_dict(record)


def write_chunks(folder: Path, chunks: Sequence[Chunk], doc_index: dict[str, int], extra: Sequence[dict] = ()) -> None:
    """chunks.jsonl and its arrays. `extra[i]` adds fields to passage i's record (e.g. its
    embedding key)."""
    records = ({**dataclasses.asdict(chunk), **(extra[i] if extra else {})} for i, chunk in enumerate(chunks))
    _write_lines(folder / CHUNKS, folder / OFFSETS, records)
    docs = np.asarray([doc_index[c.doc_id] for c in chunks], dtype=np.int32)
    if len(docs) > 1 and (np.diff(docs) < 0).any():
        # ChunkStore.of_document finds a document's passages by binary search in this array.
        raise ValueError("passages must come document by document, in document order")
    np.save(folder / DOCS, docs)
    np.save(folder / DAYS, np.asarray([day_number(c.date) for c in chunks], dtype=np.int32))
    keys = np.asarray([id_key(c.id) for c in chunks], dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    np.save(folder / KEYS, keys[order])
    np.save(folder / KEY_POSITIONS, order.astype(np.int64))


class ChunkStore(_Records):
    """The passages of one build, as `Chunk`s decoded on demand, with each passage's document and
    date as arrays for filters."""

    def __init__(self, folder: Path):
        super().__init__(_Lines(folder / CHUNKS, folder / OFFSETS))
        self.folder = folder
        self.docs = np.load(folder / DOCS, mmap_mode="r")
        self.days = np.load(folder / DAYS, mmap_mode="r")
        self._keys = np.load(folder / KEYS, mmap_mode="r")
        self._key_positions = np.load(folder / KEY_POSITIONS, mmap_mode="r")
        if len(self.docs) != len(self) or len(self.days) != len(self):
            raise ValueError(f"{folder / CHUNKS} does not match its offsets")

    def _make(self, record: dict) -> Chunk:
        return Chunk(**{key: value for key, value in record.items() if key in _FIELDS})

    def position(self, chunk_id: str) -> int | None:
        """Where the passage with this id is, or None."""
        key = id_key(chunk_id)
        at = int(np.searchsorted(self._keys, key))
        while at < len(self._keys) and self._keys[at] == key:  # a 64-bit collision: check the ids
            position = int(self._key_positions[at])
            if self[position].id == chunk_id:
                return position
            at += 1
        return None

    def of_document(self, doc: int) -> range:
        """Positions of one document's passages (a build keeps each document's passages together)."""
        begin = int(np.searchsorted(self.docs, doc, side="left"))
        end = int(np.searchsorted(self.docs, doc, side="right"))
        return range(begin, end)
