"""Relevance: a passage is relevant to a question when it holds one of its gold quotes, or most of one."""

from __future__ import annotations

from typing import Iterable, Sequence

from ..text import PARTIAL_MATCH, normalise, quote_matches
from .metrics import Judged
from .questions import Question
from .systems import Ranked


def is_relevant(passage: str, quotes: Iterable[str], share: float = PARTIAL_MATCH) -> bool:
    """Whether a passage is relevant to a question: it holds (most of) at least one of its gold quotes."""
    text = normalise(passage)
    return any(quote_matches(normalise(quote), text, share) for quote in quotes)


class Relevance:
    """Judges passages against a question set, caching normalised texts (passages recur across systems)."""

    def __init__(self, questions: Sequence[Question], share: float = PARTIAL_MATCH):
        self.share = share
        self.quotes = {q.id: [normalise(quote) for quote in q.quotes] for q in questions}
        self._texts: dict[str, str] = {}

    def _normal(self, text: str) -> str:
        normal = self._texts.get(text)
        if normal is None:
            normal = self._texts[text] = normalise(text)
        return normal

    def found(self, question_id: str, text: str) -> list[bool]:
        """Which of the question's quotes the passage holds (or `share` of)."""
        passage = self._normal(text)
        return [quote_matches(quote, passage, self.share) for quote in self.quotes[question_id]]

    def relevant(self, question_id: str, text: str) -> bool:
        """Whether the passage is relevant to the question."""
        return any(self.found(question_id, text))

    def relevant_total(self, question_id: str, passages: Sequence[tuple[str, str]]) -> int:
        """How many passages of a whole collection are relevant: the length of the ideal ranking."""
        return sum(self.relevant(question_id, text) for _, text in passages)

    def judge(self, question: Question, ranked: Sequence[Ranked], relevant_total: int) -> Judged:
        """A question's ranking as relevance flags, word counts and quotes found in the top 5."""
        found = [self.found(question.id, item.text) for item in ranked]
        top5 = [any(column) for column in zip(*found[:5])] if found else []
        return Judged(
            question_id=question.id,
            relevant=tuple(any(flags) for flags in found),
            words=tuple(len(item.text.split()) for item in ranked),
            quotes_found_top5=sum(top5),
            quotes=len(self.quotes[question.id]),
            relevant_total=relevant_total,
        )
