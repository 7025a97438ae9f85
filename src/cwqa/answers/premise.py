"""What a question takes for granted, checked against the passages: contradicted, unsupported, or not flagged.

"Why did Kennan call for a preventive war?" assumes that Kennan did. A wh-question presupposes
its claim (the words after the wh-word); a yes/no question ("Did Kennan call for ...?") asks
whether it holds and presupposes nothing, so it is never flagged. The claim is compared with the
sentences that best answer the question, by two cues a reader would use:

- **contradicted**: a close sentence negates a content word of the claim ("We have here no
  investments to guard" against "what large American investments ..."), or holds a
  general-language opposite of one ("the weaker force" against "stronger"), while the claim
  itself is not negated there; or the claim is negative ("refuse to sell wheat") and the close
  sentences that share its subject matter say the positive ("offer ... wheat") and none negates.
- **unsupported**: the passages answer strongly on the topic, yet one name or number of the
  claim ("Brezhnev") appears in none of them: the record names someone or something else.

Offline and lexical, through the one analyzer (cwqa.text): stems, stop words. Thresholds were
chosen on the `tune` half of eval/realistic/false_premise.jsonl and questions.jsonl only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from ..text import content_terms, stem, words


# "Why/How did X do Y?" takes "X did Y" for granted and asks about it. Other wh-questions assume
# too little to judge ("What did Kohler tell the Soviets about Z?" assumes only that he told them
# something; "How many ...?" asks for an amount), so only why/how followed by an auxiliary count.
_WH_START = re.compile(
    r"^\W*(?:why|how)\s+(?=(?:did|does|do|had|has|have|was|were|is|are|would|could|should|will|can)\b)", re.IGNORECASE
)


# Words that negate what follows them, up to the end of the clause (NEGATION_SCOPE words at most).
NEGATORS = frozenset("not no never neither nor without none nothing nobody cannot unlike".split())


# Verbs that deny what they govern: "This was rejected by the Soviet Union". Stems, so every
# inflection counts ("refused", "refusing").
NEGATIVE_VERBS = frozenset(stem(word) for word in "reject refuse deny decline dismiss".split())


# Phrasal verbs that deny: "turned down the proposal", "called off the summit" (verb stem, particle).
NEGATIVE_PHRASES = frozenset((stem(verb), particle) for verb, particle in [("turn", "down"), ("call", "off"), ("rule", "out")])


NEGATION_SCOPE = 7  # words after a negator that it governs, unless a clause ends first


# General-language opposites (not this corpus's facts): a close sentence holding one while the
# claim holds the other says the opposite. Stems of both words; the table is symmetric.
_OPPOSITES = [
    ("strong", "weak"), ("stronger", "weaker"), ("strongest", "weakest"), ("accept", "reject"),
    ("agree", "refuse"), ("admit", "deny"), ("large", "small"), ("larger", "smaller"), ("many", "few"),
    ("increase", "decrease"), ("win", "lose"), ("reckless", "cautious"), ("friendly", "hostile"),
    ("friend", "enemy"), ("success", "failure"), ("succeed", "fail"), ("relevant", "irrelevant"),
    ("important", "unimportant"), ("passive", "active"), ("early", "late"), ("sincere", "insincere"),
    ("legal", "illegal"), ("possible", "impossible"),
]
OPPOSITES: dict[str, frozenset[str]] = {}
for _a, _b in _OPPOSITES:
    OPPOSITES.setdefault(stem(_a), frozenset())
    OPPOSITES.setdefault(stem(_b), frozenset())
    OPPOSITES[stem(_a)] |= {stem(_b)}
    OPPOSITES[stem(_b)] |= {stem(_a)}


# A clause ends at these marks or words: a negation does not reach past them.
_CLAUSE_END = re.compile(r"[,;:.!?()]|\b(?:but|however|although|though|whereas|while|and\s+that)\b", re.IGNORECASE)


@dataclass(frozen=True)
class PremiseCheck:
    """The verdict on a question's premise and the sentence that shows it."""

    verdict: str | None  # "contradicted", "unsupported" or None
    reason: str = ""
    sentence: int | None = None  # index, in the sentences given, of the sentence that shows it


NOT_FLAGGED = PremiseCheck(None)


def presupposed_claim(question: str) -> str | None:
    """What a wh-question takes for granted (the words after its wh-word), or None for a yes/no
    question or one too short to assume anything."""
    match = _WH_START.match(question)
    if not match:
        return None
    claim = question[match.end() :].strip(" ?")
    return claim if len(content_terms(claim)) >= 2 else None


# Words that open a noun phrase without naming anything: "why did *the* Soviets ...".
_DETERMINERS = frozenset("the a an all any some his her its their this that these those".split())


def claim_subject(question: str) -> str | None:
    """Whom or what a why/how question's claim is about: its first word after the auxiliary and
    any determiners ("why did kennan call ..." -> "kennan", "why had all soviet troops ..." ->
    "soviet"). Passages that never mention it are about something else, however similar."""
    claim = presupposed_claim(question)
    if claim is None:
        return None
    tokens = words(claim)[1:]  # the auxiliary first
    while tokens and tokens[0] in _DETERMINERS:
        tokens = tokens[1:]
    if not tokens or not content_terms(tokens[0]):
        return None  # "why did we ..." / "how did it ...": no subject to look for
    return tokens[0]


def negated_terms(text: str) -> set[str]:
    """Stems of the content words that a negator or a denying verb governs in a text.

    A negator governs the next NEGATION_SCOPE words of its clause ("no investments to guard,
    no actual trade" negates investments and trade); a denying verb ("rejected") its whole clause.
    """
    negated: set[str] = set()
    for clause in _CLAUSE_END.split(text):
        tokens = words(clause.replace("n't", " not"))
        for position, kind in _negations(tokens):
            if kind == "negator":
                negated.update(content_terms(" ".join(tokens[position + 1 : position + 1 + NEGATION_SCOPE])))
            else:  # what was rejected may come before the verb ("This was rejected") or after it
                before = tokens[max(0, position - NEGATION_SCOPE) : position]
                negated.update(content_terms(" ".join(before + tokens[position + 2 : position + 2 + NEGATION_SCOPE])))
    return negated


# "not only X but Y", "no doubt", "nothing but": negators that affirm.
_AFFIRMING = frozenset([("not", "only"), ("not", "merely"), ("not", "just"), ("no", "doubt"), ("nothing", "but"), ("not", "least")])


def _negations(tokens: Sequence[str]) -> list[tuple[int, str]]:
    """(position, "negator" | "verb") of each negating word or denying verb (or phrasal verb)."""
    found = []
    for position, token in enumerate(tokens):
        following = tokens[position + 1] if position + 1 < len(tokens) else ""
        if token in NEGATORS and (token, following) not in _AFFIRMING:
            found.append((position, "negator"))
        elif stem(token) in NEGATIVE_VERBS or (stem(token), following) in NEGATIVE_PHRASES:
            found.append((position, "verb"))
    return found


def is_negative(text: str) -> bool:
    """Whether a text negates or denies anything (a negator, a denying verb or phrasal verb)."""
    return bool(_negations(words(text.replace("n't", " not"))))


def denies(text: str) -> bool:
    """Whether a text's verb denies ("refuse to sell", "turned down"): a claim of refusal, unlike
    a mere "without inspectors", which qualifies rather than negates."""
    return any(kind == "verb" for _position, kind in _negations(words(text)))


def opposed_terms(claim_terms: set[str], sentence_terms: set[str]) -> set[str]:
    """Claim stems whose general-language opposite the sentence holds while lacking the stem itself."""
    return {term for term in claim_terms if OPPOSITES.get(term, set()) & sentence_terms and term not in sentence_terms}


# A sentence is close enough to judge the claim by when it is among the CLOSE_SENTENCES best
# answers and shares at least MIN_SHARED of the claim's content terms (counting the sentence
# before it, which often names the subject).
CLOSE_SENTENCES = 3


MIN_SHARED = 3


# A claim word that most candidate sentences repeat ("Soviet", "test" in a test-ban passage) is
# the topic, not the point of the claim: a negation of it ("the Soviets did not ...") says
# nothing about the claim. Words in more than this share of the candidates are topic words.
TOPIC_SHARE = 0.3


TOPIC_CANDIDATES = 5  # fewer candidate sentences than this cannot tell topic from point


def check_premise(question: str, sentences: Sequence[str], context: Sequence[str] = ()) -> PremiseCheck:
    """Contradiction cues between the question's claim and its best-answering sentences.

    `sentences` are the candidate answers, best first (all of them: the share of them holding a
    word tells topic from point); `context[i]`, when given, is the text before sentence i (its
    previous sentence), which counts for sharing the subject but not for negation.
    """
    claim = presupposed_claim(question)
    if claim is None or not sentences:
        return NOT_FLAGGED
    claim_terms = content_terms(claim)
    all_terms = [content_terms(sentence) for sentence in sentences]
    topic = {
        term for term in claim_terms
        if len(all_terms) >= TOPIC_CANDIDATES and sum(term in terms for terms in all_terms) > TOPIC_SHARE * len(all_terms)
    }
    point = claim_terms - topic
    claim_negated = negated_terms(claim)
    claim_negative = denies(claim)
    close: list[int] = []
    for index, sentence in enumerate(sentences[:CLOSE_SENTENCES]):
        own = all_terms[index]
        around = own | (content_terms(context[index]) if index < len(context) else set())
        if len(claim_terms & around) < min(MIN_SHARED, len(claim_terms)):
            continue
        close.append(index)
        opposite = opposed_terms(point, own)
        if opposite:
            return PremiseCheck("contradicted", f"the passage says the opposite of \"{_word(claim, opposite)}\"", index)
        denied = (negated_terms(sentence) & point & own) - claim_negated
        if denied and not claim_negative:
            return PremiseCheck("contradicted", f"the passage negates \"{_word(claim, denied)}\"", index)
    if claim_negative and close and not any(is_negative(sentences[index]) for index in close):
        return PremiseCheck("contradicted", "the question says no where the passages say yes", close[0])
    return NOT_FLAGGED


def unsupported_premise(question: str, missing: Sequence[str]) -> PremiseCheck:
    """"Unsupported" when the passages are on the claim's topic (the caller has found the evidence
    strong) but exactly one of its names or numbers is in none of them: the record speaks of
    someone or something else. Two or more missing mean the passages are off the topic."""
    if presupposed_claim(question) is None or len(missing) != 1:
        return NOT_FLAGGED
    return PremiseCheck("unsupported", f"the passages on this subject never mention {missing[0]}")


def _word(claim: str, stems: set[str]) -> str:
    """The claim's own word for one of these stems, for the reason shown to the user."""
    for token in words(claim):
        if stem(token) in stems:
            return token
    return sorted(stems)[0]
