"""The `Answer` noun: a generated answer with `[n]` citations, and how generators fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence

from ..errors import CwqaError
from ..passages import Hit
from ..text import normalise
from .citations import MARKER, marker_numbers


# The one phrase every generator uses to decline; language-model prompts demand it verbatim, so
# that an abstention can be recognised in their output.
ABSTAIN_PHRASE = "The passages do not answer this question."


# A question can take for granted what the record denies ("Why did Kennan call for a preventive
# war?"). Such an answer opens with one of these fixed phrases and then cites what the passages do
# say: "contradicted" when a passage says the opposite, "unsupported" when the passages are on the
# question's subject but never say what it assumes. Fixed, like ABSTAIN_PHRASE, so that a language
# model's verdict can be recognised in its output.
Premise = Literal["contradicted", "unsupported"]
PREMISE_PHRASES: dict[str, str] = {
    "contradicted": "The passages contradict the question's premise.",
    "unsupported": "The passages do not support the question's premise.",
}


class GeneratorError(CwqaError):
    """A generator failed (unreachable endpoint, timeout, malformed reply, missing model)."""


class UnknownGeneratorError(GeneratorError):
    """No generator is registered under the name asked for."""


class BackendError(GeneratorError):
    """A model backend failed: endpoint unreachable or erroring, timeout, malformed reply, bad model."""


@dataclass
class SentenceCheck:
    """One sentence of an answer and whether the passages it cites support it."""

    text: str  # as shown, citation markers included
    citations: list[int]  # passage numbers, 1-based positions in the hits given
    supported: bool
    method: str  # supported: "verbatim" or "similar"; not: "uncited", "quote-not-found", "dissimilar";
    # "premise": the fixed premise phrase, supported when a cited sentence after it is
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
    premise: Premise | None = None  # the record contradicts or does not support what the question assumes
    premise_reason: str = ""  # why, in a few words (e.g. the negation found in the passage)

    @property
    def citation_numbers(self) -> list[int]:
        """The passage numbers the text cites, in order of first appearance."""
        numbers: list[int] = []
        for match in MARKER.finditer(self.text):
            for number in marker_numbers(match):
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
        if self.premise:
            lines.append(f"  (premise {self.premise}" + (f": {self.premise_reason})" if self.premise_reason else ")"))
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
            "premise": self.premise,
            "premise_reason": self.premise_reason,
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


def premise_phrase(text: str) -> Premise | None:
    """The premise verdict a text states with one of the fixed PREMISE_PHRASES, if any.

    Matched after normalising (case, curly apostrophes) and without the final stop, anywhere in
    the text: a model may put "Note:" or a citation before it.
    """
    found = normalise(text)
    for verdict, phrase in PREMISE_PHRASES.items():
        if normalise(phrase).rstrip(".") in found:
            return verdict  # type: ignore[return-value]
    return None


def answer_from_text(question: str, text: str, hits: Sequence[Hit], generator: str = "") -> Answer:
    """An Answer from a language model's reply: the fixed abstain phrase anywhere means abstention,
    a fixed premise phrase (PREMISE_PHRASES) sets the premise verdict."""
    text = text.strip()
    if normalise(ABSTAIN_PHRASE).rstrip(".") in normalise(text):
        return abstention(question, hits, "the model said the passages do not answer the question", generator)
    if not text:
        return abstention(question, hits, "the model returned no text", generator)
    verdict = premise_phrase(text)
    reason = "the model said so" if verdict else ""
    return Answer(question, text, list(hits), generator, premise=verdict, premise_reason=reason)
