"""Generation stage: a question and its ranked passages become an `Answer` whose claims cite them.

A generator is a small class with one required method, `generate(question, hits) -> Answer`.
Built-in and third-party generators are found the same way: through the `cwqa.generators`
entry-point group, by name (`get_generator`). Whatever a generator writes, `generate_answer`
(or `stream_answer`) checks it afterwards: a `[n]` must point at one of the n passages it was
given (others are removed and flagged), and each sentence is marked supported or unsupported
by the passages it cites.

Built-ins: `extractive` (default; quotes whole sentences of the passages, no language model),
`openai` (any OpenAI-compatible endpoint, in `generators_openai`) and `local` (a causal LM through
transformers, in `generators_local`).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from importlib import metadata
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from .chunking import TokenCounter, sentence_spans, split_sentences
from .config import Settings
from .errors import CwqaError
from .retrieval import Hit

ENTRY_POINT_GROUP = "cwqa.generators"
DEFAULT_GENERATOR = "extractive"

# The one phrase every generator uses to decline; language-model prompts demand it verbatim, so
# that an abstention can be recognised in their output.
ABSTAIN_PHRASE = "The passages do not answer this question."

# A sentence that is not verbatim counts as supported by the passages it cites when its cosine
# similarity (all-MiniLM-L6-v2) to one of their sentences reaches SUPPORT_SIMILARITY, or reaches
# SUPPORT_SIMILARITY_WITH_WORDS while most of its content words (SUPPORT_WORD_SHARE) occur in
# them. Close paraphrases score 0.6-0.9, loose ones 0.45-0.6, claims on other subjects 0.2-0.45
# (tests/test_generation.py). Similarity cannot see negation: a contradiction in the passage's
# own words passes; the marks catch invented and misattributed claims, not every misreading.
SUPPORT_SIMILARITY = 0.6
SUPPORT_SIMILARITY_WITH_WORDS = 0.45
SUPPORT_WORD_SHARE = 0.6

# Extractive abstention: the answer is withheld when its evidence score (see `evidence_score`)
# is below this. Chosen by eval/calibrate_abstention.py on the calibration half of
# eval/questions.jsonl and eval/unanswerable.jsonl: the threshold that abstains on the most
# unanswerable questions while abstaining on at most 5% of answerable ones (it chose 0.483 at
# k=5; held-out half: 80% of unanswerable abstained on, 0% of answerable). Re-run the script
# after changing the scoring, the retriever or the question files.
ABSTAIN_THRESHOLD = 0.48
# Evidence lost for names, numbers or capitalised terms of the question that appear nowhere in
# the passages (nor their titles and citations), times the square of how many: a question about
# "the Marshall Plan" is not answered by passages that never mention it, however similar.
MISSING_TERM_PENALTY = 0.15
# Evidence lost for each thing the question asks for that the answer cannot hold (`unmet_needs`):
# enough to abstain on its own.
UNMET_PENALTY = 1.0
# Sentence ranking: weight of lexical overlap (IDF-weighted share of the question's content
# words in a sentence) and of the passage's rank (RANK_WEIGHT / rank) against embedding
# similarity. Tuned on eval/questions.jsonl for how often the chosen sentences hold a gold quote.
LEXICAL_WEIGHT = 0.5
RANK_WEIGHT = 0.2
MIN_SENTENCE_WORDS = 3  # shorter "sentences" are not quoted as answers


class GeneratorError(CwqaError):
    """A generator failed (unreachable endpoint, timeout, malformed reply, missing model)."""


class UnknownGeneratorError(GeneratorError):
    """No generator is registered under the name asked for."""


class BackendError(GeneratorError):
    """A model backend failed: endpoint unreachable or erroring, timeout, malformed reply, bad model."""


# ---------------------------------------------------------------------------------------------
# Answers


@dataclass
class SentenceCheck:
    """One sentence of an answer and whether the passages it cites support it."""

    text: str  # as shown, citation markers included
    citations: list[int]  # passage numbers, 1-based positions in the hits given
    supported: bool
    method: str  # supported: "verbatim" or "similar"; not: "uncited", "quote-not-found", "dissimilar"
    score: float | None = None  # best similarity to a cited passage, when it was measured

    def to_dict(self) -> dict:
        """JSON form, for `cwqa ask --json`."""
        return {
            "text": self.text,
            "citations": self.citations,
            "supported": self.supported,
            "method": self.method,
            "score": None if self.score is None else round(self.score, 4),
        }


@dataclass
class Answer:
    """A generated answer: text with `[n]` markers, where n is a position in `hits` (1-based)."""

    question: str
    text: str
    hits: list[Hit]  # the passages the generator was given, in order
    generator: str = ""
    abstained: bool = False
    abstain_reason: str = ""
    sentences: list[SentenceCheck] = field(default_factory=list)  # filled in by verification
    invalid_citations: list[int] = field(default_factory=list)  # numbers removed: no such passage
    verified: bool = False
    evidence: float | None = None  # the extractive generator's evidence score
    notice: str = ""  # e.g. why a fallback answer is shown instead
    diagnostics: dict = field(default_factory=dict)  # a generator's own numbers, for calibration

    @property
    def citation_numbers(self) -> list[int]:
        """The passage numbers the text cites, in order of first appearance."""
        numbers: list[int] = []
        for match in _MARKER.finditer(self.text):
            for number in _marker_numbers(match):
                if number not in numbers:
                    numbers.append(number)
        return numbers

    @property
    def cited(self) -> list[tuple[int, Hit]]:
        """(n, hit) for each passage the text cites, in order of first citation."""
        return [(n, self.hits[n - 1]) for n in self.citation_numbers if 1 <= n <= len(self.hits)]

    @property
    def supported(self) -> bool:
        """True when verification found every sentence supported."""
        return self.verified and all(sentence.supported for sentence in self.sentences)

    def render_text(self) -> str:
        """Plain text for a terminal: the answer, then any warnings its verification raised."""
        lines = [self.text]
        if self.abstained and self.abstain_reason:
            lines.append(f"  (abstained: {self.abstain_reason})")
        for sentence in self.sentences:
            if not sentence.supported:
                lines.append(f"  ! not supported by what it cites ({sentence.method}): {sentence.text}")
        if self.invalid_citations:
            removed = ", ".join(f"[{n}]" for n in self.invalid_citations)
            lines.append(f"  ! removed citations of passages that were not given: {removed}")
        if self.notice:
            lines.append(f"  note: {self.notice}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON form carrying the verification marks (for `cwqa ask --json` and the eval runs)."""
        return {
            "question": self.question,
            "text": self.text,
            "generator": self.generator,
            "abstained": self.abstained,
            "abstain_reason": self.abstain_reason,
            "verified": self.verified,
            "supported": self.supported,
            "evidence": None if self.evidence is None else round(self.evidence, 4),
            "notice": self.notice,
            "diagnostics": self.diagnostics,
            "invalid_citations": self.invalid_citations,
            "citations": [{"n": n, **hit.to_dict()} for n, hit in self.cited],
            "sentences": [sentence.to_dict() for sentence in self.sentences],
        }


def abstention(question: str, hits: Sequence[Hit], reason: str, generator: str = "", **extra) -> Answer:
    """An answer that declines, saying why."""
    return Answer(question, ABSTAIN_PHRASE, list(hits), generator, abstained=True, abstain_reason=reason, **extra)


def answer_from_text(question: str, text: str, hits: Sequence[Hit], generator: str = "") -> Answer:
    """An Answer from a language model's reply: the fixed abstain phrase anywhere means abstention."""
    text = text.strip()
    if _normalise(ABSTAIN_PHRASE).rstrip(".") in _normalise(text):
        return abstention(question, hits, "the model said the passages do not answer the question", generator)
    if not text:
        return abstention(question, hits, "the model returned no text", generator)
    return Answer(question, text, list(hits), generator)


# ---------------------------------------------------------------------------------------------
# The interface and the registry


class Generator:
    """Base class for generators. Subclasses implement `generate`; `stream` is optional.

    A generator is built with the settings in force (`settings.generator_options` holds its own
    options) and is given the question and the ranked hits; it returns an `Answer` whose `[n]`
    markers are 1-based positions in that list of hits.
    """

    name = "generator"

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        self.options: dict = dict(self.settings.generator_options)

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


# ---------------------------------------------------------------------------------------------
# Running a generator, with verification and an optional fallback


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
    fallback = getattr(generator, "options", {}).get("fallback")
    if not fallback or fallback == getattr(generator, "name", None):
        raise error
    answer = get_generator(fallback, getattr(generator, "settings", None)).generate(question, hits)
    answer.notice = f"{error}; showing the {fallback} answer instead"
    return answer


def _embedder_for(generator, embedder):
    if embedder is not None:
        return embedder
    from .embedding import get_embedder

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


# ---------------------------------------------------------------------------------------------
# Citation markers

# "[3]", "[1, 2]", "[2-4]", "[Passage 3]": one marker, possibly naming several passages.
_MARKER = re.compile(r"\[\s*(?:passages?\s+)?(\d+(?:\s*(?:,|;|-|–|and)\s*\d+)*)\s*\]", re.IGNORECASE)


def _marker_numbers(match: re.Match) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*(?:,|;|and)\s*", match.group(1)):
        if re.search(r"[-–]", part):
            low, high = (int(x) for x in re.split(r"\s*[-–]\s*", part))
            # A reversed or absurd range is taken as its two ends, not expanded.
            numbers.extend(range(low, high + 1) if 0 <= high - low <= 20 else [low, high])
        elif part.strip():
            numbers.append(int(part))
    return numbers


def clean_citations(text: str, count: int) -> tuple[str, list[int]]:
    """Rewrite markers as `[n]` (one per passage) and drop those not in 1..count.

    Returns the cleaned text and the removed numbers, so no answer shows a citation that does
    not point at a given passage.
    """
    invalid: list[int] = []

    def rewrite(match: re.Match) -> str:
        numbers = _marker_numbers(match)
        valid = [n for n in dict.fromkeys(numbers) if 1 <= n <= count]
        invalid.extend(n for n in numbers if not 1 <= n <= count and n not in invalid)
        return "".join(f"[{n}]" for n in valid)

    cleaned = _MARKER.sub(rewrite, text)
    # Removing a marker can leave "word ." or doubled spaces behind.
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned) if invalid else cleaned
    cleaned = re.sub(r"[ \t]{2,}", " ", cleaned)
    return cleaned.strip(), invalid


def filter_citation_stream(pieces: Iterable[str], count: int) -> Iterator[str]:
    """Stream pieces with invalid markers removed; a possible marker is held back until closed."""
    pending = ""
    for piece in pieces:
        pending += piece
        cut = _safe_cut(pending)
        if cut:
            yield _MARKER.sub(lambda m: _valid_marker(m, count), pending[:cut])
            pending = pending[cut:]
    if pending:
        yield _MARKER.sub(lambda m: _valid_marker(m, count), pending)


def _safe_cut(text: str) -> int:
    """How much of `text` can be released: all of it, unless it ends inside an open '['."""
    opening = text.rfind("[")
    if opening == -1 or "]" in text[opening:] or len(text) - opening > 40:
        return len(text)
    return opening


def _valid_marker(match: re.Match, count: int) -> str:
    return "".join(f"[{n}]" for n in dict.fromkeys(_marker_numbers(match)) if 1 <= n <= count)


# ---------------------------------------------------------------------------------------------
# Verification


_QUOTE_MAP = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "*": None})


def _normalise(text: str) -> str:
    """Lower case, straight quotes, no markdown '*', whitespace runs collapsed."""
    return re.sub(r"\s+", " ", text.translate(_QUOTE_MAP).lower()).strip()


def _core(text: str) -> str:
    """A sentence without markers, list bullets and edge punctuation, normalised, for matching."""
    text = _MARKER.sub(" ", text)
    text = re.sub(r"^\s*[-•]\s+", "", text)
    return _normalise(text).strip(" .,;:!?")


# A quoted span worth checking: three or more words inside straight or curly double quotes.
_QUOTED = re.compile(r"[\"“]([^\"“”]+?\s[^\"“”]+?\s[^\"“”]+?)[\"”]")


# A marker followed by a new sentence's start ends its sentence, even after ':' or no stop at all;
# so does a marker after a full stop, whatever follows ("[1] (a) USSR still lives ...").
_MARKER_THEN_START = re.compile(r"\s+(?=(?:[-•*]\s+)?(?:[\"“(\[]?[A-Z0-9]|\(?[a-z0-9]{1,2}[.)]\s))")


def answer_sentences(text: str) -> list[tuple[str, list[int]]]:
    """The answer's sentences (as shown) with the passage numbers each cites.

    A marker belongs to the sentence it follows or stands in, so "... once. [2] Next" keeps [2]
    with the first sentence; a marker followed by a capitalised start also ends its sentence.
    """
    result: list[tuple[str, list[int]]] = []
    for segment in _segments(text):
        for shown, numbers in _split_segment(segment):
            if re.search(r"[A-Za-z0-9]", _MARKER.sub("", shown)):
                result.append((shown, numbers))
            elif result:  # a stray marker on its own belongs to the sentence before it
                result[-1] = (f"{result[-1][0]} {shown}", list(dict.fromkeys(result[-1][1] + numbers)))
    return result


def _segments(text: str) -> list[str]:
    """Cut the text after every marker that is followed by the start of a new sentence."""
    pieces, begin = [], 0
    for match in _MARKER.finditer(text):
        follow = _MARKER_THEN_START.match(text, match.end())
        ended = re.search(r"[.!?:;][\"'”’)\]]*\s*$", text[begin : match.start()])
        if ended and not follow:  # "... once. [2] (a) Next": the stop before the marker ends it
            follow = re.compile(r"\s+").match(text, match.end())
        if follow:
            pieces.append(text[begin : match.end()])
            begin = follow.end()
    pieces.append(text[begin:])
    return [piece for piece in pieces if piece.strip()]


# Besides the corpus's sentence ends: a stop followed by a labelled item, "... risks. (b) Next".
_LABELLED_START = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)]))\s+(?=\(?[a-z0-9]{1,2}[.)]\s)")


def _answer_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans of an answer: the corpus's rule, also cutting before labelled items."""
    spans = []
    for start, end in sentence_spans(text):
        begin = start
        for match in _LABELLED_START.finditer(text, start, end):
            spans.append((begin, match.end()))
            begin = match.end()
        spans.append((begin, end))
    return merge_fragments(text, [(a, b) for a, b in spans if b > a])


def _split_segment(segment: str) -> list[tuple[str, list[int]]]:
    # Split with the markers taken out (they would look like sentence starts), then put each
    # marker back into the sentence whose span holds its position.
    plain_parts, marks, cursor, length = [], [], 0, 0
    for match in _MARKER.finditer(segment):
        plain_parts.append(segment[cursor : match.start()])
        length += match.start() - cursor
        marks.append((length, match.group(0), _marker_numbers(match)))
        cursor = match.end()
    plain_parts.append(segment[cursor:])
    plain = "".join(plain_parts)
    spans = _answer_spans(plain)
    sentences = []
    for index, (start, end) in enumerate(spans):
        last = index == len(spans) - 1
        owned = [mark for mark in marks if start <= mark[0] < end or (last and mark[0] >= end)]
        shown = plain[start:end]
        for position, marker, _numbers in reversed(owned):  # right to left keeps offsets valid
            offset = position - start
            shown = shown[:offset] + marker + shown[offset:]
        numbers = list(dict.fromkeys(n for _p, _m, nums in owned for n in nums))
        sentences.append((shown.strip(), numbers))
    return sentences


def check_sentence(
    sentence: str, citations: list[int], cited_texts: Sequence[str], similarity: Callable[[str, Sequence[str]], float]
) -> SentenceCheck:
    """Mark one sentence supported or not by the passages it cites (`cited_texts`).

    Supported: the sentence occurs verbatim in a cited passage, or every quoted span in it does
    and it is close in meaning (embedding similarity >= SUPPORT_SIMILARITY) to a cited passage.
    """
    if not cited_texts:
        return SentenceCheck(sentence, citations, False, "uncited")
    core = _core(sentence)
    passages = [_normalise(text) for text in cited_texts]
    if core and any(core in passage for passage in passages):
        return SentenceCheck(sentence, citations, True, "verbatim")
    for quoted in _QUOTED.findall(sentence):
        span = _normalise(quoted).strip(" .,;:!?")
        if span and not any(span in passage for passage in passages):
            return SentenceCheck(sentence, citations, False, "quote-not-found")
    claim = strip_attribution(_MARKER.sub("", sentence).strip())
    score = similarity(claim, cited_texts)
    terms = content_terms(claim)
    cited_terms = set().union(*(content_terms(text) for text in cited_texts))
    share = len(terms & cited_terms) / len(terms) if terms else 0.0
    close = score >= SUPPORT_SIMILARITY or (score >= SUPPORT_SIMILARITY_WITH_WORDS and share >= SUPPORT_WORD_SHARE)
    return SentenceCheck(sentence, citations, close, "similar" if close else "dissimilar", score)


# "Kennan wrote that", "According to the telegram,": who said it, not what was said. Taken off
# before comparing a claim with the passages, so the framing does not dilute the similarity.
_ATTRIBUTION = re.compile(
    r"^(?:according to [^,]{1,60},\s*|(?:in (?:the|his|this) [\w\s]{1,30},\s*)?(?:kennan|the (?:telegram|document|report|"
    r"passage|author|nsc|statement)|nsc \d+|he|they|it)\s+(?:\w+\s+)?(?:wrote|writes|said|says|argued|argues|stated|"
    r"states|noted|notes|believed|believes|thought|observed|warned|claimed|claims|suggested|explained|described|"
    r"concluded|insisted|maintained)\s+(?:that\s+)?)",
    re.IGNORECASE,
)


def strip_attribution(sentence: str) -> str:
    """The claim of a sentence without a leading "Kennan wrote that" or "According to X,"."""
    stripped = _ATTRIBUTION.sub("", sentence, count=1)
    return stripped[:1].upper() + stripped[1:] if stripped else sentence


def _similarity_with(embedder) -> Callable[[str, Sequence[str]], float]:
    """Best cosine between a claim and any sentence, or whole text, of the cited passages.

    Vectors are remembered for the life of the function (one verification), so passages cited
    by several sentences are encoded once.
    """
    vectors: dict[str, np.ndarray] = {}

    def encode(texts: list[str]) -> np.ndarray:
        missing = [text for text in dict.fromkeys(texts) if text not in vectors]
        if missing:
            vectors.update(zip(missing, embedder.encode(missing)))
        return np.stack([vectors[text] for text in texts])

    def similarity(sentence: str, texts: Sequence[str]) -> float:
        candidates = [piece for text in texts for piece in [text, *split_sentences(text)]]
        found = encode([sentence, *candidates])
        return float(np.max(found[1:] @ found[0]))

    return similarity


def verify_answer(answer: Answer, embedder=None) -> Answer:
    """Remove and flag invalid markers, then mark every sentence supported or unsupported.

    Returns a new Answer with `verified=True`. An abstention keeps no markers and no sentences.
    """
    count = len(answer.hits)
    text, invalid = clean_citations(answer.text, count)
    invalid = list(dict.fromkeys(answer.invalid_citations + invalid))
    if answer.abstained:
        text = _MARKER.sub("", text).strip() or ABSTAIN_PHRASE
        return dataclasses.replace(answer, text=text, sentences=[], invalid_citations=invalid, verified=True)
    if embedder is None:
        from .embedding import get_embedder

        embedder = _LazyEmbedder(lambda: get_embedder(Settings().model))
    similarity = _similarity_with(embedder)
    checks = []
    for sentence, numbers in answer_sentences(text):
        cited_texts = [answer.hits[n - 1].text for n in numbers]
        checks.append(check_sentence(sentence, numbers, cited_texts, similarity))
    if not checks:
        return dataclasses.replace(
            answer, text=ABSTAIN_PHRASE, abstained=True, abstain_reason="the answer had no sentences",
            invalid_citations=invalid, verified=True,
        )
    return dataclasses.replace(answer, text=text, sentences=checks, invalid_citations=invalid, verified=True)


# ---------------------------------------------------------------------------------------------
# The extractive generator

_STOPWORDS = frozenset(
    """a an the of to in on for by with and or but nor is are was were be been being am do does did
    done what which who whom whose why how when where whether according kennan's his her hers its
    their theirs this that these those as at from into onto about over under there here any ever
    could would should can may might will shall must has have had having not no it he she they
    them we us our i you your me my say said says tell told think thought believe believed
    consider considered give gave expect expected see saw document documents passage text than then
    also very so such only just more most other some all each both either neither if because while
    s t into upon within without""".split()
)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


def content_terms(text: str) -> set[str]:
    """Stemmed content words of a text (stop words and question words left out)."""
    return {_stem(word) for word in re.findall(r"[a-z0-9]+", text.lower()) if word not in _STOPWORDS}


def key_terms(question: str) -> list[str]:
    """Names, numbers and other capitalised words of a question (not its first word).

    These are what a passage must mention to answer it: "Truman", "Marshall", "1958".
    """
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9'’\-]*", question)
    terms = []
    for word in words[1:]:
        word = re.sub(r"['’]s?$", "", word)
        if word and (word[0].isupper() or word[0].isdigit()) and word.lower() not in _STOPWORDS:
            terms.append(word)
    return terms


def missing_key_terms(question: str, hits: Sequence[Hit]) -> list[str]:
    """Key terms of the question found in none of the passages, their titles or citations."""
    pool: set[str] = set()
    for hit in hits:
        context = " ".join([hit.citation, hit.chunk.doc_title, hit.chunk.section_title, hit.chunk.date, hit.text])
        pool.update(re.findall(r"[a-z0-9]+", context.lower()))
    missing = []
    for term in key_terms(question):
        parts = re.findall(r"[a-z0-9]+", term.lower())
        if parts and not all(_mentioned(part, pool) for part in parts):
            missing.append(term)
    return missing


def _mentioned(word: str, pool: set[str]) -> bool:
    # Inflections count: "American" is mentioned by "America", "Eastern" by "East", "Communism"
    # by "Communist" (all but the last letter shared); "Straits" is not by "strategic".
    if word in pool or len(word) < 4:
        return word in pool or len(word) < 2
    return any(len(other) >= 4 and _same_stem(word, other) for other in pool)


def _same_stem(word: str, other: str) -> bool:
    if word.startswith(other) or other.startswith(word):
        return True
    return len(os.path.commonprefix([word, other])) >= min(len(word), len(other)) - 1


def lexical_overlap(question_terms: set[str], sentence_terms: set[str], weights: Mapping[str, float]) -> float:
    """Weighted share of the question's content terms that a sentence contains."""
    total = sum(weights.get(term, 1.0) for term in question_terms)
    if not total:
        return 0.0
    return sum(weights.get(term, 1.0) for term in question_terms & sentence_terms) / total


def term_weights(question_terms: set[str], sentences: Sequence[set[str]]) -> dict[str, float]:
    """Inverse document frequency of each question term among the candidate sentences.

    Only the passages are at hand, not the corpus, so rarity is judged among their sentences:
    a term in every sentence ("Soviet") tells them apart less than one in a single sentence.
    """
    count = len(sentences)
    return {term: math.log(1 + count / (1 + sum(term in terms for terms in sentences))) for term in question_terms}


@dataclass(frozen=True)
class ScoredSentence:
    """A candidate sentence of the extractive answer."""

    n: int  # 1-based position of its passage in the hits
    position: int  # its index among the passage's sentences
    text: str
    similarity: float
    overlap: float
    score: float


def quotable_sentences(text: str) -> list[str]:
    """The sentences of a passage as the extractive answer quotes them, verbatim."""
    return [text[start:end].strip() for start, end in merge_fragments(text, sentence_spans(text), MIN_SENTENCE_WORDS)]


def merge_fragments(text: str, spans: Sequence[tuple[int, int]], min_words: int = 1) -> list[tuple[int, int]]:
    """Sentence spans with fragments (fewer than `min_words` words) joined to a neighbour.

    A fragment the splitter leaves ("511.", "(c)"; with min_words=3 also "There follows") is no
    sentence on its own but belongs to one: it joins the next span, or the previous one at the
    end. Answers are split for checking with min_words=1, labels only, so a short sentence of a
    language model's answer ("Second claim [2].") still needs its own citation.
    """
    merged: list[list[int]] = []
    pending: int | None = None  # start of fragments waiting for a sentence
    for start, end in spans:
        if len(re.findall(r"[A-Za-z]{2,}", text[start:end])) < min_words:
            pending = start if pending is None else pending
            continue
        merged.append([start if pending is None else pending, end])
        pending = None
    if pending is not None:
        if merged:
            merged[-1][1] = spans[-1][1]
        else:
            merged.append([pending, spans[-1][1]])
    return [(start, end) for start, end in merged if text[start:end].strip()]


# A question about who wrote, sent or issued a document, to whom or when: its printed heading
# ("The Chargé in Moscow (Kennan) to the Secretary of State") is then an answer.
_ASKS_PROVENANCE = re.compile(
    r"\b(?:who|whom|author|wrote|written|writer|sent|sender|send|signed|issued?|issuing|addressed|addressee|"
    r"recipient|dated?|when|which\s+(?:body|office|agency|department|official|council))\b",
    re.IGNORECASE,
)


def score_sentences(question: str, hits: Sequence[Hit], embedder, passages: int | None = None) -> list[ScoredSentence]:
    """Every sentence of the first `passages` hits, scored against the question, best first.

    Score = similarity + LEXICAL_WEIGHT x weighted term overlap + RANK_WEIGHT / passage rank,
    where similarity is the better cosine of the question with the sentence alone or with the
    previous sentence + the sentence: these documents often announce a topic in one sentence
    and answer in the next ("This applies to ..."). Weights tuned on eval/questions.jsonl.
    """
    candidates: list[tuple[int, int, str, str]] = []
    quote_headings = bool(_ASKS_PROVENANCE.search(question))
    for n, hit in enumerate(hits[: passages or len(hits)], start=1):
        if hit.chunk.kind == "heading" and not quote_headings:
            continue  # "National Security Council Report / NSC 5607" names a document, says nothing
        sentences = quotable_sentences(hit.text)
        for position, sentence in enumerate(sentences):
            context = f"{sentences[position - 1]} {sentence}" if position else sentence
            candidates.append((n, position, sentence, context))
    if not candidates:
        return []
    sentences_only = [sentence for _n, _p, sentence, _c in candidates]
    in_context = [context for *_rest, context in candidates]
    vectors = embedder.encode([question, *sentences_only, *in_context])
    cosines = vectors[1:] @ vectors[0]
    similarities = np.maximum(cosines[: len(candidates)], cosines[len(candidates) :])
    terms = content_terms(question)
    sentence_terms = [content_terms(sentence) for _n, _p, sentence, _c in candidates]
    weights = term_weights(terms, sentence_terms)
    scored = []
    for (n, position, sentence, _c), similarity, own_terms in zip(candidates, similarities, sentence_terms):
        overlap = lexical_overlap(terms, own_terms, weights)
        score = float(similarity) + LEXICAL_WEIGHT * overlap + RANK_WEIGHT / n
        scored.append(ScoredSentence(n, position, sentence, float(similarity), overlap, score))
    return sorted(scored, key=lambda s: (-s.score, s.n, s.position))


# A question asking when, or how much or many, is answered only by a sentence holding a date,
# or an amount. The question's own numbers and those of document titles ("NSC 5607") do not
# count, nor list labels ("(1)"), nor "15 years" for a year.
_ASKS_DATE = re.compile(r"\b(?:(?:what|which)\s+(?:year|date|month)|when\s+did)\b", re.IGNORECASE)
_ASKS_AMOUNT = re.compile(r"\bhow\s+(?:much|many)\b", re.IGNORECASE)
_DATE_WORDS = re.compile(
    r"\b(?:january|february|march|april|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|spring|summer|autumn|winter)\b|\bmay\s+\d",
    re.IGNORECASE,
)
_AMOUNT_WORDS = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundred|thousand|million|billion|dollars?|per\s*cent|percent)\b|[$£%]",
    re.IGNORECASE,
)
_LABEL = re.compile(r"\(\d{1,2}\)|^\s*\d{1,3}\.(?=\s)")
# Double quotes, or single quotes that are not apostrophes ("Kennan's 'X' article").
_QUOTED_TERM = re.compile(r"[\"“]([^\"“”]{1,80})[\"”]|(?<![A-Za-z0-9])['‘]([^'‘’]{1,80})['’](?![A-Za-z0-9])")


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d[\d,.]*\d|\d", _LABEL.sub(" ", text)))


def unmet_needs(question: str, sentences: Sequence[str], hits: Sequence[Hit] = ()) -> list[str]:
    """What the question asks for that the chosen sentences or the passages lack, if anything:
    a date, an amount, or words the question quotes ('the "X" article')."""
    needs = []
    known = _numbers(question).union(*(_numbers(hit.chunk.doc_title) for hit in hits))
    fresh = set().union(*(_numbers(sentence) for sentence in sentences)) - known
    if _ASKS_DATE.search(question):
        years = {number for number in fresh if re.fullmatch(r"1[5-9]\d\d|20\d\d", number)}
        if not years and not any(_DATE_WORDS.search(sentence) for sentence in sentences):
            needs.append("a date")
    elif _ASKS_AMOUNT.search(question) and not fresh and not any(_AMOUNT_WORDS.search(s) for s in sentences):
        needs.append("an amount")
    passages = " ".join(" ".join([hit.chunk.doc_title, hit.text]) for hit in hits)
    for double, single in _QUOTED_TERM.findall(question):
        term = (double or single).strip()
        if term and not _quoted_in(term, passages):
            needs.append(f'the words "{term}"')
    return needs


def _quoted_in(term: str, text: str) -> bool:
    if len(term) <= 2:  # 'X': a letter is found only as a word of its own, in the same case
        return re.search(rf"(?<![A-Za-z]){re.escape(term)}(?![A-Za-z])", text) is not None
    return _normalise(term).strip(" .,;:!?") in _normalise(text)


def evidence_score(best_score: float | None, missing: int, penalty: float = MISSING_TERM_PENALTY, unmet: int = 0) -> float:
    """How well the passages answer the question: the best sentence's score, less a penalty
    growing with the square of the number of key terms no passage mentions, less UNMET_PENALTY
    for each unmet need. One unknown word may be a paraphrase ("Latin American" for
    "Latin-American"); two or more mean the question is about something the passages are not.
    A need is not a matter of wording: a "when" answered without a date does not answer."""
    if best_score is None:
        return float("-inf")
    return best_score - penalty * missing**2 - UNMET_PENALTY * unmet


def select_sentences(scored: Sequence[ScoredSentence], limit: int = 3, margin: float = 0.3, max_chars: int = 900) -> list[ScoredSentence]:
    """The best sentence plus close runners-up (within `margin`), in reading order.

    Reading order is passage rank, then position in the passage, so an answer reads like the
    documents it quotes.
    """
    if not scored:
        return []
    best = scored[0]
    chosen = [best]
    length = len(best.text)
    for candidate in scored[1:]:
        if len(chosen) >= limit or candidate.score < best.score - margin:
            break
        if any(candidate.text == other.text for other in chosen) or length + len(candidate.text) > max_chars:
            continue
        chosen.append(candidate)
        length += len(candidate.text)
    return sorted(chosen, key=lambda s: (s.n, s.position))


def announces(sentence: str) -> bool:
    """Whether a sentence introduces what follows it rather than saying it.

    "The basic strategy of the United States vis-à-vis the Soviet bloc is:" and Kennan's
    rhetorical "To what deductions do they lead from standpoint of Soviet policy?" match a
    question best and answer it least: the answer is the next sentence or list item.
    """
    return sentence.rstrip().rstrip("\"'”’)").endswith((":", "?"))


def follow_announcements(
    chosen: Sequence[ScoredSentence], scored: Sequence[ScoredSentence], hits: Sequence[Hit], items: int = 3
) -> list[ScoredSentence]:
    """The chosen sentences, each announcing one followed by what it announces, when at hand.

    What follows is the next sentence of the same passage. After a paragraph's last sentence it
    is the opening sentence of each given list item that the paragraph announces (at most
    `items`, in list order: "The basic strategy ... is:" is answered by items a. and b.), or
    else the first sentence of the paragraph's next window.
    """
    by_place = {(s.n, s.position): s for s in scored}
    result: list[ScoredSentence] = []
    for sentence in chosen:
        if sentence in result:
            continue
        result.append(sentence)
        if announces(sentence.text):
            following = by_place.get((sentence.n, sentence.position + 1))
            found = [following] if following else _continuations(sentence, hits, by_place)[:items]
            result.extend(s for s in found if s not in result)
    return result


def _continuations(sentence: ScoredSentence, hits: Sequence[Hit], by_place: Mapping) -> list[ScoredSentence]:
    if any(n == sentence.n and position > sentence.position for n, position in by_place):
        return []  # the passage goes on, only with fragments too short to quote
    own = hits[sentence.n - 1].chunk
    listed, continued = [], []
    for n, hit in enumerate(hits, start=1):
        chunk, first = hit.chunk, min((position for m, position in by_place if m == n), default=None)
        if n == sentence.n or first is None or chunk.doc_id != own.doc_id:
            continue
        if chunk.lead_in and sentence.text.rstrip(":") in chunk.lead_in and chunk.window == 1:
            listed.append((chunk.ordinal, by_place[(n, first)]))
        elif chunk.paragraph_id == own.paragraph_id and chunk.window == own.window + 1:
            continued.append((chunk.ordinal, by_place[(n, first)]))
    return [s for _ordinal, s in sorted(listed, key=lambda pair: pair[0]) or continued]


def compose_extract(sentences: Sequence[ScoredSentence]) -> str:
    """The answer text: each sentence verbatim, followed by its passage's marker.

    A quoted unit that the answer checker reads as several sentences ("... at once. There
    follows") gets the marker after each of them, so every one is cited.
    """
    pieces = []
    for sentence in sentences:
        pieces.extend(f"{sentence.text[a:b].strip()} [{sentence.n}]" for a, b in _answer_spans(sentence.text))
    return " ".join(pieces)


class ExtractiveGenerator(Generator):
    """Quotes the passages' sentences that best answer the question; offline, no language model.

    Options (settings.generator_options): `abstain_threshold` (default ABSTAIN_THRESHOLD),
    `max_sentences` (3), `passages` (how many top hits to quote from; default all given).
    """

    name = "extractive"

    def __init__(self, settings: Settings | None = None, embedder=None):
        super().__init__(settings)
        self._embedder = embedder

    @property
    def embedder(self):
        if self._embedder is None:
            from .embedding import get_embedder

            self._embedder = get_embedder(self.settings.model)
        return self._embedder

    def generate(self, question: str, hits: Sequence[Hit]) -> Answer:
        """Pick, order and cite whole sentences; abstain when the evidence is weak."""
        hits = list(hits)
        threshold = float(self.options.get("abstain_threshold", ABSTAIN_THRESHOLD))
        scored = score_sentences(question, hits, self.embedder, self.options.get("passages"))
        chosen = select_sentences(scored, limit=int(self.options.get("max_sentences", 3)))
        chosen = follow_announcements(chosen, scored, hits)
        missing = missing_key_terms(question, hits)
        unmet = unmet_needs(question, [s.text for s in chosen], hits)
        best = scored[0].score if scored else None
        evidence = evidence_score(best, len(missing), unmet=len(unmet))
        diagnostics = {"best_score": best, "missing": missing, "unmet": unmet}
        if evidence < threshold:
            why = f"evidence {evidence:.2f} is below the threshold {threshold:.2f}"
            if best is None:
                why = "the passages hold no whole sentence to quote"
            elif missing or unmet:
                why += f"; the passages lack {', '.join(missing + unmet)}"
            # No candidate sentence at all gives -inf, which JSON cannot carry: report None.
            shown = evidence if best is not None else None
            return abstention(question, hits, why, self.name, evidence=shown, diagnostics=diagnostics)
        return Answer(question, compose_extract(chosen), hits, self.name, evidence=evidence, diagnostics=diagnostics)


# ---------------------------------------------------------------------------------------------
# The prompt contract shared by the language-model generators

SYSTEM_PROMPT = f"""You answer questions about Cold War diplomatic documents for historians.
Use ONLY the numbered passages you are given; never use outside knowledge.
After every sentence, cite the passage or passages it relies on as [n], using the numbers shown.
Prefer the documents' own words, and put any exact wording in double quotes.
Keep the answer short: at most four sentences.
If the passages do not contain the answer, reply with exactly this sentence and nothing else:
{ABSTAIN_PHRASE}"""


def format_passages(hits: Sequence[Hit], budget: int, count: TokenCounter) -> str:
    """The passages numbered [1]..[n] with their citations, trimmed to `budget` tokens.

    Passages are kept whole in rank order while they fit; the first that does not fit is cut
    at a sentence boundary, and later ones are left out. Numbers stay the hits' positions, so
    a citation always means the same passage.
    """
    blocks: list[str] = []
    used = 0
    for n, hit in enumerate(hits, start=1):
        block, whole = _fit_passage(f"[{n}] {hit.citation}\n", hit.text, budget - used, count)
        if block:
            blocks.append(block)
            used += count(block) + 1  # +1: the blank line between passages
        if not whole:
            break
    return "\n\n".join(blocks)


def _fit_passage(header: str, text: str, room: int, count: TokenCounter) -> tuple[str | None, bool]:
    """(block, whole): the passage if it fits in `room` tokens, else its leading sentences + '…'."""
    if count(header + text) <= room:
        return header + text, True
    kept: list[str] = []
    for sentence in split_sentences(text):
        if count(header + " ".join([*kept, sentence]) + " …") > room:
            break
        kept.append(sentence)
    return (header + " ".join(kept) + " …" if kept else None), False


def build_messages(question: str, hits: Sequence[Hit], budget: int, count: TokenCounter) -> list[dict]:
    """Chat messages for a language model: the rules, then the numbered passages and the question."""
    passages = format_passages(hits, budget, count)
    user = (
        f"Passages:\n\n{passages}\n\n"
        f"Question: {question.strip()}\n\n"
        f"Answer from the passages only, citing them as [n]. If they do not answer the question, "
        f"reply exactly: {ABSTAIN_PHRASE}"
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


# ---------------------------------------------------------------------------------------------
# Answer metrics, for the eval runner


def longest_shared_span(text: str, quote: str) -> int:
    """Length of the longest contiguous run of `quote` found in `text`, after normalising both."""
    a, b = _normalise(text), _normalise(quote)
    if not a or not b:
        return 0
    return SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b)).size


def contains_quote(text: str, quotes: Sequence[str], share: float = 0.6) -> bool:
    """True when `text` holds at least `share` of some quote as one contiguous span.

    Both sides are normalised (case, whitespace, curly quotes, markdown '*'); markers are
    ignored so "[2]" inside an answer does not break a span.
    """
    text = _MARKER.sub(" ", text)
    return any(longest_shared_span(text, quote) >= share * len(_normalise(quote)) for quote in quotes if _normalise(quote))


def _as_dict(answer) -> dict:
    return answer.to_dict() if hasattr(answer, "to_dict") else dict(answer)


def answer_metrics(
    results: Mapping[str, Any],
    relevant: Mapping[str, Sequence[str]],
    relevant_chunks: Mapping[str, Iterable[str]] | None = None,
    share: float = 0.6,
) -> dict:
    """Answer quality over a question set.

    results: question id -> Answer (or its `to_dict()`).
    relevant: question id -> gold quotes; an empty list marks an unanswerable question.
        Questions missing from `relevant` are ignored.
    relevant_chunks: question id -> relevant chunk ids, for citation precision; without it a
        cited passage is relevant when it contains `share` of a gold quote.

    Returns shares in [0, 1] (None when a denominator is zero):
    answer_contains_quote  answerable questions whose answer holds >= `share` of a gold quote
                           as a contiguous span (an abstention holds none);
    citation_precision     cited passages that are relevant, over answered answerable questions;
    unsupported_rate       answer sentences not supported by what they cite (answered questions);
    verbatim_rate          answer sentences found verbatim in a cited passage;
    abstain_recall         unanswerable questions abstained on;
    false_abstain_rate     answerable questions abstained on;
    plus the counts behind them.
    """
    counts = dict(answerable=0, unanswerable=0, contains=0, abstained_answerable=0, abstained_unanswerable=0,
                  cited=0, cited_relevant=0, sentences=0, unsupported=0, verbatim=0)
    for qid, answer in results.items():
        if qid not in relevant:
            continue
        data, quotes = _as_dict(answer), list(relevant[qid])
        abstained = bool(data.get("abstained"))
        kind = "answerable" if quotes else "unanswerable"
        counts[kind] += 1
        counts[f"abstained_{kind}"] += abstained
        if abstained:
            continue
        sentences = data.get("sentences") or []
        counts["sentences"] += len(sentences)
        counts["unsupported"] += sum(not s.get("supported") for s in sentences)
        counts["verbatim"] += sum(s.get("method") == "verbatim" for s in sentences)
        if not quotes:
            continue
        counts["contains"] += contains_quote(data.get("text", ""), quotes, share)
        wanted = set(relevant_chunks.get(qid, ())) if relevant_chunks is not None else None
        for citation in data.get("citations") or []:
            counts["cited"] += 1
            if wanted is not None:
                counts["cited_relevant"] += citation.get("chunk_id") in wanted
            else:
                counts["cited_relevant"] += contains_quote(citation.get("text", ""), quotes, share)

    def ratio(part: str, whole: str) -> float | None:
        return counts[part] / counts[whole] if counts[whole] else None

    return {
        "answer_contains_quote": ratio("contains", "answerable"),
        "citation_precision": ratio("cited_relevant", "cited"),
        "unsupported_rate": ratio("unsupported", "sentences"),
        "verbatim_rate": ratio("verbatim", "sentences"),
        "abstain_recall": ratio("abstained_unanswerable", "unanswerable"),
        "false_abstain_rate": ratio("abstained_answerable", "answerable"),
        "counts": counts,
    }
