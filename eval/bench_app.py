"""How long the app makes a reader wait: from sending a question to the first result card, in a real
browser (Debian's Chromium driven by Playwright), one session and several at once.

    .venv/bin/python eval/bench_app.py                       # the bundled corpus, 1 and 6 sessions
    .venv/bin/python eval/bench_app.py --sessions 1,3,6 --questions 8

Starts `streamlit run app.py` on a free loopback port (file watcher off, reranking off, as
`make run`), opens the app once so the index is open and the model loaded, then for each session
count asks the realistic seed questions in that many browser pages at once and times each question
from requesting its result page to the first "Open in document" link (a new session each time: an
upper bound on asking in an open page). Prints p50/p95/max per session count.
Nothing is asserted: timings belong in benchmarks, not tests.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
BOX = "Ask a question about the documents…"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(corpus: Path, index: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = dict(os.environ, CWQA_CORPUS=str(corpus), CWQA_INDEX=str(index), CWQA_RERANK="off")
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"streamlit did not start: {log.read_text(errors='replace')[-2000:]}")


def wait_idle(page, timeout: float = 120_000) -> None:
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state') === 'notRunning'",
        timeout=timeout,
    )


def time_questions(browser, url: str, questions: list[str], results: list[float], errors: list[str]) -> None:
    """One reader: each question sent as a result-page address (`?q=…`, as a shared link or a
    reload sends it), timed from the request to the first result card on screen. Each load is a
    new Streamlit session, so this is an upper bound on asking in an open page: it includes the
    page load and the session's start, never a card left over from the previous question."""
    page = browser.new_page()
    try:
        for question in questions:
            started = time.perf_counter()
            page.goto(url + "?" + urllib.parse.urlencode({"q": question}))
            page.get_by_role("link", name="Open in document").first.wait_for(timeout=240_000)
            results.append(time.perf_counter() - started)
            wait_idle(page)
    except Exception as error:  # noqa: BLE001 - a benchmark reports, it does not stop
        errors.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")
    finally:
        page.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="1,6", help="comma-separated numbers of concurrent sessions")
    parser.add_argument("--questions", type=int, default=6, help="questions per session")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    rows = [json.loads(line) for line in (ROOT / "eval/realistic/questions.jsonl").read_text(encoding="utf-8").splitlines()]
    questions = [row["question"] for row in rows if not row["doc"].startswith("frus")][: args.questions]
    work = Path(tempfile.mkdtemp(prefix="cwqa-bench-app-"))
    subprocess.run([sys.executable, "-m", "cwqa.cli", "--corpus", str(args.corpus), "--index", str(work / "index"), "index"],
                   check=True, capture_output=True)
    process, url = start_server(args.corpus, work / "index", work / "streamlit.log")
    report = {"machine": f"{os.cpu_count()} CPUs", "load_average": os.getloadavg()[0], "questions": len(questions)}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            warm: list[float] = []
            time_questions(browser, url, questions[:1], warm, [])  # opens the index, loads the model
            report["first_question_s"] = round(warm[0], 3) if warm else None
            for count in [int(n) for n in args.sessions.split(",") if n]:
                results: list[float] = []
                errors: list[str] = []
                threads = []
                for _ in range(count):
                    # Playwright's sync API is not thread-safe: one browser per session thread.
                    threads.append(threading.Thread(target=lambda: _session(playwright_browser_factory(), url, questions, results, errors)))
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                ordered = sorted(results)
                report[f"sessions_{count}"] = {
                    "asked": len(ordered), "errors": errors,
                    "p50_s": round(statistics.median(ordered), 3) if ordered else None,
                    "p95_s": round(ordered[max(0, int(0.95 * len(ordered)) - 1)], 3) if ordered else None,
                    "max_s": round(ordered[-1], 3) if ordered else None,
                }
                print(f"{count} session(s): {report[f'sessions_{count}']}", flush=True)
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=20)
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


def playwright_browser_factory():
    """A browser of its own for a session thread (sync Playwright objects stay in their thread)."""
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    return manager, manager.chromium.launch(executable_path=CHROMIUM, args=ARGS)


def _session(made, url, questions, results, errors) -> None:
    manager, browser = made
    try:
        time_questions(browser, url, questions, results, errors)
    finally:
        browser.close()
        manager.stop()


if __name__ == "__main__":
    sys.exit(main())
