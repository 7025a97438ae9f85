"""The saved index: round trip, staleness, atomic builds, corruption, incremental re-embedding."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cwqa.config import Settings
from cwqa.index import (
    DENSE,
    MANIFEST,
    build_index,
    current_build,
    ensure_index,
    index_status,
    load_index,
)


@pytest.fixture()
def private(tmp_path, corpus_copy, settings, retriever) -> Settings:
    """Settings over a private corpus copy and a copy of the session's index (so: fresh)."""
    shutil.copytree(settings.index_dir, tmp_path / "index")
    return settings.replace(corpus_dir=corpus_copy, index_dir=tmp_path / "index")


def test_index_round_trip_keeps_every_passage(settings, retriever):
    loaded = load_index(settings)
    assert [c.id for c in loaded.chunks] == [c.id for c in retriever.chunks]
    assert loaded.dense.ntotal == len(loaded.chunks) == loaded.embeddings.shape[0]
    manifest = loaded.manifest
    assert manifest["model"] == settings.model and manifest["dimension"] == 384
    assert manifest["settings"]["chunk_tokens"] == settings.chunk_tokens
    assert set(manifest["corpus"]) >= {"000_c4af6ddfc8abae36.txt", "004_f76ce0a354435b07.meta.json"}
    assert manifest["dense_index"] == "flat" and manifest["cwqa_version"]
    # A folder of plainly named files, each with its checksum in the manifest.
    assert {"chunks.jsonl", "dense.faiss", "embeddings.npy", "documents.jsonl", "facet_values.json"} <= set(manifest["files"])


def test_fresh_index_is_reported_fresh(settings, retriever):
    assert index_status(settings).state == "fresh"


def test_changed_corpus_file_makes_the_index_stale(private):
    path = private.corpus_dir / "004_f76ce0a354435b07.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nA new closing paragraph.\n", encoding="utf-8")
    status = index_status(private)
    assert status.state == "stale" and "004_f76ce0a354435b07.txt changed" in status.reasons


def test_a_removed_file_makes_the_index_stale(private):
    (private.corpus_dir / "000_c4af6ddfc8abae36.meta.json").unlink()
    (private.corpus_dir / "000_c4af6ddfc8abae36.txt").unlink()
    status = index_status(private)
    assert "000_c4af6ddfc8abae36.txt was removed" in status.reasons
    assert "000_c4af6ddfc8abae36.meta.json was removed" in status.reasons


@pytest.mark.slow
def test_an_added_document_makes_the_index_stale_and_is_searchable_after_the_rebuild(private):
    (private.corpus_dir / "harriman.txt").write_text(
        "Harriman to Acheson\n\nThe Ambassador reported that the Kremlin would test Western resolve over Berlin "
        "within the month, and urged patience with the airlift.\n",
        encoding="utf-8",
    )
    status = index_status(private)
    assert status.state == "stale" and "harriman.txt was added" in status.reasons
    build_index(private)
    loaded = load_index(private)
    added = [c for c in loaded.chunks if c.doc_id == "harriman"]
    assert added and any("airlift" in c.text for c in added)
    assert loaded.manifest["embedded"] > 0 and loaded.manifest["reused"] > 0


def test_the_manifest_records_where_every_word_went(settings, retriever):
    from cwqa.index import manifest_coverage

    coverage = manifest_coverage(load_index(settings).manifest)
    assert {Path(c.path).name for c in coverage} == {"000_c4af6ddfc8abae36.txt", "004_f76ce0a354435b07.txt"}
    assert all(c.lost_words == 0 and c.source_words > 900 for c in coverage)


def test_a_changed_bm25_analyzer_makes_the_index_stale(private, monkeypatch):
    import cwqa.index

    monkeypatch.setattr(cwqa.index, "ANALYZER", "another-analyzer")
    assert any("BM25 analyzer changed" in reason for reason in index_status(private).reasons)


def test_changed_settings_or_model_make_the_index_stale(private):
    reasons = index_status(private.replace(chunk_tokens=100)).reasons
    assert any("chunk_tokens changed" in reason for reason in reasons)
    assert any("model changed" in r for r in index_status(private.replace(model="some/other-model")).reasons)


@pytest.mark.slow
def test_stale_index_is_rebuilt_and_says_why(private):
    path = private.corpus_dir / "004_f76ce0a354435b07.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("Tito", "Marshal Tito"), encoding="utf-8")
    messages: list[str] = []
    loaded = ensure_index(private, log=messages.append)
    assert any("stale" in m and "004_f76ce0a354435b07.txt changed" in m for m in messages)
    assert any("Marshal Tito" in c.text for c in loaded.chunks)
    assert index_status(private).fresh


@pytest.mark.slow
def test_rebuild_reembeds_only_the_changed_document(private):
    path = private.corpus_dir / "004_f76ce0a354435b07.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("Tito", "Marshal Tito"), encoding="utf-8")
    build_index(private)
    loaded = load_index(private)
    changed = [c for c in loaded.chunks if "Marshal Tito" in c.text]
    # Only the passages that changed, and the one sentence in each that changed, are embedded.
    assert loaded.manifest["embedded"] == 2 * len(changed) > 0
    assert loaded.manifest["reused"] == loaded.manifest["chunks"] + loaded.manifest["sentences"] - 2 * len(changed)


@pytest.mark.slow
def test_corrupt_index_file_is_detected_and_rebuilt(private):
    build = current_build(private.index_dir)
    (build / DENSE).write_bytes(b"not a faiss index")
    status = index_status(private)
    assert status.state == "corrupt" and any("dense.faiss does not match its checksum" in r for r in status.reasons)
    messages: list[str] = []
    loaded = ensure_index(private, log=messages.append)
    assert any(m.startswith("index corrupt") for m in messages)
    assert loaded.dense.ntotal == len(loaded.chunks)


def test_unreadable_manifest_is_corrupt(private):
    (current_build(private.index_dir) / MANIFEST).write_text("{", encoding="utf-8")
    assert index_status(private).state == "corrupt"


@pytest.mark.slow
def test_build_killed_midway_leaves_the_previous_index_usable(private):
    before = current_build(private.index_dir)
    script = (
        "import sys; from pathlib import Path; from cwqa.config import Settings; from cwqa.index import build_index;"
        f"build_index(Settings(corpus_dir=Path({str(private.corpus_dir)!r}), index_dir=Path({str(private.index_dir)!r}), chunk_tokens=64))"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], env={**os.environ, "HF_HUB_OFFLINE": "1", "CWQA_CHECKPOINT_BATCH": "16"}
    )
    deadline = time.time() + 120
    # Kill it once the embedding is under way (its first batch of vectors is checkpointed).
    while time.time() < deadline and not list(private.index_dir.glob(".checkpoints/batch-*.npz")):
        assert process.poll() is None, "the build finished before it could be killed"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert current_build(private.index_dir) == before
    assert index_status(private).state == "fresh"  # same settings as before: still the old build
    assert len(load_index(private).chunks) > 50


@pytest.mark.slow
def test_a_build_killed_at_a_random_point_resumes_from_its_checkpoints(private):
    import random

    import numpy as np

    from cwqa.embedding import get_embedder
    from cwqa.vectors import CHECKPOINTS

    changed = private.replace(chunk_tokens=64)  # new passages: nothing can come from the old build
    script = (
        "from pathlib import Path; from cwqa.config import Settings; from cwqa.index import build_index;"
        f"build_index(Settings(corpus_dir=Path({str(private.corpus_dir)!r}), index_dir=Path({str(private.index_dir)!r}), chunk_tokens=64))"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CWQA_CHECKPOINT_BATCH": "48"}
    process = subprocess.Popen([sys.executable, "-c", script], env=env)
    checkpoints = private.index_dir / CHECKPOINTS
    deadline = time.time() + 180
    while time.time() < deadline and not list(checkpoints.glob("batch-*.npz")):
        assert process.poll() is None, "the build finished before it could be killed"
        time.sleep(0.05)
    time.sleep(random.uniform(0.0, 1.5))  # somewhere in the middle of the following batches
    process.send_signal(signal.SIGKILL)
    process.wait()
    saved = len(list(checkpoints.glob("batch-*.npz")))
    assert saved >= 1

    messages: list[str] = []
    build_index(changed, log=messages.append)
    loaded = load_index(changed)
    total = loaded.manifest["chunks"] + loaded.manifest["sentences"]
    assert loaded.manifest["embedded"] <= total - 48 * saved  # the saved batches were not embedded again
    assert not checkpoints.exists()  # a complete build drops them
    # The resumed vectors are the model's vectors for those texts.
    embedder = get_embedder(changed.model)
    sample = loaded.chunks[:: max(1, len(loaded.chunks) // 10)]
    fresh = embedder.encode([c.context_text() for c in sample])
    rows = [loaded.chunks.index(c) for c in sample]
    assert np.allclose(np.asarray(loaded.embeddings)[rows], fresh, atol=1e-4)
    assert index_status(changed).fresh


@pytest.mark.slow
def test_two_builds_in_the_same_second_both_succeed(private):
    # A rebuild right after a build used to reuse the build folder's name and fail to rename.
    first = build_index(private)
    second = build_index(private)
    assert first != second and current_build(private.index_dir) == second
    assert index_status(private).fresh
