"""Shared fixtures: the real seed corpus, the real model and a real index built once per run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# Fixtures that load the embedding model (and build a real index): a test using one is a
# `model` test, so `make test-fast` can leave it out without anyone having to remember the mark.
MODEL_FIXTURES = {"pipeline", "retriever", "embedder", "volume_pipeline", "frus_pipeline", "frus_retriever", "frus_settings"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.model)

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The bundled corpus (read only: tests that change files copy it first)."""
    return CORPUS


@pytest.fixture(scope="session")
def documents(corpus_dir):
    from cwqa.corpus import load_corpus

    return {document.id: document for document in load_corpus(corpus_dir)}


@pytest.fixture(scope="session")
def settings(tmp_path_factory, corpus_dir):
    """Default settings over the real corpus, with an index folder of the test run's own.

    Reranking is off (the default): tests/test_reranking.py covers the "auto" and "on" policies.
    """
    from cwqa.config import Settings

    return Settings(corpus_dir=corpus_dir, index_dir=tmp_path_factory.mktemp("index"), rerank="off")


@pytest.fixture(scope="session")
def pipeline(settings):
    """The public pipeline over a real index of the seeds, built once for the session."""
    from cwqa import open_pipeline

    return open_pipeline(settings)


@pytest.fixture(scope="session")
def retriever(pipeline):
    """The search engine under the pipeline (no reranking), for tests of retrieval itself."""
    return pipeline.retriever


@pytest.fixture()
def corpus_copy(tmp_path, corpus_dir) -> Path:
    """A private copy of the corpus that a test may change."""
    target = tmp_path / "corpus"
    shutil.copytree(corpus_dir, target)
    return target
