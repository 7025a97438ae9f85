"""Checks on the retrieval evaluation question set in eval/.

eval/questions.jsonl holds answerable questions whose gold "quotes" are verbatim spans of the
corpus; eval/unanswerable.jsonl holds questions the corpus does not answer ("quotes": []).
Verbatim means equal after normalise(): lower case, all whitespace runs collapsed to one space
(so a quote may cross a blank-line page-break split), curly quotes mapped to straight ones and
markdown '*' removed.
"""

import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
CORPUS_DIR = ROOT / "corpus"
QUESTIONS = ROOT / "eval" / "questions.jsonl"
UNANSWERABLE = ROOT / "eval" / "unanswerable.jsonl"

# doc id -> a string that identifies that document's file by its content
DOC_MARKERS = {
    "long-telegram": "The Long Telegram",
    "nsc-5607": "NSC 5607",
}
ID_PREFIX_TO_DOC = {"lt-": "long-telegram", "nsc-": "nsc-5607", "x-": None}

MIN_ANSWERABLE = 60
MIN_UNANSWERABLE = 10

_QUOTE_MAP = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "*": None})


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.translate(_QUOTE_MAP).lower()).strip()


def _load(path: Path) -> list[tuple[int, str]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            rows.append((n, line))
    return rows


@lru_cache(maxsize=None)
def corpus_files() -> dict[str, str]:
    files = sorted(CORPUS_DIR.glob("*.txt"))
    return {f.name: f.read_text(encoding="utf-8") for f in files}


@lru_cache(maxsize=None)
def corpus_text() -> str:
    return normalise("\n".join(corpus_files().values()))


@lru_cache(maxsize=None)
def doc_texts() -> dict[str, str]:
    """Normalised text per doc id, found by the marker string in the file."""
    out = {}
    for doc, marker in DOC_MARKERS.items():
        hits = [t for t in corpus_files().values() if marker in t]
        assert len(hits) == 1, f"expected exactly one corpus file containing {marker!r}"
        out[doc] = normalise(hits[0])
    return out


def answerable() -> list[dict]:
    return [json.loads(line) for _, line in _load(QUESTIONS)]


def unanswerable() -> list[dict]:
    return [json.loads(line) for _, line in _load(UNANSWERABLE)]


def _all_quotes():
    return [(q["id"], quote) for q in answerable() for quote in q.get("quotes", [])]


def _quote_params():
    return [
        pytest.param(q["id"], quote, id=f"{q['id']}-q{k}")
        for q in answerable()
        for k, quote in enumerate(q.get("quotes", []), 1)
    ]


@pytest.mark.parametrize("path", [QUESTIONS, UNANSWERABLE], ids=lambda p: p.name)
def test_every_line_parses_as_a_question_object(path):
    for n, line in _load(path):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:  # pragma: no cover - failure path
            pytest.fail(f"{path.name}:{n} is not valid JSON: {e}")
        assert isinstance(row, dict), f"{path.name}:{n} is not an object"
        assert isinstance(row.get("id"), str) and row["id"], f"{path.name}:{n} lacks an id"
        assert isinstance(row.get("question"), str) and row["question"].strip(), f"{path.name}:{n} lacks a question"
        assert isinstance(row.get("quotes"), list), f"{path.name}:{n} quotes is not a list"
        assert all(isinstance(q, str) for q in row["quotes"]), f"{path.name}:{n} has a non-string quote"
        assert row.get("doc") in (None, *DOC_MARKERS), f"{path.name}:{n} has unknown doc {row.get('doc')!r}"


def test_question_ids_are_unique_across_both_files():
    ids = [q["id"] for q in answerable() + unanswerable()]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, f"duplicate ids: {dupes}"


def test_question_texts_are_unique():
    texts = [normalise(q["question"]) for q in answerable() + unanswerable()]
    dupes = sorted({t for t in texts if texts.count(t) > 1})
    assert not dupes, f"duplicate questions: {dupes}"


def test_answerable_ids_match_their_doc():
    for q in answerable():
        prefix = next((p for p in ID_PREFIX_TO_DOC if q["id"].startswith(p)), None)
        assert prefix is not None, f"{q['id']}: id should start with one of {list(ID_PREFIX_TO_DOC)}"
        assert q.get("doc") == ID_PREFIX_TO_DOC[prefix], f"{q['id']}: doc {q.get('doc')!r} does not match id prefix"


def test_there_are_enough_answerable_and_unanswerable_questions():
    assert len(answerable()) >= MIN_ANSWERABLE
    assert len(unanswerable()) >= MIN_UNANSWERABLE


def test_every_answerable_question_has_at_least_one_quote():
    empty = [q["id"] for q in answerable() if not [s for s in q["quotes"] if s.strip()]]
    assert not empty, f"answerable questions without quotes: {empty}"


def test_unanswerable_questions_carry_no_quotes():
    with_quotes = [q["id"] for q in unanswerable() if q["quotes"]]
    assert not with_quotes, f"unanswerable questions with quotes: {with_quotes}"


@pytest.mark.parametrize("qid,quote", _quote_params())
def test_every_gold_quote_occurs_verbatim_in_the_corpus(qid, quote):
    assert normalise(quote) in corpus_text(), f"{qid}: quote not found in corpus: {quote!r}"


def test_quotes_of_a_single_document_question_come_from_that_document():
    wrong = []
    for q in answerable():
        doc = q.get("doc")
        if doc is None:
            continue
        for quote in q["quotes"]:
            if normalise(quote) not in doc_texts()[doc]:
                wrong.append((q["id"], quote))
    assert not wrong, f"quotes not found in the question's own document: {wrong}"


def test_cross_document_questions_cite_both_documents():
    for q in answerable():
        if q.get("doc") is not None:
            continue
        cited = {d for quote in q["quotes"] for d, t in doc_texts().items() if normalise(quote) in t}
        assert cited == set(DOC_MARKERS), f"{q['id']}: cross-document question cites only {sorted(cited)}"


def test_quotes_do_not_carry_page_markers_or_markdown():
    bad = [(qid, s) for qid, s in _all_quotes() if "[page" in s.lower() or "*" in s]
    assert not bad, f"quotes containing [Page n] markers or markdown: {bad}"


def test_both_documents_are_covered():
    docs = {q.get("doc") for q in answerable()}
    for doc in DOC_MARKERS:
        assert doc in docs, f"no question about {doc}"
    assert None in docs, "no cross-document question"


def test_the_realistic_question_sets_quote_the_record_verbatim_and_are_split_in_halves():
    """eval/realistic/check_sets.py exits 1 on a quote not found in its document, a bad field or
    a repeated id; the held-out half must be there to report on."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(ROOT / "eval" / "realistic" / "check_sets.py")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    rows = [json.loads(line) for line in (ROOT / "eval" / "realistic" / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    splits = [row["split"] for row in rows]
    assert len(rows) >= 120 and abs(splits.count("tune") - splits.count("heldout")) <= len(rows) // 10
