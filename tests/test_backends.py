"""Search backends: the same retrieval checks on the embedded default and on Milvus (milvus-lite,
its embedded form), the seeds' hits identical on both, and the Milvus backend's own parts
(filter expressions, BM25 weights, the push and its resumption) on a small synthetic build."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from cwqa.backends import EmbeddedBackend, Filter, get_backend
from cwqa.backends.milvus import (
    MilvusBackend,
    bm25_of,
    collection_name,
    default_uri,
    milvus_filter,
    passage_weights,
    query_vector,
)
from cwqa.errors import ConfigError, QueryError
from cwqa.lexical import bm25_at, bm25_top, weighted_terms

pymilvus = pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

BACKENDS = ["embedded", "milvus"]
QUESTIONS = [json.loads(line)["question"] for line in
             (Path(__file__).resolve().parents[1] / "eval" / "questions.jsonl").read_text("utf-8").splitlines() if line.strip()]

# Questions with the paragraph that answers each (from tests/test_retrieval.py): what the default
# finds, the second backend must find too.
KNOWN = [
    ("What official moves did Kennan predict toward Northern Iran and Turkey?", "long-telegram/part-3/b"),
    ("Why did Kennan think the Soviet view of the world was neurotic?", "long-telegram/part-2/p6"),
    ("Which Soviet agencies operate on the unofficial or subterranean plane?", "long-telegram/part-4/p1"),
    ("How did Kennan compare Soviet power to Hitlerite Germany?", "long-telegram/part-5/1"),
    ("What was proposed at the Geneva meeting of Foreign Ministers?", "nsc-5607/general-considerations/6"),
    ("Who should take the initiative in East-West exchanges?", "nsc-5607/courses-of-action/16"),
]

# Filters a search can run under, as Retriever.search's keyword arguments.
FILTERS = {
    "document": {"doc_ids": ["nsc-5607"]},
    "dates": {"date_from": "1950", "date_to": "1960"},
    "month": {"date_from": "1946-02", "date_to": "1946-02"},
    "facet": {"facets": {"place": "Moscow"}},
    "document and dates": {"doc_ids": ["long-telegram"], "date_from": "1946"},
}


# ---------------------------------------------------------------------------------------------
# The seeds on both backends (model tests: the real index of the seeds)


@pytest.fixture(scope="session")
def milvus_retriever(retriever, tmp_path_factory):
    """A retriever over the same build as `retriever`, searching through Milvus (milvus-lite)."""
    from cwqa.retrieval import Retriever

    settings = dataclasses.replace(retriever.settings, backend="milvus",
                                   backend_uri=str(tmp_path_factory.mktemp("milvus") / "seeds.db"))
    backend = get_backend("milvus")(retriever.loaded, settings)
    yield Retriever(retriever.loaded, retriever.embedder, settings, backend)
    backend.close()


@pytest.fixture(params=BACKENDS)
def searcher(request, retriever):
    """The seeds' retriever on each backend."""
    return retriever if request.param == "embedded" else request.getfixturevalue("milvus_retriever")


def summary(hits):
    return [(hit.chunk_id, hit.score, hit.dense_score, hit.bm25_score) for hit in hits]


def assert_same_hits(found, expected):
    assert [hit[0] for hit in found] == [hit[0] for hit in expected]
    for mine, theirs in zip(found, expected):
        assert mine[1:] == pytest.approx(theirs[1:], abs=1e-4), mine[0]


@pytest.mark.model
def test_the_milvus_retriever_searches_milvus(milvus_retriever, retriever):
    assert isinstance(milvus_retriever.backend, MilvusBackend)
    assert milvus_retriever.backend.stored() == len(retriever.loaded.chunks)
    assert isinstance(retriever.backend, EmbeddedBackend)


@pytest.mark.model
@pytest.mark.parametrize("question, expected", KNOWN)
def test_known_questions_find_their_paragraph_in_the_top_3(searcher, question, expected):
    hits = searcher.search(question, k=3, mode="hybrid")
    assert expected in [hit.chunk.paragraph_id for hit in hits], [h.chunk_id for h in hits]


@pytest.mark.model
@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_every_mode_returns_k_ranked_hits(searcher, mode):
    hits = searcher.search("Soviet policy toward colonial areas and dependent peoples", k=5, mode=mode)
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(-1.0 <= h.dense_score <= 1.0 and h.bm25_score >= 0 for h in hits)


@pytest.mark.model
def test_bm25_returns_only_passages_with_a_term(searcher):
    hits = searcher.search("Bornholm", k=10, mode="bm25")
    assert [hit.chunk_id for hit in hits] == ["long-telegram/part-3/b"]
    assert searcher.search("zzzqqx", k=10, mode="bm25") == []


@pytest.mark.model
def test_filters_keep_only_what_they_name(searcher):
    assert {h.doc_id for h in searcher.search("Soviet satellites and freedom", k=10, doc_ids=["nsc-5607"])} == {"nsc-5607"}
    assert {h.doc_id for h in searcher.search("Soviet policy", k=10, date_from="1950", date_to="1960")} == {"nsc-5607"}
    assert {h.doc_id for h in searcher.search("Soviet policy", k=10, facets={"place": "Moscow"})} == {"long-telegram"}
    assert searcher.search("Soviet policy", k=5, date_from="1946-02", date_to="1946-02")


@pytest.mark.model
@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_a_filter_nothing_passes_finds_nothing(searcher, mode):
    assert searcher.search("Soviet policy", k=5, mode=mode, date_from="1946-03", date_to="1946-12") == []
    assert searcher.search("Soviet policy", k=5, mode=mode, doc_ids=["long-telegram"], date_from="1950") == []


@pytest.mark.model
def test_bad_filters_are_the_same_errors(searcher):
    with pytest.raises(QueryError, match="unknown document"):
        searcher.search("anything", doc_ids=["kgb-files"])
    with pytest.raises(QueryError, match="not a date"):
        searcher.search("anything", date_from="Feb 1946")


@pytest.mark.model
@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_the_seeds_give_the_same_hits_on_both_backends(retriever, milvus_retriever, mode):
    """A third of eval/questions.jsonl's questions (42, over both seeds): the same top 10, in the
    same order, with the same fused, dense and BM25 scores."""
    for question in QUESTIONS[::3]:
        expected = summary(retriever.search(question, k=10, mode=mode))
        assert expected, question
        assert_same_hits(summary(milvus_retriever.search(question, k=10, mode=mode)), expected)


@pytest.mark.model
@pytest.mark.parametrize("name", sorted(FILTERS))
@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_filtered_searches_give_the_same_hits_on_both_backends(retriever, milvus_retriever, name, mode):
    for question in QUESTIONS[::12]:
        expected = summary(retriever.search(question, k=10, mode=mode, **FILTERS[name]))
        assert_same_hits(summary(milvus_retriever.search(question, k=10, mode=mode, **FILTERS[name])), expected)


@pytest.mark.model
def test_the_backends_answer_each_search_the_same(retriever, milvus_retriever):
    """The three backend methods themselves, under each filter: positions, order and scores."""
    embedded, milvus = retriever.backend, milvus_retriever.backend
    for question in QUESTIONS[::10]:
        terms, vector = retriever.query_of(question)
        for arguments in [{}, *FILTERS.values()]:
            where = retriever.search_filter(**arguments)
            for mine, theirs in [(milvus.dense(vector, 20, where), embedded.dense(vector, 20, where)),
                                 (milvus.lexical(terms, 50, where), embedded.lexical(terms, 50, where))]:
                assert [p for p, _ in mine] == [p for p, _ in theirs]
                assert [s for _, s in mine] == pytest.approx([s for _, s in theirs], abs=1e-4)
        positions = [0, 7, 40, 95, 3]
        assert milvus.lexical_at(terms, positions) == pytest.approx(embedded.lexical_at(terms, positions), abs=1e-6)


# ---------------------------------------------------------------------------------------------
# The registry


def test_an_unknown_backend_is_a_config_error_listing_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown backend 'nope' \(known: .*embedded.*milvus"):
        get_backend("nope")


def test_both_backends_are_registered():
    assert get_backend("embedded") is EmbeddedBackend
    assert get_backend("milvus") is MilvusBackend


# ---------------------------------------------------------------------------------------------
# Filter expressions, names, BM25 weights (no engine)


@pytest.mark.parametrize("where, expression", [
    (Filter(), ""),
    (Filter(np.array([3])), "doc == 3"),
    (Filter(np.array([4, 2, 3])), "doc >= 2 and doc <= 4"),
    (Filter(np.array([1, 5, 9])), "doc in [1, 5, 9]"),
    (Filter(None, "1961"), "day > 0 and day >= 19610000"),
    (Filter(None, None, "1961-03"), "day > 0 and day <= 19610399"),
    (Filter(None, "1961-03-01", "1961-03-31"), "day > 0 and day >= 19610301 and day <= 19610331"),
    (Filter(np.array([0, 7]), "1946", "1956"), "doc in [0, 7] and day > 0 and day >= 19460000 and day <= 19569999"),
])
def test_filters_become_milvus_expressions(where, expression):
    assert milvus_filter(where) == expression


def test_an_empty_document_list_is_no_search_at_all():
    assert milvus_filter(Filter(np.array([], dtype=np.int64))) is None
    assert milvus_filter(Filter(np.array([], dtype=np.int64), "1946")) is None


def test_each_build_has_a_collection_of_its_own():
    name = collection_name(Path("/srv/index/build-20261201-233616-21718-a36470b7"))
    assert name == "cwqa_build_20261201_233616_21718_a36470b7"
    assert collection_name(Path("/x/build-20261201-233617-1-00000000")) != name


def test_milvus_lite_lives_in_the_build_folder_by_default(tmp_path):
    assert default_uri(tmp_path / "build-1") == str(tmp_path / "build-1" / "milvus.db")


def test_a_local_path_must_name_a_db_folder(tmp_path):
    from cwqa.backends.milvus import connect

    with pytest.raises(ConfigError, match="must end in .db"):
        connect(str(tmp_path / "milvus"))


TEXTS = [
    "Soviet policy toward Yugoslavia and Tito",
    "Tito and the Yugoslav communists broke with Moscow",
    "the Long Telegram on Soviet conduct",
    "exchanges with the satellite countries of Eastern Europe",
    "Bornholm, an island in the Baltic",
    "Soviet Soviet Soviet policy",
    "nothing about any of it",
    "Yugoslavia",
    "(a) 1.",  # no BM25 term at all
]


@pytest.fixture(scope="module")
def tiny_bm25(tmp_path_factory):
    from cwqa.lexical import load_bm25, write_bm25

    folder = tmp_path_factory.mktemp("bm25")
    write_bm25(TEXTS, folder)
    return load_bm25(folder)


def test_passage_weights_score_exactly_as_bm25s(tiny_bm25):
    weights = passage_weights(tiny_bm25, len(TEXTS))
    rows = [{int(t): float(w) for t, w in zip(weights[i].indices, weights[i].data)} for i in range(len(TEXTS))]
    for question in ["Soviet policy", "Tito Yugoslavia Yugoslavia", "Baltic island", "unheard of words", "Soviet"]:
        terms = weighted_terms(question, into=weighted_terms("Tito", 0.5)) if "Tito" in question else weighted_terms(question)
        ours = bm25_of(terms, tiny_bm25.vocab_dict, rows)
        assert ours.tobytes() == bm25_at(tiny_bm25, terms, list(range(len(TEXTS)))).tobytes()
        top = bm25_top(tiny_bm25, terms, len(TEXTS), len(TEXTS))
        assert [(p, s) for p, s in top] == [(int(p), float(ours[p])) for p, _ in top]


def test_the_query_vector_holds_known_terms_by_id(tiny_bm25):
    terms = weighted_terms("Soviet Soviet policy unheardofword")
    sparse = query_vector(terms, tiny_bm25.vocab_dict)
    assert sparse == {tiny_bm25.vocab_dict["soviet"]: 2.0, tiny_bm25.vocab_dict["polici"]: 1.0}


# ---------------------------------------------------------------------------------------------
# Milvus-lite on a small synthetic build: push, resume, the three searches against the default


def tiny_build(tmp_path, bm25, count=len(TEXTS), dimension=16):
    """A LoadedIndex-shaped build over TEXTS: random unit vectors, two documents, dates."""
    import faiss

    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((count, dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    dense = faiss.IndexFlatIP(dimension)
    dense.add(vectors)
    docs = np.asarray([0, 0, 0, 1, 1, 1, 2, 2, 2], dtype=np.int32)
    days = np.asarray([19460222, 19460222, 19460222, 19560629, 19560629, 19560629, 0, 0, 0], dtype=np.int32)

    class Chunks(list):
        pass

    chunks = Chunks(range(count))
    chunks.docs, chunks.days = docs, days
    path = tmp_path / "build-20261202-000000-1-abcdef01"
    path.mkdir(exist_ok=True)
    return SimpleNamespace(path=path, chunks=chunks, documents=[None] * 3, embeddings=vectors, dense=dense, bm25=bm25)


@pytest.mark.slow
def test_milvus_lite_answers_as_the_embedded_backend(tmp_path, tiny_bm25):
    loaded = tiny_build(tmp_path, tiny_bm25)
    milvus, embedded = MilvusBackend(loaded), EmbeddedBackend(loaded)
    try:
        assert Path(default_uri(loaded.path)).is_dir()  # no URI: milvus-lite inside the build folder
        assert milvus.pushed == len(TEXTS) and milvus.stored() == len(TEXTS)
        wheres = [Filter(), Filter(np.array([0, 2])), Filter(np.array([1])), Filter(None, "1950"),
                  Filter(None, "1946-02", "1946-02"), Filter(np.array([2]), "1900"), Filter(np.array([], dtype=np.int64))]
        for where in wheres:
            for question in ["Soviet policy", "Tito Yugoslavia", "Baltic", "no such words"]:
                terms = weighted_terms(question)
                assert milvus.lexical(terms, 5, where) == embedded.lexical(terms, 5, where)
            for row in range(3):
                mine, theirs = milvus.dense(loaded.embeddings[row], 4, where), embedded.dense(loaded.embeddings[row], 4, where)
                assert [p for p, _ in mine] == [p for p, _ in theirs]
                assert [s for _, s in mine] == pytest.approx([s for _, s in theirs], abs=1e-5)
        terms = weighted_terms("Soviet Tito")
        assert milvus.lexical_at(terms, [5, 0, 6, 8]).tobytes() == embedded.lexical_at(terms, [5, 0, 6, 8]).tobytes()
        assert 8 not in [p for p, _ in milvus.lexical(weighted_terms("Soviet Tito Yugoslavia Baltic"), 9, Filter())]
        assert milvus.lexical(weighted_terms("zzzz"), 5, Filter()) == []
    finally:
        milvus.close()
    again = MilvusBackend(loaded)  # the build's collection is there: nothing is pushed again
    try:
        assert again.pushed == 0 and again.lexical(weighted_terms("Bornholm"), 3, Filter())[0][0] == 4
    finally:
        again.close()


def test_a_push_that_stopped_resumes_after_the_rows_there(tmp_path, tiny_bm25, monkeypatch):
    import cwqa.backends.milvus as module

    loaded = tiny_build(tmp_path, tiny_bm25)
    uri = str(tmp_path / "resume.db")
    monkeypatch.setattr(module, "BATCH", 3)
    client = module.connect(uri)
    calls = []
    real_upsert = client.upsert

    class Killed(Exception):
        pass

    def write_twice_then_die(*args, **kwargs):
        calls.append(1)
        if len(calls) > 2:
            raise Killed
        return real_upsert(*args, **kwargs)

    client.upsert = write_twice_then_die
    with pytest.raises(Killed):
        MilvusBackend(loaded, SimpleNamespace(backend_uri=uri), client=client)
    client.upsert = real_upsert
    resumed = MilvusBackend(loaded, SimpleNamespace(backend_uri=uri), client=client)
    try:
        assert resumed.pushed == len(TEXTS) - 6 and resumed.stored() == len(TEXTS)
        assert [p for p, _ in resumed.lexical(weighted_terms("Yugoslavia"), 8, Filter())] == \
            [p for p, _ in EmbeddedBackend(loaded).lexical(weighted_terms("Yugoslavia"), 8, Filter())]
    finally:
        resumed.close()


def test_above_the_exact_limit_the_collection_gets_an_hnsw_index(tmp_path, tiny_bm25, monkeypatch):
    import cwqa.backends.milvus as module

    monkeypatch.setattr(module, "EXACT_SEARCH_LIMIT", 4)
    loaded = tiny_build(tmp_path, tiny_bm25)
    backend = MilvusBackend(loaded, SimpleNamespace(backend_uri=str(tmp_path / "hnsw.db")))
    try:
        assert backend.kind == "hnsw"
        assert backend.client.describe_index(backend.collection, "vec")["index_type"] == "HNSW"
        # Eight vectors: the graph search is exact here, so it agrees with the default's.
        vector = loaded.embeddings[2]
        assert [p for p, _ in backend.dense(vector, 5, Filter())] == [p for p, _ in EmbeddedBackend(loaded).dense(vector, 5, Filter())]
    finally:
        backend.close()


def test_pushing_twice_makes_no_duplicates(tmp_path, tiny_bm25):
    loaded = tiny_build(tmp_path, tiny_bm25)
    backend = MilvusBackend(loaded, SimpleNamespace(backend_uri=str(tmp_path / "twice.db")))
    try:
        backend.client.upsert(backend.collection, [{"pos": 0, "vec": loaded.embeddings[0], "bm25": {0: 1.0}, "doc": 0, "day": 0}])
        assert backend.stored() == len(TEXTS)  # the same position again replaces its record
    finally:
        backend.close()


def test_cwqa_push_fills_a_collection_once_and_says_so(settings, pipeline, tmp_path, capsys):
    from cwqa.cli import main

    uri = str(tmp_path / "pushed.db")
    arguments = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir), "push", "--uri", uri]
    assert main(arguments) == 0
    first = capsys.readouterr().out
    assert f"{len(pipeline.chunks)} passages ({len(pipeline.chunks)} pushed now, 0 already there)" in first
    assert main(arguments) == 0
    assert f"(0 pushed now, {len(pipeline.chunks)} already there)" in capsys.readouterr().out
