"""The `cwqa` command: index, ask, docs, generators, eval. A thin layer over the library."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__
from .config import MODES, load_settings
from .errors import CwqaError, QueryError


def _progress_bar(description: str):
    """A tqdm bar on stderr, fed by the library's progress(done, total) callbacks."""
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=description, unit="passage", file=sys.stderr, leave=False, disable=None)  # no bar when not a terminal
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def _say(message: str) -> None:
    print(f"cwqa: {message}", file=sys.stderr)


def _retriever(settings):
    from .index import open_retriever

    return open_retriever(settings, progress=_progress_bar("embedding"), log=_say)


def cmd_index(args, settings) -> int:
    """Build the index if missing or stale (always, with --rebuild)."""
    from .index import build_index, index_status

    status = index_status(settings)
    if status.fresh and not args.rebuild:
        manifest = status.manifest
        print(f"index is fresh: {manifest['chunks']} passages, model {manifest['model']}, built {manifest['built_at']}")
        return 0
    if not status.fresh:
        _say(f"index {status.describe()}; rebuilding")
    path = build_index(settings, progress=_progress_bar("embedding"), log=_say)
    print(f"index written to {path}")
    return 0


def cmd_ask(args, settings) -> int:
    """Retrieve cited passages for a question, and optionally a generated answer."""
    if not args.question.strip():
        raise QueryError("the question is empty")
    retriever = _retriever(settings)
    hits = retriever.search(
        args.question, k=args.k, mode=args.mode, doc_ids=args.doc, date_from=args.date_from, date_to=args.date_to,
        rerank=args.rerank,
    )
    answer = None
    if args.generator and args.generator != "none":
        from .generation import generate_answer, get_generator

        answer = generate_answer(get_generator(args.generator, settings), args.question, hits)
    if args.json:
        payload = [hit.to_dict() for hit in hits]
        if answer is not None:
            payload = {"hits": payload, "answer": answer.to_dict()}
        print(json.dumps(payload, ensure_ascii=False, indent=1))
        return 0
    if not hits:
        print("No passage matches this question.")
        return 0
    if answer is not None:
        print(answer.render_text() if hasattr(answer, "render_text") else answer.text)
        print()
    if hits[0].mode.endswith("+rerank"):
        _say("passages reordered by the language model")  # stderr: stdout stays the passages
    for hit in hits:
        print(f"[{hit.rank}] {hit.citation}  (score {hit.score:.3f})")
        if hit.chunk.url:
            print(f"    {hit.chunk.url}")
        print("    " + hit.text.replace("\n", "\n    "))
        print()
    return 0


def cmd_docs(args, settings) -> int:
    """List the corpus documents with their passage counts and the index status."""
    from .corpus import load_corpus
    from .index import index_status, load_index

    status = index_status(settings)
    counts: dict[str, int] = {}
    if status.state in ("fresh", "stale"):
        try:
            for chunk in load_index(settings).chunks:
                counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
        except CwqaError:
            pass
    documents = load_corpus(settings.corpus_dir)
    rows = [
        {
            "id": d.id,
            "title": d.title,
            "author": d.author,
            "date": d.date,
            "place": d.place,
            "source": d.source.get("volume_short", ""),
            "file": d.path.name,
            "paragraphs": len(d.paragraphs),
            "passages": counts.get(d.id),
        }
        for d in documents
    ]
    if args.json:
        print(json.dumps({"index": status.describe(), "documents": rows}, ensure_ascii=False, indent=1))
        return 0
    print(f"index: {status.describe()}")
    for row in rows:
        passages = "not indexed" if row["passages"] is None else f"{row['passages']} passages"
        print(f"{row['id']}  {row['date']}  {row['title']}  ({row['paragraphs']} paragraphs, {passages})  [{row['file']}]")
    return 0


def cmd_generators(args, settings) -> int:
    """List the answer generators installed (built-in and plugins)."""
    from .generation import list_generators

    for name, description in list_generators().items():
        print(f"{name}: {description}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for `cwqa` and its subcommands."""
    parser = argparse.ArgumentParser(prog="cwqa", description="Ask questions of Cold War diplomatic documents.")
    parser.add_argument("--version", action="version", version=f"cwqa {__version__}")
    parser.add_argument("--corpus", type=Path, help="corpus folder (default: corpus/, or CWQA_CORPUS)")
    parser.add_argument("--index", type=Path, help="index folder (default: index/, or CWQA_INDEX)")
    parser.add_argument("--config", type=Path, help="config file (default: ./cwqa.toml if present)")
    parser.add_argument("--model", help="embedding model: a sentence-transformers id or local path")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", help="build the index (only if missing or stale)")
    index.add_argument("--rebuild", action="store_true", help="rebuild even if fresh")
    index.set_defaults(run=cmd_index)

    ask = commands.add_parser("ask", help="ask a question")
    ask.add_argument("question")
    ask.add_argument("-k", type=int, default=None, help="number of passages (default 5)")
    ask.add_argument("--mode", choices=MODES, default=None, help="retrieval mode (default hybrid)")
    ask.add_argument("--doc", action="append", help="only this document id (or volume id); repeatable")
    ask.add_argument("--from", dest="date_from", help="only documents dated on or after YYYY[-MM[-DD]]")
    ask.add_argument("--to", dest="date_to", help="only documents dated on or before YYYY[-MM[-DD]]")
    ask.add_argument("--rerank", action=argparse.BooleanOptionalAction, default=None,
                     help="always (--rerank) or never (--no-rerank) reorder the first passages with a small language "
                          "model; default: the rerank setting, auto (only when dense and BM25 disagree on the best passage)")
    ask.add_argument("--generator", help="answer generator (see `cwqa generators`); 'none' for passages only")
    ask.add_argument("--json", action="store_true", help="print JSON")
    ask.set_defaults(run=cmd_ask)

    docs = commands.add_parser("docs", help="list the corpus documents and the index status")
    docs.add_argument("--json", action="store_true", help="print JSON")
    docs.set_defaults(run=cmd_docs)

    generators = commands.add_parser("generators", help="list answer generators")
    generators.set_defaults(run=cmd_generators)

    try:
        from .evaluation import add_arguments, run_command
    except ImportError:
        pass
    else:
        evaluate = commands.add_parser("eval", help="run a retrieval evaluation")
        add_arguments(evaluate)
        evaluate.set_defaults(run=run_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: errors become one line on stderr and a non-zero exit, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config).replace(corpus_dir=args.corpus, index_dir=args.index, model=args.model)
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
