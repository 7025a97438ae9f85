"""Report files of a run: report.json, report.md, report.png and one run file per system."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import time
from pathlib import Path
from typing import Sequence

from ..config import Settings
from ..text import PARTIAL_MATCH
from .metrics import ANSWER_KEYS, CONTEXT_WORDS, METRIC_KEYS
from .systems import RERANK_SUFFIX, SystemResult


DEFAULT_REPORTS_DIR = Path("eval/reports")


REPORT_JSON = "report.json"


REPORT_MD = "report.md"


REPORT_PNG = "report.png"


def build_report(
    results: Sequence[SystemResult],
    pipeline,
    settings: Settings,
    questions_path: Path,
    count: int,
    k: int,
    answers: dict | None,
) -> dict:
    """The JSON object of a run: metadata, one section per mode and per baseline, answers if any."""
    manifest = getattr(pipeline, "manifest", None) or {}
    # The row `cwqa ask` returns with these settings: the default mode under the default policy.
    default = settings.mode + RERANK_SUFFIX.get(settings.rerank, "")
    report = {
        "meta": {
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "questions_file": str(questions_path),
            "questions": count,
            "k": k,
            "model": settings.model,
            "chunk_tokens": settings.chunk_tokens,
            "context_prefix": settings.context_prefix,
            # every setting in force (fusion, weights, ...), except generator options, which may hold keys
            "settings": {
                name: str(value) if isinstance(value, Path) else value
                for name, value in dataclasses.asdict(settings).items()
                if name != "generator_options"
            },
            "index_build": str(getattr(pipeline, "build_path", "")),
            "default_system": default,
            "index_chunks": manifest.get("chunks", len(getattr(pipeline, "chunks", []))),
            "dense_index": manifest.get("dense_index", ""),
            "relevance": f"passage holds a gold quote, or {PARTIAL_MATCH:.0%} of one as a contiguous span, "
            "after normalising whitespace, case, quote marks and '*'",
            "context_words": CONTEXT_WORDS,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
            "load_average": [round(load, 2) for load in os.getloadavg()],  # latencies mean little on a busy machine
            "systems": {
                r.system.name: {
                    "kind": r.system.kind,
                    "default": r.system.name == default,
                    "passages": len(r.system.passages),
                    "description": r.system.description,
                    # questions no passage of this collection is relevant to: misses whatever the ranking
                    "unreachable": [j.question_id for j in r.judged if j.relevant_total == 0],
                }
                for r in results
            },
        },
        "modes": {r.system.name: r.metrics for r in results if r.system.kind == "mode"},
        "baselines": {r.system.name: r.metrics for r in results if r.system.kind == "baseline"},
    }
    if answers is not None:
        report["answers"] = answers
    return report


def new_report_dir(root: Path = DEFAULT_REPORTS_DIR) -> Path:
    """A fresh eval/reports/<timestamp>/ folder name (suffixed if two runs start in the same second)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, n = Path(root) / stamp, 1
    while path.exists():
        n += 1
        path = Path(root) / f"{stamp}-{n}"
    return path


def report_markdown(report: dict) -> str:
    """The report as Markdown: one table row per mode and baseline, then the misses."""
    meta = report["meta"]
    columns = [key for key in METRIC_KEYS if key != "misses@5"]
    lines = [
        f"# Retrieval evaluation {meta['created']}",
        "",
        f"{meta['questions']} questions from `{meta['questions_file']}`, k={meta['k']}, model `{meta['model']}`, "
        f"chunk_tokens={meta['chunk_tokens']}, context_prefix={meta['context_prefix']}, "
        f"{meta['index_chunks']} passages ({meta['dense_index'] or 'dense'} index). {meta['machine']}.",
        "",
        f"Relevance: {meta['relevance']}. hit@300w: a relevant passage starts within the first "
        f"{meta['context_words']} words of the ranked passages. Latency per query, warm, in ms.",
        "",
        "| system | " + " | ".join(columns) + " | misses@5 |",
        "|---|" + "---:|" * (len(columns) + 1),
    ]
    sections = [(name, m) for name, m in report["modes"].items()]
    sections += [(f"baseline: {name}", m) for name, m in report.get("baselines", {}).items()]
    for name, metrics in sections:
        cells = [_cell(metrics[key]) for key in columns] + [str(len(metrics["misses@5"]))]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "## Questions missed at 5", ""]
    for name, metrics in sections:
        lines.append(f"- {name}: {', '.join(metrics['misses@5']) or 'none'}")
    if "answers" in report:
        answers = report["answers"]
        lines += ["", f"## Answers ({answers['generator']}, {answers['mode']}, k={answers['k']})", ""]
        lines += ["| " + " | ".join(ANSWER_KEYS) + " |", "|" + "---:|" * len(ANSWER_KEYS)]
        lines.append("| " + " | ".join(_cell(answers[key]) for key in ANSWER_KEYS) + " |")
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}" if value <= 1.0 else f"{value:.1f}"
    return str(value)


def write_chart(report: dict, path: Path) -> None:
    """A PNG bar chart of the main metrics per system, and of query latency."""
    import matplotlib

    matplotlib.use("Agg")  # no display: the chart is a file
    import matplotlib.pyplot as plt

    names = list(report["modes"]) + [f"base: {name}" for name in report.get("baselines", {})]
    sections = list(report["modes"].values()) + list(report.get("baselines", {}).values())
    metrics = ["hit@1", "hit@5", "mrr@10", "ndcg@10", "quote_recall@5", "hit@300w"]
    figure, (quality, speed) = plt.subplots(1, 2, figsize=(13, 5.4), gridspec_kw={"width_ratios": [3, 1]})
    width = 0.8 / max(1, len(names))
    for i, (name, section) in enumerate(zip(names, sections)):
        xs = [m + (i - (len(names) - 1) / 2) * width for m in range(len(metrics))]
        quality.bar(xs, [section[m] for m in metrics], width, label=name)
    quality.set_xticks(range(len(metrics)), metrics)
    quality.set_ylim(0, 1.0)
    quality.set_title(f"Retrieval quality ({report['meta']['questions']} questions)")
    quality.legend(fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.08))  # below: never over a bar
    quality.grid(axis="y", alpha=0.3)
    speed.barh(names, [s["latency_ms_p50"] for s in sections], label="p50")
    speed.barh(names, [s["latency_ms_p95"] - s["latency_ms_p50"] for s in sections],
               left=[s["latency_ms_p50"] for s in sections], alpha=0.4, label="p95")  # fmt: skip
    speed.set_xscale("log")  # BM25 answers in a fraction of a millisecond, the model in tens
    speed.set_xlim(left=max(1e-3, min(s["latency_ms_p50"] for s in sections) / 3))  # bars start left of the smallest
    speed.set_xlabel("ms per query (log scale)")
    speed.set_title("Latency")
    speed.invert_yaxis()
    speed.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_run_file(result: SystemResult, path: Path) -> None:
    """One line per ranked passage: question id, rank, passage id, score, relevance, text."""
    judged = {j.question_id: j for j in result.judged}
    with open(path, "w", encoding="utf-8") as handle:
        for question_id, ranked in result.rankings.items():
            for rank, item in enumerate(ranked, start=1):
                record = {
                    "question_id": question_id,
                    "rank": rank,
                    "chunk_id": item.passage_id,
                    "score": round(float(item.score), 6),
                    "relevant": judged[question_id].relevant[rank - 1],
                    "text": item.text,
                }
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_report(result, out_dir: Path) -> dict[str, Path]:
    """Write report.json, report.md, report.png and the run files of a run (an EvaluationResult)
    into `out_dir`; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"json": out_dir / REPORT_JSON, "markdown": out_dir / REPORT_MD, "chart": out_dir / REPORT_PNG}
    files["json"].write_text(json.dumps(result.report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    files["markdown"].write_text(report_markdown(result.report), encoding="utf-8")
    write_chart(result.report, files["chart"])
    for system_result in result.results:
        prefix = "run-" if system_result.system.kind == "mode" else "run-baseline-"
        path = out_dir / f"{prefix}{system_result.system.name}.jsonl"
        write_run_file(system_result, path)
        files[f"run:{system_result.system.name}"] = path
    return files


def load_report(folder: Path) -> dict:
    """The JSON report of a report folder."""
    return json.loads((Path(folder) / REPORT_JSON).read_text(encoding="utf-8"))


def latest_report(root: Path = DEFAULT_REPORTS_DIR) -> Path | None:
    """The most recent report folder under `root` (by its recorded creation time), or None if there is none."""
    root = Path(root)
    if not root.is_dir():
        return None
    found = []
    for path in root.glob(f"*/{REPORT_JSON}"):
        try:
            created = json.loads(path.read_text(encoding="utf-8"))["meta"]["created"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a half-written or foreign folder is not a report
        found.append((created, path.stat().st_mtime, path.parent))
    return max(found)[2] if found else None
