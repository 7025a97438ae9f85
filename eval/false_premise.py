"""False premises: does an answer say when the record contradicts what a question takes for granted?

Each question of eval/realistic/false_premise.jsonl is asked of its own corpus (the seeds or
vol. V, as eval/realistic.py assembles them) the way `cwqa ask --generator extractive` asks it,
and three things are measured, per split:

- detection: the answer flags the premise (`premise` is "contradicted" or "unsupported");
  "with gold" also needs a cited passage to hold one of the question's `quotes` (what the record
  does say);
- false alarms: ordinary answerable questions (eval/realistic/questions.jsonl) whose answer
  flags a premise; with their gold-quote share and abstention, premise check on and off;
- evidence removed: the same false-premise (and ordinary) questions asked with their answering
  document (`doc`) left out, which must abstain. On the seeds the index is rebuilt without that
  document (cheap: two documents); on vol. V the search is restricted to all the other documents
  of the volume (the BM25 statistics still count the removed one: rebuilding a 390-document
  volume per question is too slow). "declined" also counts an answer that flags the premise.

    .venv/bin/python eval/false_premise.py                      # both corpora, both splits
    .venv/bin/python eval/false_premise.py --corpus seeds --split tune

Tune on `tune` only; `heldout` is reported, never used to choose anything.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import realistic  # noqa: E402  (eval/realistic.py: the corpora and their work folders)

from cwqa import load_settings  # noqa: E402
from cwqa.evaluation.metrics import contains_quote  # noqa: E402
from cwqa.pipeline import Pipeline, open_pipeline  # noqa: E402

SPLITS = ("tune", "heldout")


def read_set(name: str, corpus: str) -> list[dict]:
    """The questions of one set file that are asked of this corpus (answerable ones only)."""
    rows = [json.loads(line) for line in (realistic.SETS / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row for row in rows if row.get("quotes") and realistic.belongs(row.get("doc"), corpus)]


@dataclass
class Outcome:
    """One question's answer, reduced to what is counted."""

    id: str
    split: str
    premise: str | None
    abstained: bool
    gold_cited: bool  # a cited passage holds a gold quote
    gold_in_answer: bool  # the answer text holds a gold quote
    text: str = ""

    @property
    def declined(self) -> bool:
        return self.abstained or self.premise is not None


@dataclass
class Tally:
    outcomes: list[Outcome] = field(default_factory=list)

    def share(self, split: str | None, test) -> tuple[int, int]:
        chosen = [o for o in self.outcomes if split is None or o.split == split]
        return sum(1 for o in chosen if test(o)), len(chosen)


def answer_one(pipeline: Pipeline, generator, row: dict, doc_ids: list[str] | None = None) -> Outcome:
    """Ask one question as `cwqa ask` does (optionally over some documents only) and score it."""
    hits = pipeline.search(row["question"], doc_ids=doc_ids).hits
    answer = pipeline.answer(row["question"], hits, generator)
    quotes = row["quotes"]
    cited = [hit for _n, hit in answer.cited]
    return Outcome(
        row["id"], row["split"], None if answer.abstained else answer.premise, answer.abstained,
        any(contains_quote(hit.text, quotes) for hit in cited) and not answer.abstained,
        contains_quote(answer.text, quotes) and not answer.abstained, answer.text,
    )


def pipeline_for(work: Path, corpus: str, files: list[Path] | None = None, name: str | None = None) -> Pipeline:
    """A pipeline over one corpus of the realistic sets, or over some of its files (own work folder)."""
    if files is None:
        folder = realistic.assemble(work, corpus)
        index = work / corpus / "index"
    else:
        folder = work / "removed" / name / "corpus"
        folder.mkdir(parents=True, exist_ok=True)
        for source in files:
            link = folder / source.name
            if not link.exists():
                os.symlink(source, link)
        index = work / "removed" / name / "index"
    settings = load_settings().replace(corpus_dir=folder, index_dir=index)
    return open_pipeline(settings, log=lambda message: print(f"false_premise: {message}", file=sys.stderr))


def seed_files_without(doc: str, pipeline: Pipeline) -> list[Path]:
    """The seed corpus files (text and metadata) of every document but `doc`."""
    keep = []
    for document in pipeline.retriever.documents:
        if document.id == doc:
            continue
        path = Path(document.path)
        keep += [source for source in realistic.SEEDS if source.name.split(".")[0] == path.name.split(".")[0]]
    return keep


def run_corpus(corpus: str, work: Path, splits: tuple[str, ...], ordinary_removed: bool, log) -> dict[str, Tally]:
    """Detection, false alarms and evidence-removed outcomes over one corpus."""
    pipeline = pipeline_for(work, corpus)
    on = pipeline.generator("extractive")
    off_settings = pipeline.settings.replace(generator_options={**pipeline.settings.generator_options, "premise": False})
    off = Pipeline(off_settings, pipeline.retriever, pipeline.log).generator("extractive")
    false_premise = [row for row in read_set("false_premise.jsonl", corpus) if row["split"] in splits]
    ordinary = [row for row in read_set("questions.jsonl", corpus) if row["split"] in splits]
    tallies = {name: Tally() for name in ("detection", "ordinary", "ordinary_off", "removed", "ordinary_removed")}
    for done, row in enumerate(false_premise, start=1):
        tallies["detection"].outcomes.append(answer_one(pipeline, on, row))
        log(f"{corpus}: false premise {done}/{len(false_premise)}")
    for done, row in enumerate(ordinary, start=1):
        checked = answer_one(pipeline, on, row)
        tallies["ordinary"].outcomes.append(checked)
        # With the check off the answer differs only where the check flagged or abstained.
        changed = checked.premise or checked.abstained
        tallies["ordinary_off"].outcomes.append(answer_one(pipeline, off, row) if changed else checked)
        if done % 20 == 0:
            log(f"{corpus}: ordinary {done}/{len(ordinary)}")
    removed_rows = [("removed", row) for row in false_premise]
    removed_rows += [("ordinary_removed", row) for row in ordinary] if ordinary_removed else []
    others = {}
    for done, (name, row) in enumerate(removed_rows, start=1):
        doc = row["doc"]
        if corpus == "seeds":
            # Rebuilt without the document: nothing of it reaches retrieval or the generator.
            if doc not in others:
                files = seed_files_without(doc, pipeline)
                others[doc] = pipeline_for(work, corpus, files, f"seeds-without-{doc}") if files else None
            reduced = others[doc]
            if reduced is None:
                tallies[name].outcomes.append(Outcome(row["id"], row["split"], None, True, False, False))
                continue
            tallies[name].outcomes.append(answer_one(reduced, reduced.generator("extractive"), row))
        else:
            rest = [d for d in pipeline.retriever.doc_ids if d != doc]
            tallies[name].outcomes.append(answer_one(pipeline, on, row, doc_ids=rest))
        if done % 20 == 0:
            log(f"{corpus}: evidence removed {done}/{len(removed_rows)}")
    return tallies


def merge(results: list[dict[str, Tally]]) -> dict[str, Tally]:
    merged: dict[str, Tally] = {}
    for result in results:
        for name, tally in result.items():
            merged.setdefault(name, Tally()).outcomes.extend(tally.outcomes)
    return merged


def _rate(pair: tuple[int, int]) -> str:
    part, whole = pair
    return f"{part / whole:.3f} ({part}/{whole})" if whole else "n/a"


def report(tallies: dict[str, Tally], label: str, splits: tuple[str, ...]) -> list[str]:
    """The printed table: one row per measure, one column per split and overall."""
    columns = [*splits, None]
    head = "| " + label + " | " + " | ".join(split or "all" for split in columns) + " |"
    lines = [head, "|---|" + "---:|" * len(columns)]
    rows = [
        ("false-premise detection (flagged)", "detection", lambda o: o.premise is not None),
        ("  flagged and cites a gold quote", "detection", lambda o: o.premise is not None and o.gold_cited),
        ("  abstained instead", "detection", lambda o: o.abstained),
        ("false alarms on ordinary questions", "ordinary", lambda o: o.premise is not None),
        ("ordinary: answer holds a gold quote (check on)", "ordinary", lambda o: o.gold_in_answer),
        ("ordinary: answer holds a gold quote (check off)", "ordinary_off", lambda o: o.gold_in_answer),
        ("ordinary: abstained (check on)", "ordinary", lambda o: o.abstained),
        ("ordinary: abstained (check off)", "ordinary_off", lambda o: o.abstained),
        ("evidence removed, false premise: abstained", "removed", lambda o: o.abstained),
        ("evidence removed, false premise: declined (abstained or flagged)", "removed", lambda o: o.declined),
        ("evidence removed, ordinary: abstained", "ordinary_removed", lambda o: o.abstained),
        ("evidence removed, ordinary: declined", "ordinary_removed", lambda o: o.declined),
    ]
    for title, name, test in rows:
        tally = tallies.get(name)
        if tally is None or not tally.outcomes:
            continue
        lines.append(f"| {title} | " + " | ".join(_rate(tally.share(split, test)) for split in columns) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=("seeds", "volume", "both"), default="both",
                        help="seeds, volume, or both (each question over its own corpus)")
    parser.add_argument("--split", choices=(*SPLITS, "all"), default="all")
    parser.add_argument("--work", type=Path, default=realistic.ROOT / ".cache" / "realistic")
    parser.add_argument("--ordinary-removed", action=argparse.BooleanOptionalAction, default=False,
                        help="also ask the ordinary questions with their document left out")
    parser.add_argument("--list", action="store_true", help="print each false-premise outcome")
    parser.add_argument("--json", type=Path, help="also write every outcome to this file")
    args = parser.parse_args(argv)
    splits = SPLITS if args.split == "all" else (args.split,)
    corpora = ("seeds", "volume") if args.corpus == "both" else (args.corpus,)
    say = lambda message: print(f"false_premise: {message}", file=sys.stderr)  # noqa: E731
    results = {}
    for corpus in corpora:
        results[corpus] = run_corpus(corpus, args.work, splits, args.ordinary_removed, say)
        print("\n".join(report(results[corpus], corpus, splits)) + "\n", flush=True)
    if len(results) > 1:
        print("\n".join(report(merge(list(results.values())), "seeds + volume", splits)) + "\n")
    if args.list:
        for corpus, tallies in results.items():
            for name in ("detection", "removed"):
                for o in tallies[name].outcomes:
                    print(f"{corpus} {name:9} {o.id} {o.split:7} premise={o.premise} abstained={o.abstained} "
                          f"gold_cited={o.gold_cited} | {o.text[:160]}")
            for o in tallies["ordinary"].outcomes:
                if o.premise:
                    print(f"{corpus} false-alarm {o.id} {o.split} premise={o.premise} | {o.text[:160]}")
    if args.json:
        payload = {corpus: {name: [vars(o) for o in tally.outcomes] for name, tally in tallies.items()}
                   for corpus, tallies in results.items()}
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
