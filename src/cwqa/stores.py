"""A build's passages on disk, read one at a time: what lets a million-passage index open in seconds.

chunks.jsonl holds one passage a line. Beside it the build saves, as plain numpy arrays:

    chunk_offsets.npy   byte offset of line i (and the file's length last), so passage i is one
                        slice of the memory-mapped file, decoded only when asked for
    chunk_docs.npy      passage i's document, as an index into documents.json
    chunk_days.npy      passage i's date as a number, yyyymmdd (0 where undated; a month or a year
                        alone has zeros for what it lacks), for date filters in vector operations
    chunk_keys.npy      64-bit hashes of the passage ids, sorted, with the positions they belong
                        to in chunk_key_positions.npy: a passage by id is a binary search

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

from .passages import Chunk

CHUNKS = "chunks.jsonl"
OFFSETS = "chunk_offsets.npy"
DOCS = "chunk_docs.npy"
DAYS = "chunk_days.npy"
KEYS = "chunk_keys.npy"
KEY_POSITIONS = "chunk_key_positions.npy"
FILES = (CHUNKS, OFFSETS, DOCS, DAYS, KEYS, KEY_POSITIONS)
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


def write_chunks(folder: Path, chunks: Sequence[Chunk], doc_index: dict[str, int], extra: Sequence[dict] = ()) -> None:
    """chunks.jsonl and its arrays. `extra[i]` adds fields to passage i's record (e.g. its
    embedding key)."""
    offsets = [0]
    with open(folder / CHUNKS, "wb") as handle:
        for i, chunk in enumerate(chunks):
            record = dataclasses.asdict(chunk)
            if extra:
                record.update(extra[i])
            line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
            handle.write(line)
            offsets.append(offsets[-1] + len(line))
    np.save(folder / OFFSETS, np.asarray(offsets, dtype=np.int64))
    np.save(folder / DOCS, np.asarray([doc_index[c.doc_id] for c in chunks], dtype=np.int32))
    np.save(folder / DAYS, np.asarray([day_number(c.date) for c in chunks], dtype=np.int32))
    keys = np.asarray([id_key(c.id) for c in chunks], dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    np.save(folder / KEYS, keys[order])
    np.save(folder / KEY_POSITIONS, order.astype(np.int64))


class ChunkStore(Sequence):
    """The passages of one build: a read-only sequence of `Chunk`s, decoded on demand."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.offsets = np.load(folder / OFFSETS)
        self.docs = np.load(folder / DOCS, mmap_mode="r")
        self.days = np.load(folder / DAYS, mmap_mode="r")
        self._keys = np.load(folder / KEYS, mmap_mode="r")
        self._key_positions = np.load(folder / KEY_POSITIONS, mmap_mode="r")
        size = int(self.offsets[-1]) if len(self.offsets) else 0
        with open(folder / CHUNKS, "rb") as handle:
            self._data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        if len(self._data) != size or len(self.docs) != len(self) or len(self.days) != len(self):
            raise ValueError(f"{folder / CHUNKS} does not match its offsets")
        self._cache: OrderedDict[int, Chunk] = OrderedDict()

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        index = int(index)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        chunk = self._cache.get(index)
        if chunk is None:
            line = self._data[int(self.offsets[index]) : int(self.offsets[index + 1])]
            record = json.loads(line)
            chunk = Chunk(**{key: value for key, value in record.items() if key in _FIELDS})
            self._cache[index] = chunk
            if len(self._cache) > CACHE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(index)
        return chunk

    def __iter__(self) -> Iterator[Chunk]:
        return (self[i] for i in range(len(self)))

    def record(self, index: int) -> dict:
        """Passage i's whole saved record (with fields Chunk does not keep, e.g. its embedding key)."""
        return json.loads(self._data[int(self.offsets[index]) : int(self.offsets[index + 1])])

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
