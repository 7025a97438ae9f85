"""eval/persons_questions.jsonl asks for entries that exist, half tune and half held-out per kind."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from cwqa.readers.tei import read_volume

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "eval" / "persons_questions.jsonl"
FRONT = ROOT / "tests" / "data" / "frus1955-57v24-front.xml"


def rows() -> list[dict]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_every_question_names_an_entry_of_the_volumes_lists():
    entries = {p.id for d in read_volume(FRONT).documents if d.extra.get("list") for p in d.paragraphs}
    questions = rows()
    assert len(questions) >= 30 and len({row["id"] for row in questions}) == len(questions)
    for row in questions:
        assert f"frus1955-57v24-{row['list']}/{row['entry']}" in entries, row


def test_each_kind_is_split_in_halves():
    counts = Counter((row["kind"], row["split"]) for row in rows())
    for kind in ("who-was", "stands-for"):
        assert abs(counts[(kind, "tune")] - counts[(kind, "heldout")]) <= 1, counts


def test_the_eval_corpus_holds_document_1_once(tmp_path):
    import sys

    sys.path.insert(0, str(ROOT / "eval"))
    from persons import assemble

    from cwqa.corpus import read_corpus

    corpus = read_corpus(assemble(tmp_path))  # would raise on a document id used twice
    ids = [d.id for d in corpus.documents]
    assert ids.count("frus1955-57v24-d1") == 1 and "frus1955-57v24-persons" in ids
