"""The prompt contract shared by the language-model generators: rules, numbered passages, question."""

from __future__ import annotations

from typing import Callable, Sequence

from ..passages import Hit
from ..text import split_sentences
from .model import ABSTAIN_PHRASE, PREMISE_PHRASES

TokenCounter = Callable[[str], int]


SYSTEM_PROMPT = f"""You answer questions about Cold War diplomatic documents for historians.
Use ONLY the numbered passages you are given; never use outside knowledge.
After every sentence, cite the passage or passages it relies on as [n], using the numbers shown.
Prefer the documents' own words, and put any exact wording in double quotes.
Keep the answer short: at most four sentences.
A question may take for granted something the passages deny or never say.
If a passage says the opposite of what the question assumes, begin with exactly this sentence:
{PREMISE_PHRASES["contradicted"]}
If the passages are on the question's subject but none says what it assumes, begin with exactly:
{PREMISE_PHRASES["unsupported"]}
After that sentence, say what the passages do say on the matter, citing them as [n].
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
        f"Answer from the passages only, citing them as [n]. If they contradict what the question assumes, "
        f"begin with: {PREMISE_PHRASES['contradicted']} If they do not support it, begin with: "
        f"{PREMISE_PHRASES['unsupported']} If they do not answer the question, reply exactly: {ABSTAIN_PHRASE}"
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]
