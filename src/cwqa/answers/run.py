"""Running a generator: the answer is always verified, and a failing generator may fall back."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from ..config import Settings
from ..embedding import get_embedder
from ..passages import Hit
from .citations import filter_citation_stream
from .model import Answer, GeneratorError, abstention, answer_from_text
from .plugins import Generator, get_generator
from .verify import verify_answer


def generate_answer(generator: Generator, question: str, hits: Sequence[Hit], embedder=None) -> Answer:
    """Run a generator and verify its answer; the one way answers should be produced.

    With no hits the answer is an abstention without calling the generator. When the generator
    fails and its options say `fallback = "extractive"` (or another name), that generator's
    answer is returned instead, with a notice saying why.
    """
    hits = list(hits)
    name = getattr(generator, "name", type(generator).__name__)
    if not hits:
        return verify_answer(abstention(question, hits, "no passages were retrieved", name), embedder)
    try:
        answer = generator.generate(question, hits)
    except GeneratorError as error:
        answer = _fallback(generator, question, hits, error)
    if not answer.generator:
        answer.generator = name
    return verify_answer(answer, _embedder_for(generator, embedder))


def _fallback(generator: Generator, question: str, hits: list[Hit], error: GeneratorError) -> Answer:
    options = getattr(generator, "options", None)
    fallback = options.get("fallback") if isinstance(options, dict) else getattr(options, "fallback", "")
    if not fallback or fallback == getattr(generator, "name", None):
        raise error
    answer = get_generator(fallback, getattr(generator, "settings", None)).generate(question, hits)
    answer.notice = f"{error}; showing the {fallback} answer instead"
    return answer


def _embedder_for(generator, embedder):
    """The embedder that checks an answer: the one given, else the configured model's, loaded
    only if a sentence needs a similarity check."""
    if embedder is not None:
        return embedder
    settings = getattr(generator, "settings", None) or Settings()
    return _LazyEmbedder(lambda: get_embedder(settings.model))


class _LazyEmbedder:
    """Loads the model only if a sentence actually needs a similarity check."""

    def __init__(self, load: Callable[[], Any]):
        self._load = load

    def encode(self, texts: list[str]) -> np.ndarray:
        return self._load().encode(texts)


class AnswerStream:
    """Streams an answer: iterate for text pieces, then read `.answer` (verified).

    Pieces never show a `[n]` that does not point at a given passage. The final `answer` may
    differ from the concatenated pieces (a fallback after a failure, markers tidied), so a
    display should re-render `answer.text` with its marks once iteration ends.
    """

    def __init__(self, generator: Generator, question: str, hits: Sequence[Hit], embedder=None):
        self.generator, self.question, self.hits = generator, question, list(hits)
        self.embedder = embedder
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        name = getattr(self.generator, "name", type(self.generator).__name__)
        if not self.hits:
            self.answer = generate_answer(self.generator, self.question, self.hits, self.embedder)
            yield self.answer.text
            return
        pieces: list[str] = []
        finished: list = []
        try:
            raw = _recorded(self.generator.stream(self.question, self.hits), pieces, finished)
            yield from filter_citation_stream(raw, len(self.hits))
            result = finished[0] if finished and isinstance(finished[0], Answer) else None
            answer = result or answer_from_text(self.question, "".join(pieces), self.hits, name)
        except GeneratorError as error:
            answer = _fallback(self.generator, self.question, self.hits, error)
            if not pieces:  # nothing shown yet: show the fallback; otherwise the re-render will
                yield from filter_citation_stream([answer.text], len(self.hits))
        if not answer.generator:
            answer.generator = name
        self.answer = verify_answer(answer, _embedder_for(self.generator, self.embedder))


def _recorded(stream: Iterable[str], pieces: list[str], finished: list) -> Iterator[str]:
    """Pass a stream's pieces through, keeping them and the stream's return value (its Answer)."""
    iterator = iter(stream)
    while True:
        try:
            piece = next(iterator)
        except StopIteration as stop:
            finished.append(stop.value)
            return
        pieces.append(piece)
        yield piece


def stream_answer(generator: Generator, question: str, hits: Sequence[Hit], embedder=None) -> AnswerStream:
    """An `AnswerStream` for the app: iterate for pieces; `.answer` is set when it ends."""
    return AnswerStream(generator, question, hits, embedder)
