"""Builds that survive and grow: a build killed midway and resumed against one left alone, and one
volume added to an indexed corpus. Prints numbers; asserts nothing.

    .venv/bin/python eval/bench_rebuild.py                 # both, over the seeds + vol. XXIV files
    .venv/bin/python eval/bench_rebuild.py --json FILE

resume       `cwqa index` over a corpus in a fresh index folder, uninterrupted; then again in another
             fresh folder, killed (SIGKILL) at a random point after its first checkpoints, and run
             again to completion. Wall times of each run, and how many texts each embedded.
incremental  that corpus indexed, then one more volume's file added (FRUS 1894, the Nicaragua attachments):
             how many texts the rebuild embedded against the new volume's own, and its wall time.
Every run is the real command in a fresh process (interpreter, imports and model load included).
--workers N and --device pass through to `cwqa index`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
BASE = [ROOT / "corpus" / name for name in sorted(os.listdir(ROOT / "corpus"))] + [
    DATA / "frus1955-57v24-chapter.xml", DATA / "frus1955-57v24-excerpt.xml", DATA / "frus1946v06-d475.xml",
]
ADDED = [DATA / "frus1894Nicaragua-attachments.xml"]  # another volume (FRUS 1894)
BATCH = "128"  # texts a checkpoint holds here: small, so a kill at a random point loses little


def cwqa(corpus: Path, index: Path, extra: list[str]) -> list[str]:
    script = Path(sys.executable).with_name("cwqa")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "cwqa.cli"]
    return [*head, "--corpus", str(corpus), "--index", str(index), "index", *extra]


def corpus_of(folder: Path, files: list[Path]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        if path.is_file():
            shutil.copy(path, folder / path.name)
    return folder


def manifest(index: Path) -> dict:
    name = (index / "CURRENT").read_text().strip()
    return json.loads((index / name / "manifest.json").read_text())


def run(command: list[str]) -> float:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CWQA_CHECKPOINT_BATCH": BATCH}
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench_rebuild: {' '.join(command)} failed:\n{done.stderr[-1500:]}")
    return time.perf_counter() - started


def killed_run(command: list[str], index: Path, rng: random.Random, total_batches: int) -> tuple[float, int]:
    """Start the build, kill it once a random number of its checkpoint batches are written."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CWQA_CHECKPOINT_BATCH": BATCH}
    target = rng.randint(1, max(1, total_batches - 1))
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while process.poll() is None and len(list(index.glob(".checkpoints/batch-*.npz"))) < target:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return time.perf_counter() - started, len(list(index.glob(".checkpoints/batch-*.npz")))


def bench_resume(work: Path, extra: list[str], seed: int) -> dict:
    corpus = corpus_of(work / "corpus", BASE)
    whole = run(cwqa(corpus, work / "whole", extra))
    facts = manifest(work / "whole")
    texts = facts["embedded"]
    batches = -(-texts // int(BATCH))
    before_kill, kept = killed_run(cwqa(corpus, work / "killed", extra), work / "killed", random.Random(seed), batches)
    resumed = run(cwqa(corpus, work / "killed", extra))
    after = manifest(work / "killed")
    return {
        "texts": texts,
        "uninterrupted_s": round(whole, 1),
        "killed_after_s": round(before_kill, 1),
        "checkpointed_batches_at_kill": kept,
        "of_batches": batches,
        "resumed_s": round(resumed, 1),
        "resumed_embedded": after["embedded"],
        "killed_plus_resumed_s": round(before_kill + resumed, 1),
        "same_passages": after["chunks"] == facts["chunks"],
    }


def bench_incremental(work: Path, extra: list[str]) -> dict:
    corpus = corpus_of(work / "corpus-grow", BASE)
    index = work / "grow"
    first = run(cwqa(corpus, index, extra))
    before = manifest(index)
    corpus_of(corpus, ADDED)
    second = run(cwqa(corpus, index, extra))
    after = manifest(index)
    alone = work / "alone"
    run(cwqa(corpus_of(work / "corpus-alone", ADDED), alone, extra))
    return {
        "base_texts": before["embedded"],
        "base_build_s": round(first, 1),
        "added_volume_texts": manifest(alone)["embedded"],
        "rebuild_embedded": after["embedded"],
        "rebuild_reused": after["reused"],
        "rebuild_s": round(second, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    parser.add_argument("--workers", help="passed to `cwqa index --workers`")
    parser.add_argument("--device", help="passed to `cwqa index --device`")
    parser.add_argument("--seed", type=int, default=0, help="where the kill falls (default 0)")
    parser.add_argument("--only", choices=("resume", "incremental"))
    args = parser.parse_args(argv)
    extra = [*(["--workers", args.workers] if args.workers else []), *(["--device", args.device] if args.device else [])]
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start", flush=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="cwqa-rebuild-") as folder:
        if args.only in (None, "resume"):
            results["resume"] = bench_resume(Path(folder), extra, args.seed)
            print("resume", json.dumps(results["resume"]), flush=True)
        if args.only in (None, "incremental"):
            results["incremental"] = bench_incremental(Path(folder), extra)
            print("incremental", json.dumps(results["incremental"]), flush=True)
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
