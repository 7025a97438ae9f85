"""Search backends: where a build's vectors and BM25 postings live and how their top k are found.

`embedded` (the default) searches the build's own files (FAISS + BM25, memory-mapped); `milvus`
pushes the same vectors and BM25 weights to a Milvus server (milvus-lite in tests) and searches
there. Both answer the same three questions, with the same filter contract (`base.Filter`).
"""

from .base import Filter, SearchBackend, get_backend, registered
from .embedded import EmbeddedBackend

__all__ = ["EmbeddedBackend", "Filter", "SearchBackend", "get_backend", "registered"]
