"""The embedding stage on the real bundled model."""

from __future__ import annotations

import numpy as np


def test_question_vector_is_the_same_as_a_batch_encoding(retriever):
    """The fast single-question path must give the vector the passages were compared against."""
    embedder = retriever.embedder
    for question in ("Which places did Kennan expect the USSR to press for first?", "What is NSC 5607 about?"):
        fast = embedder.encode_query(question)
        batch = embedder.encode([question])
        assert fast.shape == (1, embedder.dimension) and fast.dtype == np.float32
        assert np.allclose(fast, batch, atol=1e-5)
        assert abs(float(np.linalg.norm(fast)) - 1.0) < 1e-5


def test_bundled_model_names_resolve_to_the_packaged_copy():
    from cwqa.embedding import resolve_model

    assert resolve_model("all-MiniLM-L6-v2") == resolve_model("sentence-transformers/all-MiniLM-L6-v2")
    assert resolve_model("some/other-model") == "some/other-model"
