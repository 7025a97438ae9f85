# The two commands of the README. Both set up .venv first (idempotent; see scripts/setup.sh).
.PHONY: run test test-fast lint setup setup-dev index eval bench

PORT ?= 8501

run: setup
	.venv/bin/cwqa index
	.venv/bin/streamlit run app.py --server.headless true --server.port $(PORT) --browser.gatherUsageStats false \
		--server.fileWatcherType none --server.runOnSave false

test: setup-dev lint
	.venv/bin/python -m pytest -q

# Everything that loads no model, no language model and no browser, and takes under 2 s: about a minute.
test-fast: setup-dev lint
	.venv/bin/python -m pytest -q -m "not model and not lm and not browser and not slow"

# The layers contract (pyproject.toml [tool.importlinter]): no module imports from a layer above it.
lint: setup-dev
	.venv/bin/lint-imports --no-cache

setup:
	bash scripts/setup.sh

setup-dev:
	bash scripts/setup.sh dev

index: setup
	.venv/bin/cwqa index

eval: setup
	.venv/bin/cwqa eval

bench: setup
	.venv/bin/python eval/bench.py
