"""Typed generator options: `settings.generator_options` checked into one small dataclass per generator.

A bad value is a one-line error naming the option and the value (`max_new_tokens = "lots"`),
never a traceback from deep inside a generator.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass

from ..errors import ConfigError


@dataclass(frozen=True)
class ExtractiveOptions:
    abstain_threshold: float | None = None  # None: the calibrated default (extractive.ABSTAIN_THRESHOLD)
    max_sentences: int = 3
    passages: int | None = None  # how many top hits to quote from; None: all given
    premise: bool = True  # check what the question takes for granted (cwqa.answers.premise)
    fallback: str = ""


@dataclass(frozen=True)
class OpenAIOptions:
    base_url: str = ""  # "" then $OPENAI_BASE_URL, then the OpenAI API
    model: str = ""  # "" then $CWQA_OPENAI_MODEL, then gpt-4o-mini
    api_key: str = ""  # "" then $OPENAI_API_KEY
    context_tokens: int = 3000
    max_tokens: int = 400
    temperature: float = 0.0
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    retries: int = 2
    backoff: float = 0.5
    fallback: str = ""


@dataclass(frozen=True)
class LocalOptions:
    model_path: str = ""  # a model folder, a .gguf file, or a folder holding one; "" = SmolLM2
    gguf_file: str = ""
    max_new_tokens: int = 200
    context_tokens: int = 1500
    threads: int | None = None
    fallback: str = ""


BUILT_IN = (ExtractiveOptions, OpenAIOptions, LocalOptions)


def parse_options(kind: type, raw: dict | None, generator: str):
    """`raw` checked against the dataclass `kind`: unknown names and ill-typed values are errors."""
    raw = dict(raw or {})
    hints = typing.get_type_hints(kind)
    known = {f.name for f in dataclasses.fields(kind)}
    # One `generator_options` table serves whichever generator is chosen: another built-in's
    # options are left for it, but a name no generator knows is a typo worth saying.
    others = {f.name for other in BUILT_IN for f in dataclasses.fields(other)}
    unknown = sorted(set(raw) - known - others)
    if unknown:
        raise ConfigError(
            f"generator {generator!r}: unknown option {unknown[0]!r} (known: {', '.join(sorted(known))})"
        )
    return kind(**{name: _coerce(hints[name], value, name, generator) for name, value in raw.items() if name in known})


def _coerce(hint, value, name: str, generator: str):
    allowed = [t for t in typing.get_args(hint)] if isinstance(hint, types.UnionType) else [hint]
    if value is None and type(None) in allowed:
        return None
    if bool in allowed:
        # A switch: true/false from TOML, or the usual words from an environment variable.
        words = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}
        if isinstance(value, bool) or str(value).strip().lower() in words:
            return value if isinstance(value, bool) else words[str(value).strip().lower()]
        raise ConfigError(f"generator {generator!r}: option {name!r} must be true or false, not {value!r}")
    for kind in (t for t in allowed if t is not type(None)):
        try:
            if kind is bool or isinstance(value, bool):
                raise ValueError
            number = kind(value)
            if kind is int and isinstance(value, float) and value != int(value):
                raise ValueError
            if kind in (int, float) and number < 0:
                raise ValueError
            return number
        except (TypeError, ValueError):
            continue
    wanted = " or ".join("a non-negative number" if t in (int, float) else "text" for t in allowed if t is not type(None))
    if int in allowed:
        wanted = "a non-negative whole number"
    raise ConfigError(f"generator {generator!r}: option {name!r} must be {wanted}, not {value!r}")
