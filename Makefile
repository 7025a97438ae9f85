# The two commands of the README. Both set up .venv first (idempotent; see scripts/setup.sh).
.PHONY: run test setup setup-dev index eval bench

PORT ?= 8501

run: setup
	.venv/bin/cwqa index
	.venv/bin/streamlit run app.py --server.headless true --server.port $(PORT) --browser.gatherUsageStats false

test: setup-dev
	.venv/bin/python -m pytest -q

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
