"""The dense index: FAISS over unit vectors (inner product = cosine), exact or HNSW by size."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Below this many passages exact search is fast enough (about 10 ms at 100k on 2 cores) and
# exact; above it an HNSW graph keeps search in milliseconds. Measured by eval/bench.py.
EXACT_SEARCH_LIMIT = 100_000
HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 200  # 80 gave recall@10 0.83 at 10^6 (eval/bench.py); 200 gives 0.95
# At 10^6 (efConstruction 200): efSearch 128 gives recall@10 0.955 at 1.1 ms p50, 256 gives 0.990
# at 2.0 ms; the margin is worth a millisecond.
HNSW_EF_SEARCH = 256


def choose_dense_index(count: int) -> str:
    """'flat' (exact) for small corpora, 'hnsw' (approximate, fast) above EXACT_SEARCH_LIMIT."""
    return "flat" if count <= EXACT_SEARCH_LIMIT else "hnsw"


def write_dense_index(vectors: np.ndarray, path: Path, kind: str | None = None) -> str:
    """Build and save a FAISS inner-product index over unit vectors; returns its kind."""
    import faiss

    kind = kind or choose_dense_index(len(vectors))
    index = make_dense_index(vectors, kind)
    faiss.write_index(index, str(path))
    return kind


def make_dense_index(vectors: np.ndarray, kind: str):
    """A FAISS index of the given kind holding `vectors` (inner product = cosine on unit vectors)."""
    import faiss

    dimension = vectors.shape[1]
    if kind == "flat":
        index = faiss.IndexFlatIP(dimension)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        raise ValueError(f"unknown dense index kind {kind!r}")
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def read_dense_index(path: Path):
    """A saved FAISS index, memory-mapped: opening a million vectors costs milliseconds and the
    pages are read as searches touch them (a build's files are never changed in place)."""
    import faiss

    flags = getattr(faiss, "IO_FLAG_MMAP_IFC", 0) | getattr(faiss, "IO_FLAG_READ_ONLY", 0)
    return faiss.read_index(str(path), flags)


def dense_search(
    index, query_vector: np.ndarray, depth: int, mask: np.ndarray | None = None, exact: bool = False
) -> list[tuple[int, float]]:
    """Top (position, cosine) pairs for a query vector, optionally only where `mask` (a boolean
    array over all positions) is true; `exact` searches an HNSW index's stored vectors one by one
    (for a filter that leaves few: a graph walk that must skip most of what it meets misses)."""
    import faiss

    if exact and isinstance(index, faiss.IndexHNSWFlat):
        index = faiss.downcast_index(index.storage)
    params = None
    if mask is not None:
        if not mask.any():
            return []
        # A bitmap costs n/8 bytes made in one call; FAISS's batch selector would hash every
        # allowed id on every query.
        bits = np.packbits(mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))
        if isinstance(index, faiss.IndexHNSW):
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(index.hnsw.efSearch, depth))
        else:
            params = faiss.SearchParameters(sel=selector)
    depth = min(depth, index.ntotal)
    scores, ids = index.search(query_vector.reshape(1, -1).astype(np.float32), depth, params=params)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
