"""How often "Who was …?" and "What does … stand for?" questions get their List of Persons or List
of Abbreviations entry in the top 3 of the default search (issue 14's bar: at least 90%).

The corpus is FRUS 1955–57 vol. XXIV with its front matter: tests/data/frus1955-57v24-front.xml
(the lists, documents 1–2), -chapter.xml (documents 1 and 10–16) and -excerpt.xml (documents
104–108). Document 1 is in both the front and the chapter fixtures, and a corpus may hold a
document once, so the chapter is copied without it. `--corpus xxiv+v` adds the whole plain-text
FRUS 1961–63 vol. V (390 documents, no lists), where Thompson, Khrushchev and Gromyko are named in
hundreds of passages: the entries must still come ahead of those passing mentions. Corpus and
index live in a work folder (default .cache/persons/<corpus>/), built on the first run.

    .venv/bin/python eval/persons.py                    # the tune half
    .venv/bin/python eval/persons.py --split heldout    # report; never tune on it
    .venv/bin/python eval/persons.py --split all --corpus xxiv+v --show-misses

eval/persons_questions.jsonl: one question a line, with the id of the entry it asks for
(`entry`: 'p_TLE1', 't_CoCom1'), its list (`persons`, `terms`), `kind` and `split`. A question
counts as answered when a passage of that entry is among the first 3 hits of
`cwqa.open_pipeline(settings).search(question)`, and the entry is cited in its volume and list.
The same is counted for retrieval alone, without the step that puts the entry naming the person
or abbreviation asked first (`cwqa.entries`, applied by `Pipeline.search`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from cwqa import load_settings, open_pipeline

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
QUESTIONS = ROOT / "eval" / "persons_questions.jsonl"
VOLUME = "frus1955-57v24"
TOP = 3
LIST_NAMES = {"persons": "List of Persons", "terms": "List of Abbreviations"}


def without_document(xml: str, xml_id: str) -> str:
    """The TEI text with one document div (and everything in it) cut out."""
    start = xml.index(f'<div type="document" xml:id="{xml_id}"')
    depth, position = 0, start
    for tag in re.finditer(r"<(/?)div\b[^>]*?(/?)>", xml[start:]):
        if tag.group(2):
            continue  # <div/>: opens and closes
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            position = start + tag.end()
            break
    return xml[:start] + xml[position:]


CORPORA = {"xxiv": (), "xxiv+v": ("frus1961-63v05.txt",)}


def assemble(work: Path, corpus: str = "xxiv") -> Path:
    """The corpus folder: links to the front matter and the excerpt, the chapter without document 1
    (and, for xxiv+v, vol. V)."""
    folder = work / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    for name in (f"{VOLUME}-front.xml", f"{VOLUME}-excerpt.xml", *CORPORA[corpus]):
        link = folder / name
        if not link.exists():
            os.symlink(DATA / link.name, link)
    chapter = folder / f"{VOLUME}-chapter.xml"
    text = without_document((DATA / chapter.name).read_text(encoding="utf-8"), "d1")
    if not chapter.exists() or chapter.read_text(encoding="utf-8") != text:
        chapter.write_text(text, encoding="utf-8")
    return folder


def load_questions(split: str) -> list[dict]:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row for row in rows if split == "all" or row["split"] == split]


def entry_rank(hits, row: dict) -> int | None:
    """1-based rank of the first hit that is the asked entry ('…-persons/p_TLE1'), else None."""
    wanted = f"{VOLUME}-{row['list']}/{row['entry']}"
    return next((hit.rank for hit in hits if hit.chunk.paragraph_id == wanted), None)


def cited_in_list(hit, row: dict) -> bool:
    """Whether the entry's citation names its volume and its list ('… — FRUS 1955–57, vol. XXIV')."""
    return "FRUS 1955–57, vol. XXIV" in hit.citation and LIST_NAMES[row["list"]] in hit.citation


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("tune", "heldout", "all"), default="tune")
    parser.add_argument("--corpus", choices=tuple(CORPORA), default="xxiv")
    parser.add_argument("--work", type=Path, default=ROOT / ".cache" / "persons", help="corpus, index")
    parser.add_argument("--show-misses", action="store_true", help="print the first hits of each miss")
    args = parser.parse_args(argv)

    work = args.work / args.corpus
    corpus = assemble(work, args.corpus)
    settings = load_settings().replace(corpus_dir=corpus, index_dir=work / "index", rerank="off")
    pipeline = open_pipeline(settings, log=lambda message: print(f"persons: {message}", file=sys.stderr))
    rows = load_questions(args.split)
    by_kind: dict[str, list[int]] = {}
    found = first = cited = plain = 0
    for row in rows:
        hits = pipeline.search(row["question"]).hits
        # The ranking without the entries step (cwqa.entries) that search applies: what retrieval
        # alone gives (rerank is off, so search adds nothing else).
        plain += entry_rank(pipeline.retriever.rank(row["question"], settings.k).hits[:TOP], row) is not None
        rank = entry_rank(hits[:TOP], row)
        hit = rank is not None
        found += hit
        first += rank == 1
        cited += hit and cited_in_list(hits[rank - 1], row)
        by_kind.setdefault(row["kind"], []).append(hit)
        if not hit and args.show_misses:
            print(f"miss {row['id']} {row['question']!r} (wants {row['entry']}):")
            for h in hits[:TOP]:
                print(f"   {h.rank}. {h.score:.3f} {h.chunk.paragraph_id}  {h.text[:90]!r}")
    n = len(rows)
    described = f"{VOLUME} (front matter, chapter 1, documents 104-108)" + (" + frus1961-63v05" if args.corpus != "xxiv" else "")
    print(f"split: {args.split}, {n} questions, corpus {described}, {len(pipeline.chunks)} passages")
    print(f"entry in the top {TOP}: {found}/{n} = {found / n:.3f}   (bar: 0.90)")
    print(f"entry first:        {first}/{n} = {first / n:.3f}")
    print(f"without the entries step (retrieval alone), in the top {TOP}: {plain}/{n} = {plain / n:.3f}")
    print(f"entry in the top {TOP} and cited in its volume and list: {cited}/{n}")
    for kind, marks in sorted(by_kind.items()):
        print(f"  {kind}: {sum(marks)}/{len(marks)} = {sum(marks) / len(marks):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
