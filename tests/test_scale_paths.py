"""The paths that keep search fast at a million passages, checked against the slow obvious ones:
BM25 over the question's postings only, passages decoded on demand, filters as one mask, sampled
checksums, and a build written from vectors made elsewhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from cwqa.backends import Filter, get_backend
from cwqa.backends.embedded import passage_mask
from cwqa.stores import ChunkStore, day_number, write_chunks
from cwqa.errors import ConfigError
from cwqa.lexical import bm25_at, bm25_scores, bm25_top, load_bm25, weighted_terms, write_bm25
from cwqa.passages import Chunk

VOLUME = Path(__file__).parent / "data" / "frus1961-63v05.txt"
QUESTIONS = [
    "What did the embassy in Moscow report about Khrushchev?",
    "Berlin negotiations and the peace treaty",
    "nuclear test ban inspections",
    "Who was Llewellyn Thompson?",
    "wheat sales to the Soviet Union",
    "Soviet Soviet party congress",  # a repeated word counts twice, as bm25s counts it
    "zzqx unknownword",  # no known term
]


@pytest.fixture(scope="module")
def volume_bm25(tmp_path_factory):
    """BM25 over the real vol. V text, one passage per blank-line paragraph (thousands of them)."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", VOLUME.read_text(encoding="utf-8")) if p.strip()]
    folder = tmp_path_factory.mktemp("bm25") / "bm25"
    write_bm25(paragraphs, folder)
    return load_bm25(folder), len(paragraphs)


@pytest.mark.parametrize("question", QUESTIONS)
def test_bm25_over_postings_ranks_as_scoring_every_passage_does(volume_bm25, question):
    bm25, count = volume_bm25
    full = bm25_scores(bm25, question, count)
    expected = [(int(i), float(full[i])) for i in np.lexsort((np.arange(count), -full))[:50] if full[i] > 0]
    found = bm25_top(bm25, weighted_terms(question), count, 50)
    # The same scores in the same order; positions may swap only where two scores tie (the two
    # sums add the same numbers in another order).
    assert np.allclose([s for _, s in found], [s for _, s in expected], atol=1e-5)
    assert np.allclose([full[p] for p, _ in found], [s for _, s in found], atol=1e-5)
    assert len({p for p, _ in found}) == len(found)
    some = list(range(0, count, 97))
    assert np.allclose(bm25_at(bm25, weighted_terms(question), some), full[some], atol=1e-5)


def test_bm25_over_postings_keeps_only_the_allowed_passages(volume_bm25):
    bm25, count = volume_bm25
    mask = np.zeros(count, dtype=bool)
    mask[::3] = True
    found = bm25_top(bm25, weighted_terms("Khrushchev Berlin"), count, 20, mask)
    full = bm25_scores(bm25, "Khrushchev Berlin", count)
    allowed = np.flatnonzero(mask)
    best = allowed[np.lexsort((allowed, -full[allowed]))][:20]
    assert found and [p for p, _ in found] == [int(i) for i in best if full[i] > 0]


def test_weighted_terms_add_the_expansion_at_its_weight():
    terms = weighted_terms("containment", 0.5, into=weighted_terms("Soviet containment"))
    assert terms["contain"] == 1.5 and terms["soviet"] == 1.0


def chunk(doc_id: str, n: int, date: str = "") -> Chunk:
    text = f"paragraph {n} of {doc_id}"
    return Chunk(id=f"{doc_id}-p{n}", paragraph_id=f"{doc_id}-p{n}", doc_id=doc_id, doc_title=doc_id, section_id="s",
                 section_label="", section_title="", label=f"¶{n}", ordinal=n, window=1, windows=1, text=text,
                 text_start=0, text_end=len(text), start=0, end=len(text), first_page=None, last_page=None,
                 citation=f"{doc_id} ¶{n}", date=date)


@pytest.fixture()
def store(tmp_path):
    chunks = [chunk("a", 1, "1961-03-10"), chunk("a", 2, "1961-03-10"), chunk("b", 1, "1961"), chunk("c", 1), chunk("c", 2, "1962-01-05")]
    write_chunks(tmp_path, chunks, {"a": 0, "b": 1, "c": 2}, [{"embedding_key": str(i)} for i in range(5)])
    return ChunkStore(tmp_path), chunks


def test_the_chunk_store_gives_back_every_passage_by_position_and_by_id(store):
    loaded, chunks = store
    assert len(loaded) == 5 and list(loaded) == chunks and loaded[1:3] == chunks[1:3] and loaded[-1] == chunks[-1]
    assert [loaded.position(c.id) for c in chunks] == [0, 1, 2, 3, 4]
    assert loaded.position("nowhere-p1") is None
    assert list(loaded.of_document(2)) == [3, 4] and list(loaded.of_document(1)) == [2]
    assert loaded.record(0)["embedding_key"] == "0"
    with pytest.raises(IndexError):
        loaded[5]


def test_a_chunk_store_whose_file_was_cut_short_is_refused(store, tmp_path):
    data = (tmp_path / "chunks.jsonl").read_bytes()
    (tmp_path / "chunks.jsonl").write_bytes(data[:-10])
    with pytest.raises(ValueError, match="does not match its offsets"):
        ChunkStore(tmp_path)


def test_dates_become_numbers_that_compare_as_the_bounds_mean():
    assert day_number("1961-03-10") == 19610310 and day_number("") == 0
    assert day_number("1961-03") == 19610300 and day_number("1961-03", upper=True) == 19610399
    assert day_number("1961", upper=True) == 19619999


def test_a_filter_is_one_mask_over_documents_and_dates(store):
    loaded, _ = store
    docs, days = np.asarray(loaded.docs), np.asarray(loaded.days)
    assert passage_mask(Filter(), docs, days, 3) is None
    assert passage_mask(Filter(documents=np.array([2])), docs, days, 3).tolist() == [False, False, False, True, True]
    march = Filter(date_from="1961-03", date_to="1961-03")
    assert passage_mask(march, docs, days, 3).tolist() == [True, True, False, False, False]
    # A year alone is within 1961 but not within March 1961; undated passages pass no date bound.
    assert passage_mask(Filter(date_to="1961"), docs, days, 3).tolist() == [True, True, True, False, False]
    both = Filter(documents=np.array([0, 2]), date_from="1962")
    assert passage_mask(both, docs, days, 3).tolist() == [False, False, False, False, True]


def test_an_unknown_backend_is_an_error_listing_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown backend 'nope' \(known: .*embedded"):
        get_backend("nope")


def test_large_index_files_are_checked_by_sampled_blocks(monkeypatch, tmp_path):
    from cwqa import index

    monkeypatch.setattr(index, "WHOLE_CHECKSUM_LIMIT", 1 << 16)
    monkeypatch.setattr(index, "SAMPLE_BYTES", 1 << 10)
    path = tmp_path / "vectors.npy"
    path.write_bytes(bytes(range(256)) * 4096)  # 1 MiB
    saved = index._checksum(path)
    assert saved.startswith("sampled:")
    data = bytearray(path.read_bytes())
    data[0] ^= 1  # the first block is always sampled
    path.write_bytes(bytes(data))
    assert index._checksum(path) != saved
    path.write_bytes(bytes(data[:-1]))  # shorter: the size is part of the checksum
    assert index._checksum(path) != saved


@pytest.mark.model
def test_a_build_written_from_outside_vectors_is_searched_with_its_filters(tmp_path):
    from cwqa import open_pipeline
    from cwqa.config import Settings
    from cwqa.documents import IndexedDocument
    from cwqa.embedding import get_embedder
    from cwqa.pipeline import build_from_vectors

    settings = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    settings.corpus_dir.mkdir()
    texts = {"v1-d1": "Khrushchev threatened to sign a separate peace treaty with East Germany.",
             "v1-d2": "The embassy reported wheat purchases by the Soviet Union.",
             "v2-d1": "Inspections remained the obstacle to a nuclear test ban."}
    dates = {"v1-d1": "1961-03-10", "v1-d2": "1961-04-02", "v2-d1": "1962-08-01"}
    documents = [IndexedDocument(id=d, title=d, citation_name=d, path="outside", paragraphs=1, date=dates[d],
                                 place="Moscow" if d != "v2-d1" else "Geneva") for d in texts]
    chunks = [chunk(d, 1, dates[d]) for d in texts]
    chunks = [Chunk(**{**c.__dict__, "text": texts[c.doc_id], "text_end": len(texts[c.doc_id])}) for c in chunks]
    vectors = get_embedder(settings.model).encode([c.text for c in chunks])
    build_from_vectors(settings, documents, chunks, vectors, vectors, np.arange(len(chunks) + 1))
    pipeline = open_pipeline(settings)
    assert pipeline.search("separate peace treaty", k=1).hits[0].doc_id == "v1-d1"
    assert pipeline.search("test ban", k=3, doc_ids=["v2"]).hits[0].doc_id == "v2-d1"
    in_april = pipeline.search("Soviet", k=3, date_from="1961-04", date_to="1961-04").hits
    assert [h.doc_id for h in in_april] == ["v1-d2"]
    assert {h.doc_id for h in pipeline.search("Soviet", k=3, facets={"place": "Moscow"}).hits} <= {"v1-d1", "v1-d2"}
    assert json.loads((pipeline.build_path / "manifest.json").read_text())["vectors"] == "external"


@pytest.mark.parametrize("exact", [True, False])
def test_a_filtered_graph_search_finds_what_brute_force_finds(exact):
    from cwqa.dense import dense_search, make_dense_index

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = make_dense_index(vectors, "hnsw")
    mask = np.zeros(3000, dtype=bool)
    mask[rng.choice(3000, 60, replace=False)] = True  # 2%: the case the exact path is for
    query = vectors[7] + 0.1 * rng.standard_normal(32).astype(np.float32)
    query /= np.linalg.norm(query)
    allowed = np.flatnonzero(mask)
    truth = allowed[np.argsort(-(vectors[allowed] @ query))][:10].tolist()
    found = [p for p, _ in dense_search(index, query, 10, mask, exact=exact)]
    assert set(found) <= set(allowed.tolist())
    if exact:
        assert found == truth
    else:  # the graph may miss some, never return what the mask refuses
        assert len(set(found) & set(truth)) >= 5
