"""The lexical index: BM25 (bm25s) over passages, with the analyzer saved beside it.

The analyzer is named in the manifest (`ANALYZER`): an index built with another analyzer is
stale, because question tokens would no longer match the saved vocabulary.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .text import _stemmer

# Lower-cased, Snowball-stemmed, bm25s's English stop words removed: the same for passages and questions.
ANALYZER = "bm25s-en-stopwords+snowball-english"


def bm25_tokenize(texts: list[str]) -> list[list[str]]:
    """The analyzer, applied to each text."""
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


def write_bm25(texts: list[str], folder: Path) -> None:
    """Index the passages' texts with BM25 and save the index as bm25s's folder of files."""
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(bm25_tokenize(texts), show_progress=False)
    retriever.save(str(folder))


def load_bm25(folder: Path):
    """A saved BM25 index (memory-mapped where bm25s allows)."""
    import bm25s

    return bm25s.BM25.load(str(folder), mmap=True)


def bm25_scores(bm25, question: str, count: int) -> np.ndarray:
    """BM25 score of every passage for the question's analyzed terms (zeros when none is known)."""
    tokens = bm25_tokenize([question])[0]
    vocabulary = bm25.vocab_dict
    known = [token for token in tokens if token in vocabulary]
    if not known:
        return np.zeros(count, dtype=np.float32)
    return np.asarray(bm25.get_scores(known), dtype=np.float32)
