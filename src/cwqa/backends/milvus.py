"""The Milvus backend: a build's vectors and BM25 weights in one Milvus collection.

The same client (pymilvus's MilvusClient) speaks to milvus-lite, an engine in this process over
a local folder ("index/.../milvus.db": tests and CI), to a Milvus standalone server or to a
sharded, replicated cluster ("http://host:19530"). Only the top-k searches run there; the
build's passages and vectors stay on this machine, memory-mapped, for the exact rescoring,
fusion and display above (cwqa.retrieval), so hits are the same whichever engine found them.

One collection per build, named after the build folder, so a new build never mixes with an old
one. Its records, keyed by passage position:

    pos   INT64 primary key: the passage's position in the build
    vec   FLOAT_VECTOR, the passage's unit vector (IP = cosine): FLAT up to
          cwqa.dense.EXACT_SEARCH_LIMIT passages, HNSW above, as the embedded FAISS index
    bm25  SPARSE_FLOAT_VECTOR {term id: the passage's bm25s weight for that term}: the query
          {term id: how often the question says it} scores, by inner product, exactly bm25s's
          BM25 (the weights are precomputed over the whole build, so no shard's local
          statistics change a score)
    doc   INT32, the passage's document (index into documents.json), for document filters
    day   INT32, its date as yyyymmdd (0 undated), for date filters

The collection is filled ("pushed") when it is missing or incomplete; a push that stopped
midway resumes after the rows already there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..dense import EXACT_SEARCH_LIMIT, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_NEIGHBOURS
from ..errors import ConfigError
from .base import Filter, Ranked, SearchBackend

TOKEN_ENV = "CWQA_MILVUS_TOKEN"
LITE_FILE = "milvus.db"  # milvus-lite's folder, inside the build folder when no URI is set
BATCH = 2_000  # rows per insert: a few MB of vectors and weights per request
TOPK_LIMIT = 16_384  # Milvus's largest limit for one search or query
FIELDS = ("pos", "vec", "bm25", "doc", "day")


def collection_name(build: Path) -> str:
    """The build's collection: 'cwqa_' and the build folder's name, with what Milvus does not
    allow in a name (anything but letters, digits and '_') as '_'."""
    return "cwqa_" + re.sub(r"\W", "_", Path(build).name, flags=re.ASCII)


def default_uri(build: Path) -> str:
    """milvus-lite's data folder when no URI is configured: inside the build folder, so the
    collection is written once per build and removed with it (old builds are deleted whole by
    cwqa.index), and no other build's collection is ever next to it."""
    return str(Path(build) / LITE_FILE)


def milvus_filter(where: Filter) -> str | None:
    """A Filter as a Milvus boolean expression ('' when nothing is filtered; None when nothing
    can pass: an empty document list).

    Documents become a range when they are consecutive (a volume, a facet over adjacent
    documents) and an `in` list otherwise; a date bound also excludes undated passages
    (day = 0), as the embedded backend does."""
    parts = []
    if where.documents is not None:
        documents = np.unique(np.asarray(where.documents, dtype=np.int64))
        if len(documents) == 0:
            return None
        first, last = int(documents[0]), int(documents[-1])
        if len(documents) == 1:
            parts.append(f"doc == {first}")
        elif last - first + 1 == len(documents):
            parts.append(f"doc >= {first} and doc <= {last}")
        else:
            parts.append("doc in [" + ", ".join(str(int(d)) for d in documents) + "]")
    earliest, latest = where.day_range
    if earliest is not None or latest is not None:
        parts.append("day > 0")
        if earliest is not None:
            parts.append(f"day >= {earliest}")
        if latest is not None:
            parts.append(f"day <= {latest}")
    return " and ".join(parts)


def query_vector(terms: dict[str, float], vocabulary: dict) -> dict[int, float]:
    """The question's weighted terms as a sparse vector over the build's term ids (unknown
    terms dropped: no passage has them)."""
    sparse: dict[int, float] = {}
    for term, weight in terms.items():
        token = vocabulary.get(term)
        if token is not None:
            sparse[int(token)] = sparse.get(int(token), 0.0) + float(weight)
    return sparse


def bm25_of(terms: dict[str, float], vocabulary: dict, weights: list[dict]) -> np.ndarray:
    """BM25 scores of passages from their sparse weights, summed in float32 in the question's
    term order: the same operations, so the same numbers, as cwqa.lexical.bm25_top and bm25_at."""
    scores = np.zeros(len(weights), dtype=np.float32)
    for term, weight in terms.items():
        token = vocabulary.get(term)
        if token is None:
            continue
        column = np.asarray([row.get(int(token), 0.0) for row in weights], dtype=np.float32)
        scores += weight * column
    return scores


def passage_weights(bm25, count: int):
    """Each passage's bm25s weights as a CSR matrix (rows = positions, columns = term ids):
    bm25s saves them by term (CSC), a push needs them by passage."""
    from scipy.sparse import csc_matrix

    matrix = bm25.scores
    columns = len(matrix["indptr"]) - 1
    return csc_matrix((matrix["data"], matrix["indices"], matrix["indptr"]), shape=(count, columns)).tocsr()


def connect(uri: str):
    """A MilvusClient for a server URI (http[s]://, tcp://, unix:) or a milvus-lite folder
    (a path ending in .db); the token for a server comes from CWQA_MILVUS_TOKEN."""
    try:
        from pymilvus import MilvusClient
    except ImportError as error:
        raise ConfigError(f"backend 'milvus' needs pymilvus and milvus-lite (pip install 'cwqa[milvus]'): {error}") from None
    if re.match(r"^(https?|tcp|grpc|unix)://|^unix:", uri):
        return MilvusClient(uri=uri, token=os.environ.get(TOKEN_ENV, ""))
    if not uri.endswith(".db"):
        raise ConfigError(f"backend_uri {uri!r}: a milvus-lite path must end in .db (or give http://host:19530)")
    Path(uri).parent.mkdir(parents=True, exist_ok=True)
    return MilvusClient(uri=uri)


class MilvusBackend(SearchBackend):
    """Top-k dense and BM25 searches in a Milvus collection holding one build."""

    name = "milvus"

    def __init__(self, loaded, settings=None, client=None, log=lambda message: None):
        self.loaded = loaded
        self.count = len(loaded.chunks)
        self.vocabulary = loaded.bm25.vocab_dict
        self.uri = (getattr(settings, "backend_uri", "") or "").strip() or default_uri(loaded.path)
        self.collection = collection_name(loaded.path)
        self.kind = "flat" if self.count <= EXACT_SEARCH_LIMIT else "hnsw"
        self.client = client or connect(self.uri)
        self.pushed = self.push(log)
        self.client.load_collection(self.collection)

    # -- the collection -------------------------------------------------------------------------

    def stored(self, condition: str = "") -> int:
        """How many records of this build's collection satisfy a condition (all when '')."""
        rows = self.client.query(self.collection, filter=condition, output_fields=["count(*)"], consistency_level="Strong")
        return int(rows[0]["count(*)"]) if rows else 0

    def push(self, log=lambda message: None) -> int:
        """Create and fill the build's collection if it is missing or incomplete; the number of
        records written (0 when it was complete).

        Records go in position order, a batch at a time, so a push that stopped leaves
        positions 0..n-1: the next one checks that (a count below n) and starts at n. Anything
        else (a collection whose rows are not that prefix) is dropped and pushed again."""
        if self.client.has_collection(self.collection):
            self.client.load_collection(self.collection)  # an existing collection opens released
            there = self.stored()
            if there == self.count and self.stored(f"pos < {self.count}") == there:
                return 0
            if there > self.count or self.stored(f"pos < {there}") != there:
                log(f"milvus: {self.collection} holds {there} records that are not this build's; pushing it again")
                self.client.drop_collection(self.collection)
                there = 0
        else:
            there = 0
        if there == 0 and not self.client.has_collection(self.collection):
            self._create()
        log(f"milvus: pushing {self.count - there} of {self.count} passages to {self.collection} at {self.uri}")
        weights = passage_weights(self.loaded.bm25, self.count)
        # Milvus refuses an empty sparse vector, and a passage with no BM25 term ("(a)", "1.")
        # has one: it gets a weight on a term id past the vocabulary, which no question has.
        no_terms = {int(weights.shape[1]): 1.0}
        docs = np.asarray(self.loaded.chunks.docs)
        days = np.asarray(self.loaded.chunks.days)
        for begin in range(there, self.count, BATCH):
            end = min(begin + BATCH, self.count)
            vectors = np.asarray(self.loaded.embeddings[begin:end], dtype=np.float32)
            rows = []
            for offset, position in enumerate(range(begin, end)):
                row = weights[position]
                rows.append({
                    "pos": position,
                    "vec": vectors[offset],
                    "bm25": {int(t): float(w) for t, w in zip(row.indices, row.data) if w} or no_terms,
                    "doc": int(docs[position]),
                    "day": int(days[position]),
                })
            self.client.upsert(self.collection, rows)  # upsert: two pushers at once make no duplicates
        self.client.flush(self.collection)
        if self.stored() != self.count:
            raise ConfigError(f"milvus: {self.collection} at {self.uri} holds {self.stored()} records, not {self.count}")
        return self.count - there

    def _create(self) -> None:
        from pymilvus import DataType, MilvusClient

        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False,
                                            description=f"cwqa build {Path(self.loaded.path).name}: {self.count} passages")
        schema.add_field("pos", DataType.INT64, is_primary=True)
        schema.add_field("vec", DataType.FLOAT_VECTOR, dim=int(self.loaded.embeddings.shape[1]))
        schema.add_field("bm25", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("doc", DataType.INT32)
        schema.add_field("day", DataType.INT32)
        indexes = self.client.prepare_index_params()
        if self.kind == "flat":
            indexes.add_index("vec", index_type="FLAT", metric_type="IP")
        else:
            indexes.add_index("vec", index_type="HNSW", metric_type="IP",
                              params={"M": HNSW_NEIGHBOURS, "efConstruction": HNSW_EF_CONSTRUCTION})
        indexes.add_index("bm25", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
        self.client.create_collection(self.collection, schema=schema, index_params=indexes)

    # -- searches -------------------------------------------------------------------------------

    def _search(self, data, field: str, limit: int, where: Filter, params: dict, output: list[str]):
        expression = milvus_filter(where)
        if expression is None:
            return []
        found = self.client.search(self.collection, data=[data], anns_field=field, limit=min(limit, TOPK_LIMIT),
                                   filter=expression, search_params={"metric_type": "IP", "params": params},
                                   output_fields=output)
        return found[0] if found else []

    def dense(self, vector: np.ndarray, depth: int, where: Filter) -> Ranked:
        params = {} if self.kind == "flat" else {"ef": max(HNSW_EF_SEARCH, depth)}
        vector = np.asarray(vector, dtype=np.float32).tolist()
        hits = self._search(vector, "vec", depth, where, params, [])
        ranked = sorted(((int(hit["pos"] if "pos" in hit else hit["id"]), float(hit["distance"])) for hit in hits),
                        key=lambda pair: (-pair[1], pair[0]))
        return ranked[:depth]

    def lexical(self, terms: dict[str, float], depth: int, where: Filter) -> Ranked:
        """Milvus's top by sparse inner product, a little deeper than asked, rescored from the
        weights it returns in bm25s's own order of additions, so scores and ties are the
        embedded backend's to the last bit."""
        sparse = query_vector(terms, self.vocabulary)
        if not sparse:
            return []
        hits = self._search(sparse, "bm25", depth + max(16, depth // 4), where, {"drop_ratio_search": 0.0}, ["bm25"])
        if not hits:
            return []
        positions = np.asarray([int(hit["pos"] if "pos" in hit else hit["id"]) for hit in hits], dtype=np.int64)
        scores = bm25_of(terms, self.vocabulary, [_sparse(hit["entity"]["bm25"]) for hit in hits])
        order = np.lexsort((positions, -scores))[:depth]
        return [(int(positions[i]), float(scores[i])) for i in order if scores[i] > 0]

    def lexical_at(self, terms: dict[str, float], positions: list[int]) -> np.ndarray:
        wanted = [int(p) for p in positions]
        if not wanted or not query_vector(terms, self.vocabulary):
            return np.zeros(len(wanted), dtype=np.float32)
        found: dict[int, dict] = {}
        for begin in range(0, len(wanted), TOPK_LIMIT):
            chunk = sorted(set(wanted[begin:begin + TOPK_LIMIT]))
            rows = self.client.query(self.collection, filter="pos in [" + ", ".join(map(str, chunk)) + "]",
                                     output_fields=["pos", "bm25"])
            found.update((int(row["pos"]), _sparse(row["bm25"])) for row in rows)
        return bm25_of(terms, self.vocabulary, [found.get(p, {}) for p in wanted])

    def close(self) -> None:
        self.client.close()


def _sparse(value) -> dict[int, float]:
    """A sparse vector as pymilvus returns it (a dict, or a scipy row) as {term id: weight}."""
    if isinstance(value, dict):
        return {int(k): float(v) for k, v in value.items()}
    row = value.tocsr() if hasattr(value, "tocsr") else value
    return {int(t): float(w) for t, w in zip(row.indices, row.data)}
