"""Embedding a build's texts resumably: vectors are checkpointed in batches as they are made.

A build of a whole volume embeds tens of thousands of passages and sentences; killed after an
hour, it must not start over. Each batch of vectors is written to the index folder's
`.checkpoints/` (a temporary file renamed into place, so a kill leaves whole batches only), keyed
by the hash of (model, text). The next build reuses them, then the folder is removed once a
build completes.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Callable

import numpy as np

CHECKPOINTS = ".checkpoints"
BATCH = 1024  # texts a checkpoint holds: about 1.5 MB of vectors, a few seconds of work


def batch_size() -> int:
    """Texts per checkpoint: BATCH, or $CWQA_CHECKPOINT_BATCH (smaller for tests, larger for GPUs)."""
    try:
        return max(1, int(os.environ.get("CWQA_CHECKPOINT_BATCH", BATCH)))
    except ValueError:
        return BATCH

Progress = Callable[[int, int], None]


def load_checkpoints(index_dir: Path, dimension: int) -> dict[str, np.ndarray]:
    """Vectors saved by an unfinished build, by key; unreadable or foreign batches are ignored."""
    found: dict[str, np.ndarray] = {}
    for path in sorted((index_dir / CHECKPOINTS).glob("batch-*.npz")):
        try:
            with np.load(path, allow_pickle=False) as batch:
                keys, vectors = batch["keys"], batch["vectors"]
        except (OSError, ValueError, KeyError):
            continue  # a damaged batch is only work to redo
        if vectors.ndim == 2 and vectors.shape == (len(keys), dimension):
            found.update(zip(keys.tolist(), vectors))
    return found


def _save_batch(folder: Path, keys: list[str], vectors: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"batch-{uuid.uuid4().hex}"
    temporary = folder / f".{name}.npz"
    np.savez(temporary, keys=np.array(keys), vectors=vectors)
    os.replace(temporary, folder / f"{name}.npz")


def embed(
    embedder, texts: list[str], keys: list[str], known: dict[str, np.ndarray], index_dir: Path,
    progress: Progress | None = None,
) -> tuple[np.ndarray, int]:
    """A vector for every text: from `known` (the previous build), from checkpoints, or newly
    embedded in checkpointed batches. Returns the vectors and how many were embedded now.

    `known` and the checkpoints are looked up by key, so a checkpoint of another corpus or model
    simply goes unused."""
    saved = load_checkpoints(index_dir, embedder.dimension)
    known = {**saved, **known}
    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    todo = []
    for i, key in enumerate(keys):
        vector = known.get(key)
        if vector is None:
            todo.append(i)
        else:
            vectors[i] = vector
    done = len(texts) - len(todo)
    if progress:
        progress(done, len(texts))
    # Shortest first across the whole build, so each batch holds texts of similar length.
    todo.sort(key=lambda i: len(texts[i]))
    folder = index_dir / CHECKPOINTS
    size = batch_size()
    for begin in range(0, len(todo), size):
        rows = todo[begin : begin + size]
        fresh = embedder.encode([texts[i] for i in rows])
        vectors[rows] = fresh
        _save_batch(folder, [keys[i] for i in rows], fresh)
        done += len(rows)
        if progress:
            progress(done, len(texts))
    return vectors, len(todo)


def clear_checkpoints(index_dir: Path) -> None:
    """Drop the checkpoints once a build that used them is complete."""
    shutil.rmtree(index_dir / CHECKPOINTS, ignore_errors=True)
