"""The `cwqa` command: index, ask, docs, generators, eval. A thin layer over the library."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .answers.plugins import list_generators
from .config import DEVICES, MODES, VERSION, load_settings
from .documents import Coverage, document_citation
from .errors import CwqaError, QueryError
from .evaluation.command import add_arguments, run_command
from .pipeline import (
    EXPORT_STYLES, FACETS, Pipeline, build, filter_documents, manifest_coverage, open_pipeline, push, read_documents, status,
)


def _progress_bar(description: str):
    """Progress of the library's progress(done, total) callbacks on stderr: a tqdm bar (with its
    rate and time left) on a terminal, else a line at every tenth, so logs show it too."""
    from tqdm import tqdm

    bar = None
    started, first, said = time.monotonic(), None, -1

    def update(done: int, total: int) -> None:
        nonlocal bar, first, said
        first = done if first is None else first  # what was already there (reused vectors) is no work
        if not sys.stderr.isatty():
            tenth = 10 * done // max(total, 1)
            if tenth > said:
                said = tenth
                _say(f"{description}: {done:,}/{total:,} {progress_rate(done - first, total - first, time.monotonic() - started)}")
            return
        if bar is None:
            bar = tqdm(total=total, initial=done, desc=description, unit="passage", file=sys.stderr, leave=False)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def progress_rate(done: int, total: int, seconds: float) -> str:
    """"(40%, 85 passages/s, about 2 min left)": `done` of `total` to do, in `seconds`."""
    share = f"{100 * done // max(total, 1)}%"
    if seconds <= 0 or done == 0:
        return f"({share})"
    rate = done / seconds
    left = (total - done) / rate
    when = f"about {left / 60:.0f} min left" if left >= 90 else f"about {left:.0f} s left"
    return f"({share}, {rate:.0f} passages/s, {when})"


def _say(message: str) -> None:
    print(f"cwqa: {message}", file=sys.stderr)


def _pipeline(settings) -> Pipeline:
    return open_pipeline(settings, progress=_progress_bar("embedding"), log=_say)


def coverage_lines(coverage: list[Coverage]) -> list[str]:
    """Where every word of each file went, one line a file and a total: what `cwqa index` prints."""
    lines = []
    for c in coverage:
        skipped = ", ".join(f"{words} {reason}" for reason, words in sorted(c.skipped.items()))
        lines.append(
            f"{Path(c.path).name}: {c.documents} documents, {c.passages} paragraphs; {c.source_words} words: "
            f"{c.passage_words} in passages, {c.metadata_words} in metadata"
            + (f", skipped {skipped}" if skipped else "") + (f", {c.lost_words} lost" if c.lost_words else "")
            + f" ({c.kept_share:.1%} of the body kept)"
        )
        lines.extend(f"  guessed: {guess}" for guess in c.guessed)
    if len(coverage) > 1:
        total = lambda name: sum(getattr(c, name) for c in coverage)  # noqa: E731
        skipped = sum(sum(c.skipped.values()) for c in coverage)
        lines.append(
            f"total: {total('documents')} documents, {total('passages')} paragraphs; {total('source_words')} words: "
            f"{total('passage_words')} in passages, {total('metadata_words')} in metadata, {skipped} skipped, "
            f"{total('lost_words')} lost"
        )
    return lines


def cmd_index(args, settings) -> int:
    """Build the index if missing or stale (always, with --rebuild), and say where every word went."""
    current = status(settings)
    if current.fresh and not args.rebuild:
        manifest = current.manifest
        print(f"index is fresh: {manifest['chunks']} passages, model {manifest['model']}, built {manifest['built_at']}")
        for line in coverage_lines(manifest_coverage(manifest)):
            print(line)
        return 0
    if not current.fresh:
        _say(f"index {current.describe()}; rebuilding")
    path, coverage = build(settings, progress=_progress_bar("embedding"), log=_say)
    for line in coverage_lines(coverage):
        print(line)
    print(f"index written to {path}")
    return 0


def cmd_ask(args, settings) -> int:
    """Retrieve cited passages for a question, and optionally a generated answer."""
    if not args.question.strip():
        raise QueryError("the question is empty")
    pipeline = _pipeline(settings)
    result = pipeline.search(
        args.question, k=args.k, mode=args.mode, doc_ids=args.doc, date_from=args.date_from, date_to=args.date_to,
        rerank=args.rerank, facets=_facets(args),
    )
    hits = result.hits
    if args.export:
        print(pipeline.export(hits, args.export), end="")
        return 0
    answer = None
    if args.generator and args.generator != "none":
        answer = pipeline.answer(args.question, hits, args.generator)
    if args.json:
        payload = {**result.to_dict(), "final": True}
        if answer is not None:
            payload["answer"] = answer.to_dict()
        print(json.dumps(payload, ensure_ascii=False, indent=1))
        return 0
    for note in result.notes:
        _say(note)
    if not hits:
        print("No passage matches this question.")
        return 0
    if answer is not None:
        print(answer.render_text())
        print()
    if result.reranked:
        _say("passages reordered by the language model")  # stderr: stdout stays the passages
    if not result.verdict.good:
        _say(f"no good match ({result.verdict.reason}); the closest passages follow")
    for hit in hits:
        print(f"[{hit.rank}] {hit.citation}  (score {hit.score:.3f})")
        if hit.chunk.url:
            print(f"    {hit.chunk.url}")
        print("    " + hit.text.replace("\n", "\n    "))
        print()
    return 0


def _facets(args) -> dict[str, str]:
    return {name: getattr(args, name) for name in FACETS if getattr(args, name, None)}


def _add_filters(command: argparse.ArgumentParser) -> None:
    """The filters shared by `ask` and `docs`: dates and the documents' facets."""
    command.add_argument("--from", dest="date_from", help="only documents dated on or after YYYY[-MM[-DD]]")
    command.add_argument("--to", dest="date_to", help="only documents dated on or before YYYY[-MM[-DD]]")
    for name, help_text in FACET_HELP.items():
        command.add_argument(f"--{name.replace('_', '-')}", dest=name, help=help_text)


FACET_HELP = {
    "place": "only documents written at this place (from the dateline), e.g. Moscow",
    "sender": "only documents from this sender, e.g. 'Embassy in the Soviet Union' or Thompson",
    "recipient": "only documents to this recipient, e.g. 'Department of State'",
    "classification": "only documents of this classification (from the source note), e.g. Secret",
    "volume": "only documents of this volume, e.g. frus1961-63v05 or 'vol. V'",
    "chapter": "only documents of this chapter (TEI volumes)",
    "doc_number": "only the document with this printed number",
}


def cmd_docs(args, settings) -> int:
    """List the corpus documents (number, title, date, place, citation) with each file's coverage;
    with filters or --sort date, the matching documents in date order (a chronology)."""
    current = status(settings)
    corpus = read_documents(settings)
    documents = filter_documents(corpus.documents, args.date_from, args.date_to, _facets(args))
    if args.sort == "date":
        documents = sorted(documents, key=lambda d: (d.date or "9999", d.source.get("document") or 0))
    rows = [
        {
            "id": d.id,
            "number": d.source.get("document"),
            "title": d.title,
            "date": d.date,
            "place": d.place,
            "citation": document_citation(d),
            "url": d.url,
            "file": d.path.name,
            "paragraphs": len(d.paragraphs),
        }
        for d in documents
    ]
    if args.json:
        payload = {"index": current.describe(), "files": [c.to_dict() for c in corpus.coverage], "documents": rows}
        print(json.dumps(payload, ensure_ascii=False, indent=1))
        return 0
    print(f"index: {current.describe()}")
    for line in coverage_lines(corpus.coverage):
        print(line)
    for row in rows:
        print(f"{row['id']}  {row['date']}  {row['title']}  ({row['paragraphs']} paragraphs)  [{row['file']}]")
    return 0


def cmd_generators(args, settings) -> int:
    """List the answer generators installed (built-in and plugins)."""
    for name, description in list_generators().items():
        print(f"{name}: {description}")
    return 0


def cmd_push(args, settings) -> int:
    """Fill the build's collection in Milvus (README, "Search backends"): what the first search
    with `backend = "milvus"` would do, ahead of time, so a server is ready before users come."""
    print(push(settings, args.uri, progress=_progress_bar("embedding"), log=_say))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for `cwqa` and its subcommands."""
    parser = argparse.ArgumentParser(prog="cwqa", description="Ask questions of Cold War diplomatic documents.")
    parser.add_argument("--version", action="version", version=f"cwqa {VERSION}")
    parser.add_argument("--corpus", type=Path, help="corpus folder (default: corpus/, or CWQA_CORPUS)")
    parser.add_argument("--index", type=Path, help="index folder (default: index/, or CWQA_INDEX)")
    parser.add_argument("--config", type=Path, help="config file (default: ./cwqa.toml if present)")
    parser.add_argument("--model", help="embedding model: a sentence-transformers id or local path")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", help="build the index (only if missing or stale)")
    index.add_argument("--rebuild", action="store_true", help="rebuild even if fresh")
    index.add_argument("--device", choices=DEVICES, help="where to embed (default auto: a GPU when there is one)")
    index.add_argument("--workers", type=int, help="CPU processes embedding at once (default 1)")
    index.set_defaults(run=cmd_index)

    ask = commands.add_parser("ask", help="ask a question")
    ask.add_argument("question")
    ask.add_argument("-k", type=int, default=None, help="number of passages (default 5)")
    ask.add_argument("--mode", choices=MODES, default=None, help="retrieval mode (default hybrid)")
    ask.add_argument("--doc", action="append", help="only this document: an id, a volume id, or a printed document number; repeatable")
    _add_filters(ask)
    ask.add_argument("--export", choices=EXPORT_STYLES, help="print the hits' documents as Chicago notes, BibTeX or RIS")
    ask.add_argument("--rerank", action=argparse.BooleanOptionalAction, default=None,
                     help="always (--rerank) or never (--no-rerank) reorder the first passages with a small language "
                          "model; default: the rerank setting (off)")
    ask.add_argument("--generator", help="answer generator (see `cwqa generators`); 'none' for passages only")
    ask.add_argument("--json", action="store_true", help="print JSON")
    ask.set_defaults(run=cmd_ask)

    docs = commands.add_parser("docs", help="list the corpus documents and the index status")
    docs.add_argument("--json", action="store_true", help="print JSON")
    docs.add_argument("--sort", choices=("corpus", "date"), default="corpus", help="order: as in the corpus, or by date (a chronology)")
    _add_filters(docs)
    docs.set_defaults(run=cmd_docs)

    push = commands.add_parser("push", help="push the index to Milvus (backend_uri, or --uri) for backend = \"milvus\"")
    push.add_argument("--uri", help="a Milvus server (http://host:19530; token in CWQA_MILVUS_TOKEN) or a milvus-lite .db path")
    push.set_defaults(run=cmd_push)

    generators = commands.add_parser("generators", help="list answer generators")
    generators.set_defaults(run=cmd_generators)

    evaluate = commands.add_parser("eval", help="run a retrieval evaluation")
    add_arguments(evaluate)
    evaluate.set_defaults(run=run_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: errors become one line on stderr and a non-zero exit, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config).replace(corpus_dir=args.corpus, index_dir=args.index, model=args.model)
        settings = settings.replace(device=getattr(args, "device", None), workers=getattr(args, "workers", None))
        if getattr(args, "k", None) is not None or getattr(args, "mode", None) is not None:
            settings = settings.replace(k=getattr(args, "k", None), mode=getattr(args, "mode", None))
        return args.run(args, settings)
    except CwqaError as error:
        print(f"cwqa: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cwqa: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
