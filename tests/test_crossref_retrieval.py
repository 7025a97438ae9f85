"""Cross-references in search: passages of the documents a hit refers to join the candidates.

The fast tests drive the candidate step (`Retriever.followed_references`) over a small fake
index; the model test searches the real vol. V index and shows a question reaching the document a
footnote names only when `follow_references` is on.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from cwqa import retrieval
from cwqa.backends import Filter
from cwqa.config import Settings, load_settings
from cwqa.crossrefs import referenced_documents
from cwqa.index import build_index, current_build
from cwqa.pipeline import open_pipeline
from cwqa.readers.frus_text import read_text_volume
from cwqa.retrieval import Retriever

ROOT = Path(__file__).resolve().parents[1]
VOLUME = ROOT / "tests" / "data" / "frus1961-63v05.txt"
CACHED_VOLUME_INDEX = ROOT / ".cache" / "realistic" / "volume" / "index"

# --- a fake index: 5 documents of 3, 3, 3, 2 and 2 passages -------------------------------------
#   d0 refers to d2 and d3 (and to a document that is not indexed); d4 refers to d1.
DOCS = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4])
DAYS = np.array([19610101] * 9 + [19620101] * 2 + [19610101] * 2)
REFERENCES = {0: ["d2", "d3", "elsewhere-d9"], 4: ["d1"]}
BM25 = {6: 1.5, 9: 0.7}  # of the passages the step may add, only these share a term with the question


class FakeBackend:
    def lexical_at(self, terms, positions):
        return np.array([BM25.get(int(p), 0.0) for p in positions], dtype=np.float32)


def fake_retriever() -> Retriever:
    angles = np.linspace(0.0, 1.5, len(DOCS))  # passage i's cosine with the query falls with i
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    loaded = SimpleNamespace(
        embeddings=vectors, sentences=np.zeros((0, 2), dtype=np.float32),
        sentence_offsets=np.zeros(len(DOCS) + 1, dtype=np.int64),
    )
    chunks = SimpleNamespace(
        docs=DOCS, days=DAYS,
        of_document=lambda d: range(int(np.searchsorted(DOCS, d)), int(np.searchsorted(DOCS, d, side="right"))),
    )
    documents = [SimpleNamespace(id=f"d{i}", extra={"references": REFERENCES[i]} if i in REFERENCES else {}) for i in range(5)]
    fake = object.__new__(Retriever)
    fake.loaded, fake.chunks, fake.documents, fake.backend = loaded, chunks, documents, FakeBackend()
    fake._doc_index = {document.id: i for i, document in enumerate(documents)}
    return fake


QUERY = np.array([1.0, 0.0], dtype=np.float32)


def test_passages_of_referenced_documents_join_scored_as_candidates_are():
    fake = fake_retriever()
    dense, lexical = [(0, 1.0), (1, 0.9)], [(3, 2.0)]  # d0 leads the dense list, d1 the BM25 one
    extra_dense, extra_lexical = fake.followed_references(QUERY, {"term": 1.0}, dense, lexical, Filter())
    assert sorted(p for p, _ in extra_dense) == [6, 7, 8, 9, 10]  # all of d2 and d3, nothing else
    assert extra_dense == fake.dense_rescore(QUERY, [p for p, _ in extra_dense])  # the candidates' dense score
    assert dict(extra_lexical) == pytest.approx(BM25)  # BM25 only where it is above 0


def test_a_passage_already_a_candidate_is_not_added_twice():
    fake = fake_retriever()
    extra_dense, extra_lexical = fake.followed_references(QUERY, {}, [(0, 1.0), (7, 0.5)], [(6, 3.0)], Filter())
    added = [p for p, _ in extra_dense]
    assert 6 not in added and 7 not in added and len(added) == len(set(added))
    assert 6 not in dict(extra_lexical)


def test_the_search_filter_holds_for_followed_passages():
    fake = fake_retriever()
    only_1961 = Filter(date_to="1961-12-31")  # d3's passages are of 1962
    extra_dense, _ = fake.followed_references(QUERY, {}, [(0, 1.0)], [], only_1961)
    assert sorted(p for p, _ in extra_dense) == [6, 7, 8]
    named = Filter(documents=np.array([0, 3]))
    extra_dense, _ = fake.followed_references(QUERY, {}, [(0, 1.0)], [], named)
    assert sorted(p for p, _ in extra_dense) == [9, 10]


def test_only_the_leading_documents_are_followed_and_the_additions_are_capped(monkeypatch):
    fake = fake_retriever()
    monkeypatch.setattr(retrieval, "FOLLOW_FROM", 1)
    # d4 (which refers to d1) is second in the dense list: with FOLLOW_FROM 1 it is not followed.
    extra_dense, _ = fake.followed_references(QUERY, {}, [(0, 1.0), (11, 0.9)], [], Filter())
    assert not {3, 4, 5} & {p for p, _ in extra_dense}
    monkeypatch.setattr(retrieval, "FOLLOW_PASSAGES", 2)
    extra_dense, extra_lexical = fake.followed_references(QUERY, {}, [(0, 1.0)], [], Filter())
    # One by BM25 (passage 6, the best BM25 score), then the best remaining one by dense score.
    assert [p for p, _ in extra_dense] == [6, 7]


def test_the_links_name_each_referenced_document_with_the_leading_documents_that_refer_to_it():
    fake = fake_retriever()
    # d0 and d4 lead (dense and BM25): d0 refers to d2 and d3, d4 to d1; the unindexed one is left out.
    assert fake.reference_links([(0, 1.0)], [(11, 2.0)]) == {2: [0], 3: [0], 1: [4]}


def test_a_referenced_documents_passages_gain_a_share_of_the_referring_documents_best_score():
    fake = fake_retriever()
    ranked = [(0, 1.0), (1, 0.8), (3, 0.5), (6, 0.45), (7, 0.2)]  # d0 leads; d2 (6, 7) is referred to by d0
    credited = dict(fake._with_reference_credit(ranked, {2: [0]}, 0.1))
    assert credited[6] == pytest.approx(0.45 + 0.1 * 1.0) and credited[7] == pytest.approx(0.2 + 0.1)
    assert credited[0] == 1.0 and credited[1] == 0.8 and credited[3] == 0.5  # the others keep their scores
    assert [p for p, _ in fake._with_reference_credit(ranked, {2: [0]}, 0.1)][:4] == [0, 1, 6, 3]


def test_no_references_or_no_candidates_add_nothing():
    fake = fake_retriever()
    assert fake.followed_references(QUERY, {}, [(3, 1.0)], [(4, 1.0)], Filter()) == ([], [])
    assert fake.followed_references(QUERY, {}, [], [], Filter()) == ([], [])


def test_the_setting_is_read_from_the_environment():
    assert Settings().follow_references is True  # the default (README, "Cross-references in search")
    assert load_settings(environ={"CWQA_FOLLOW_REFERENCES": "1", "CWQA_CONFIG": "/nonexistent"}).follow_references
    assert not load_settings(environ={"CWQA_FOLLOW_REFERENCES": "0", "CWQA_CONFIG": "/nonexistent"}).follow_references


def test_build_index_saves_what_each_volume_document_refers_to():
    # What build_index stores in each IndexedDocument: referenced_documents over the parsed volume.
    reading = read_text_volume(VOLUME, VOLUME.read_text(encoding="utf-8"), None)
    graph = referenced_documents(reading.documents)
    assert graph["frus1961-63v05-d22"] == ["frus1961-63v05-d12"]  # "1 See Document 12."
    assert graph["frus1961-63v05-d150"] == ["frus1961-63v05-d134"]


# --- the real volume ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def volume_settings(tmp_path_factory) -> Settings:
    """An index of vol. V, built once; the realistic evaluation's cached build lends its vectors
    when it is there (build_index reuses the vectors of the build it replaces)."""
    base = tmp_path_factory.mktemp("crossref-volume")
    corpus = base / "corpus"
    corpus.mkdir()
    shutil.copy(VOLUME, corpus / VOLUME.name)
    index = base / "index"
    cached = current_build(CACHED_VOLUME_INDEX) if CACHED_VOLUME_INDEX.exists() else None
    if cached is not None and cached.exists():
        shutil.copytree(cached, index / cached.name)
        (index / "CURRENT").write_text(cached.name + "\n", encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=index, rerank="off", follow_references=False)
    build_index(settings)
    return settings


MODEL_CASE = "xr-04"  # a question of eval/realistic/crossref.jsonl that needs its reference


@pytest.mark.model
def test_a_question_reaches_the_referenced_document_only_when_references_are_followed(volume_settings):
    rows = [json.loads(line) for line in (ROOT / "eval" / "realistic" / "crossref.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    case = next(row for row in rows if row["id"] == MODEL_CASE)
    pipeline = open_pipeline(volume_settings)
    retriever = pipeline.retriever
    assert retriever.document(case["via"]).extra["references"]  # saved at build time

    def rank_of_referenced(follow: bool) -> int | None:
        retriever.settings = volume_settings.replace(follow_references=follow)
        hits = retriever.search(case["question"], k=10)
        return next((hit.rank for hit in hits if hit.chunk.doc_id == case["doc"]), None)

    # "Whose freedom had the American note welcomed?", asked from Gromyko's reply (doc. 22): the
    # note itself (doc. 12, which doc. 22's footnote names) is in the first ten only when followed.
    assert rank_of_referenced(False) is None
    assert rank_of_referenced(True) is not None
