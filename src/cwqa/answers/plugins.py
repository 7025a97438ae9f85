"""The generator plug-in door: a `Generator` base class and the `cwqa.generators` entry-point registry.

Built-in generators register through the same entry points as plug-ins (pyproject.toml), so
`get_generator(name)` finds both, and an unknown name is an error listing what exists.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from importlib import metadata
from typing import Iterator, Sequence

from ..config import Settings
from ..passages import Hit
from .model import Answer, GeneratorError, UnknownGeneratorError
from .options import parse_options


ENTRY_POINT_GROUP = "cwqa.generators"


DEFAULT_GENERATOR = "extractive"


class Generator:
    """Base class for generators. Subclasses implement `generate`; `stream` is optional.

    A generator is built with the settings in force (`settings.generator_options` holds its own
    options) and is given the question and the ranked hits; it returns an `Answer` whose `[n]`
    markers are 1-based positions in that list of hits.
    """

    name = "generator"
    options_type: type | None = None  # a dataclass of the generator's options (answers.options)

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        raw = dict(self.settings.generator_options)
        # Typed and checked when the generator declares its options; a plug-in without a
        # declaration gets the table as it is.
        self.options = parse_options(self.options_type, raw, self.name) if self.options_type else raw

    def generate(self, question: str, hits: Sequence[Hit]) -> Answer:
        """Write an answer from the passages (required)."""
        raise NotImplementedError

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str]:
        """Yield the answer text in pieces; may `return` the finished Answer (optional).

        The default yields the whole answer at once, so every generator can be streamed.
        """
        answer = self.generate(question, hits)
        yield answer.text
        return answer

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """Why this generator cannot run here (e.g. a missing optional extra), or None."""
        return None


@dataclass(frozen=True)
class GeneratorInfo:
    """A registered generator, as listed by `cwqa generators`."""

    name: str
    target: str  # "module:Class"
    description: str
    available: bool
    problem: str = ""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        """One line for `cwqa generators`: the description, and why it cannot run, if so."""
        return self.description + ("" if self.available else f" (unavailable: {self.problem})")


def _entry_points() -> dict[str, metadata.EntryPoint]:
    """Registered generators by name; the first on sys.path wins, as for imports."""
    found: dict[str, metadata.EntryPoint] = {}
    for point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(point.name, point)
    return found


def generator_names() -> list[str]:
    """Names of all registered generators, sorted."""
    return sorted(_entry_points())


def _load_class(name: str, point: metadata.EntryPoint) -> type:
    try:
        return point.load()
    except Exception as error:  # a broken plugin must not take the whole registry down
        raise GeneratorError(f"generator {name!r} could not be loaded from {point.value} ({type(error).__name__}: {error})")


def list_generators() -> dict[str, GeneratorInfo]:
    """Every registered generator by name, with its description and whether it can run here."""
    infos = {}
    for name, point in sorted(_entry_points().items()):
        try:
            cls = _load_class(name, point)
            problem = _unavailable(cls)
            description = ((cls.__doc__ or "").strip().splitlines() or [""])[0]
        except GeneratorError as error:
            problem, description = str(error), ""
        infos[name] = GeneratorInfo(name, point.value, description, not problem, problem or "")
    return infos


def _unavailable(cls: type) -> str | None:
    check = getattr(cls, "unavailable_reason", None)
    return check() if callable(check) else None


def get_generator(name: str | None = None, settings: Settings | None = None) -> Generator:
    """The generator registered under `name` (default: `settings.generator`), built with `settings`.

    Raises UnknownGeneratorError listing the known names, or GeneratorError when the generator
    cannot be loaded or cannot run here.
    """
    settings = settings or Settings()
    name = name or settings.generator or DEFAULT_GENERATOR
    points = _entry_points()
    if name not in points:
        known = ", ".join(sorted(points)) or "none: is cwqa installed?"
        raise UnknownGeneratorError(f"unknown generator {name!r} (known: {known})")
    cls = _load_class(name, points[name])
    problem = _unavailable(cls)
    if problem:
        raise GeneratorError(f"generator {name!r} cannot run here: {problem}")
    generator = cls(settings)
    generator.name = name
    return generator
