"""Verification: every sentence of an answer is checked against the passages it cites."""

from __future__ import annotations

import dataclasses
import re
from typing import Callable, Sequence

import numpy as np

from ..text import content_terms, normalise, split_sentences
from .citations import MARKER, answer_sentences, clean_citations
from .model import ABSTAIN_PHRASE, PREMISE_PHRASES, Answer, SentenceCheck, premise_phrase


# A sentence that is not verbatim counts as supported by the passages it cites when its cosine
# similarity (all-MiniLM-L6-v2) to one of their sentences reaches SUPPORT_SIMILARITY, or reaches
# SUPPORT_SIMILARITY_WITH_WORDS while most of its content words (SUPPORT_WORD_SHARE) occur in
# them. Close paraphrases score 0.6-0.9, loose ones 0.45-0.6, claims on other subjects 0.2-0.45
# (tests/test_generation.py). Similarity cannot see negation: a contradiction in the passage's
# own words passes; the marks catch invented and misattributed claims, not every misreading.
SUPPORT_SIMILARITY = 0.6


SUPPORT_SIMILARITY_WITH_WORDS = 0.45


SUPPORT_WORD_SHARE = 0.6


def _core(text: str) -> str:
    """A sentence without markers, list bullets and edge punctuation, normalised, for matching."""
    text = MARKER.sub(" ", text)
    text = re.sub(r"^\s*[-•]\s+", "", text)
    return normalise(text).strip(" .,;:!?")


# A quoted span worth checking: three or more words inside straight or curly double quotes.
_QUOTED = re.compile(r"[\"“]([^\"“”]+?\s[^\"“”]+?\s[^\"“”]+?)[\"”]")


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
    passages = [normalise(text) for text in cited_texts]
    if core and any(core in passage for passage in passages):
        return SentenceCheck(sentence, citations, True, "verbatim")
    for quoted in _QUOTED.findall(sentence):
        span = normalise(quoted).strip(" .,;:!?")
        if span and not any(span in passage for passage in passages):
            return SentenceCheck(sentence, citations, False, "quote-not-found")
    claim = strip_attribution(MARKER.sub("", sentence).strip())
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


def verify_answer(answer: Answer, embedder) -> Answer:
    """Remove and flag invalid markers, then mark every sentence supported or unsupported.

    `embedder` is the configured model's (answers.run passes it): a claim is compared with the
    passages in the same vector space they were retrieved in. Returns a new Answer with
    `verified=True`. An abstention keeps no markers and no sentences.
    """
    count = len(answer.hits)
    text, invalid = clean_citations(answer.text, count)
    invalid = list(dict.fromkeys(answer.invalid_citations + invalid))
    if answer.abstained:
        text = MARKER.sub("", text).strip() or ABSTAIN_PHRASE
        return dataclasses.replace(answer, text=text, sentences=[], invalid_citations=invalid, verified=True)
    similarity = _similarity_with(embedder)
    checks, verdicts = [], []
    for sentence, numbers in answer_sentences(text):
        verdict = premise_phrase(MARKER.sub("", sentence)) if len(sentence) < 2 * _LONGEST_PREMISE_PHRASE else None
        if verdict:
            verdicts.append((len(checks), verdict))
            checks.append(SentenceCheck(sentence, numbers, False, "premise"))
            continue
        cited_texts = [answer.hits[n - 1].text for n in numbers]
        checks.append(check_sentence(sentence, numbers, cited_texts, similarity))
    if not checks:
        return dataclasses.replace(
            answer, text=ABSTAIN_PHRASE, abstained=True, abstain_reason="the answer had no sentences",
            invalid_citations=invalid, verified=True,
        )
    premise, reason = answer.premise, answer.premise_reason
    if verdicts:
        evidence = [check for check in checks if check.method != "premise"]
        if not any(check.citations for check in evidence):
            # A verdict on the premise that cites nothing the record says cannot be checked
            # (a small model may also just repeat the prompt's phrases).
            return dataclasses.replace(
                answer, text=ABSTAIN_PHRASE, abstained=True, premise=None, premise_reason="",
                abstain_reason="the answer rejected the question's premise but quoted nothing from the passages",
                sentences=[], invalid_citations=invalid, verified=True,
            )
        # The verdict stands on the cited sentences after it: supported when one of them is.
        backed = any(check.supported and check.citations for check in evidence)
        for position, _verdict in verdicts:
            checks[position] = dataclasses.replace(checks[position], supported=backed)
        premise = premise or verdicts[0][1]
        reason = reason or "the answer says so"
    return dataclasses.replace(
        answer, text=text, sentences=checks, invalid_citations=invalid, verified=True, premise=premise, premise_reason=reason,
    )


# A sentence is read as the premise verdict only when it is little more than the fixed phrase,
# not when a long claim happens to contain it.
_LONGEST_PREMISE_PHRASE = max(len(phrase) for phrase in PREMISE_PHRASES.values())
