"""The backend interface: one small class per engine, with three required searches.

Positions are the build's passage numbers (row i of embeddings.npy, line i of chunks.jsonl); every
backend keys its records by them, so a hit means the same passage whatever engine found it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib.metadata import entry_points

import numpy as np

from ..stores import day_number
from ..errors import ConfigError

@dataclass(frozen=True)
class Filter:
    """Which passages a search may return. None on a field means that field does not restrict.

    documents: indices into the build's document list (documents.json order).
    date_from: the earliest ISO date ("1961-03-01"); passages without a date never pass a date bound.
    date_to:   the latest ISO date, as precise as given: "1961-03" includes all of March.
    """

    documents: np.ndarray | None = None
    date_from: str | None = None
    date_to: str | None = None

    @property
    def empty(self) -> bool:
        """True when nothing is filtered."""
        return self.documents is None and not self.date_from and not self.date_to

    @property
    def day_range(self) -> tuple[int | None, int | None]:
        """The date bounds as yyyymmdd numbers (cwqa.stores.day_number): every engine compares
        integers, and "1961-03" as an upper bound includes March 31."""
        return (day_number(self.date_from) if self.date_from else None,
                day_number(self.date_to, upper=True) if self.date_to else None)


Ranked = list[tuple[int, float]]  # (position, score), best first


class SearchBackend(ABC):
    """Finds the top passages for a query vector or for weighted BM25 terms, under a filter.

    A backend is opened over one build (`Backend(loaded_index, settings, log=...)`); all scores are the same
    numbers whatever the engine: cosine for dense, BM25 (bm25s's weights, Lucene's formula) for
    lexical, so fusion and the good-match verdict above need not know which engine ran.
    """

    name: str = ""

    @abstractmethod
    def dense(self, vector: np.ndarray, depth: int, where: Filter) -> Ranked:
        """The `depth` passages whose vectors are closest (inner product of unit vectors)."""

    @abstractmethod
    def lexical(self, terms: dict[str, float], depth: int, where: Filter) -> Ranked:
        """The `depth` best passages by BM25, each term's score counted `terms[term]` times;
        passages with none of the terms are never returned."""

    @abstractmethod
    def lexical_at(self, terms: dict[str, float], positions: list[int]) -> np.ndarray:
        """BM25 scores of the given passages (0 where none of the terms occurs)."""

    def close(self) -> None:
        """Release connections and files (nothing to do for most backends)."""


def registered() -> dict[str, object]:
    """Backends registered under the `cwqa.backends` entry point: cwqa's own (pyproject.toml)
    and any other package's, through the same door. A plug-in that fails to load is kept as its
    error, so naming it says why and the others still work."""
    found: dict[str, object] = {}
    for entry in entry_points(group="cwqa.backends"):
        try:
            found[entry.name] = entry.load()
        except Exception as error:
            found[entry.name] = error
    return found


def get_backend(name: str, known: dict[str, object] | None = None) -> type:
    """The backend class registered under `name`; an error listing the names that exist."""
    known = registered() if known is None else known
    backend = known.get(name)
    if backend is None:
        raise ConfigError(f"unknown backend {name!r} (known: {', '.join(sorted(known)) or 'none'})")
    if isinstance(backend, Exception):
        raise ConfigError(f"backend {name!r} cannot be loaded ({type(backend).__name__}: {backend})")
    return backend
