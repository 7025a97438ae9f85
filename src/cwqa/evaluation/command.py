"""The `cwqa eval` command: its options and how it prints a run."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..config import MODES, RERANK_POLICIES, Settings
from .questions import DEFAULT_QUESTIONS, DEFAULT_UNANSWERABLE
from .report import DEFAULT_REPORTS_DIR
from .runner import DEFAULT_K, run_evaluation


def _modes(text: str) -> list[str]:
    modes = list(dict.fromkeys(mode.strip() for mode in text.split(",") if mode.strip()))  # once each, in order
    unknown = [mode for mode in modes if mode not in MODES]
    if unknown or not modes:
        raise argparse.ArgumentTypeError(f"unknown mode(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(MODES)}")
    return modes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `cwqa eval`."""
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help=f"questions file (default {DEFAULT_QUESTIONS})")
    parser.add_argument("--modes", type=_modes, default=list(MODES), help="comma-separated modes (default hybrid,dense,bm25)")
    # Default None, not 10: cwqa's main copies a given -k into the settings, and the settings' k is
    # the number of passages a generator is given, so only an explicit -k should change it.
    parser.add_argument("-k", type=int, default=None, help=f"passages ranked per question (default {DEFAULT_K})")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument("--out", type=Path, help=f"report folder (default {DEFAULT_REPORTS_DIR}/<timestamp>/)")
    parser.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True, help="also run the naive baselines")
    parser.add_argument("--generator", help="also score this generator's answers (see `cwqa generators`)")
    parser.add_argument("--unanswerable", type=Path, default=DEFAULT_UNANSWERABLE, help="unanswerable questions, for --generator")
    parser.add_argument("--limit", type=int, help="only the first N questions (a quick run)")
    parser.add_argument("--split", choices=("tune", "heldout"), help="only the questions of this split (realistic sets)")
    parser.add_argument(
        "--rerank", nargs="?", const="on", choices=RERANK_POLICIES, default=None,
        help="rerank policy of the extra first-mode row and the answers: auto (the default setting), on (alone: "
        "always; slow) or off (no extra row)",
    )


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """`cwqa eval`: run, write the report folder, print the table (or the JSON with --json)."""

    def say(message: str) -> None:
        print(f"cwqa: {message}", file=sys.stderr)

    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        # One progress bar per stage on stderr, so stdout carries only the table or the JSON.
        if stage not in bars:
            bars[stage] = tqdm(total=total, desc=stage, file=sys.stderr, leave=False, disable=None)  # no bar when not a terminal
        bars[stage].total = total
        bars[stage].n = done
        bars[stage].refresh()
        if done >= total:
            bars.pop(stage).close()

    k = args.k or DEFAULT_K
    result = run_evaluation(
        settings,
        questions_path=args.questions,
        modes=args.modes,
        k=k,
        out_dir=args.out,
        baselines=args.baselines,
        generator=args.generator if args.generator and args.generator != "none" else None,
        unanswerable_path=args.unanswerable,
        limit=args.limit,
        progress=progress,
        log=say,
        rerank=args.rerank,
        split=args.split,
    )
    if args.json:
        print(json.dumps(result.report, ensure_ascii=False, indent=1))
    else:
        print(result.markdown)
        print(f"report: {result.out_dir}")
    return 0
