"""The extractive generator: quotes the passages' sentences that best answer the question, or abstains.

Offline and without a language model: sentences are scored by embedding similarity to the
question, weighted term overlap and the passage's rank; the answer abstains when the evidence
is weak, when names the question asks about are missing, or when it asks for a date or an
amount the chosen sentences lack (thresholds from eval/calibrate_abstention.py).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ..config import Settings
from ..embedding import get_embedder
from ..passages import Hit
from ..text import content_terms, normalise, sentence_spans, stopwords
from .citations import _answer_spans, merge_fragments
from .model import PREMISE_PHRASES, Answer, abstention
from .options import ExtractiveOptions
from .plugins import Generator
from .premise import PremiseCheck, check_premise, claim_subject, unsupported_premise


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


def key_terms(question: str) -> list[str]:
    """Names, numbers and other capitalised words of a question (not its first word).

    These are what a passage must mention to answer it: "Truman", "Marshall", "1958".
    """
    tokens = re.findall(r"[A-Za-z0-9][A-Za-z0-9'’\-]*", question)
    stop = stopwords()
    terms = []
    for word in tokens[1:]:
        word = re.sub(r"['’]s?$", "", word)
        if word and (word[0].isupper() or word[0].isdigit()) and word.lower() not in stop:
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
    return normalise(term).strip(" .,;:!?") in normalise(text)


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
    `max_sentences` (3), `passages` (how many top hits to quote from; default all given),
    `premise` (true: say when the passages contradict or do not support the question's premise).
    """

    name = "extractive"
    options_type = ExtractiveOptions

    def __init__(self, settings: Settings | None = None, embedder=None):
        super().__init__(settings)
        self._embedder = embedder

    @property
    def embedder(self):
        if self._embedder is None:
            self._embedder = get_embedder(self.settings.model)
        return self._embedder

    def generate(self, question: str, hits: Sequence[Hit]) -> Answer:
        """Pick, order and cite whole sentences; abstain when the evidence is weak."""
        hits = list(hits)
        options = self.options
        threshold = ABSTAIN_THRESHOLD if options.abstain_threshold is None else options.abstain_threshold
        scored = score_sentences(question, hits, self.embedder, options.passages)
        chosen = select_sentences(scored, limit=options.max_sentences)
        chosen = follow_announcements(chosen, scored, hits)
        missing = missing_key_terms(question, hits)
        unmet = unmet_needs(question, [s.text for s in chosen], hits)
        # A passage set that never names whom the question is about does not answer it, whatever
        # the score (the scores of sentences on the same subject matter can outweigh any penalty).
        unmet += missing_subject(question, hits) if options.premise else []
        best = scored[0].score if scored else None
        evidence = evidence_score(best, len(missing), unmet=len(unmet))
        diagnostics = {"best_score": best, "missing": missing, "unmet": unmet}
        off_subject = any(need.startswith("the question's subject") for need in unmet)
        if evidence < threshold or off_subject:
            why = f"evidence {evidence:.2f} is below the threshold {threshold:.2f}"
            if off_subject and evidence >= threshold:
                why = "no passage mentions the question's subject"
            if best is None:
                why = "the passages hold no whole sentence to quote"
            elif missing or unmet:
                why += f"; the passages lack {', '.join(missing + unmet)}"
            # No candidate sentence at all gives -inf, which JSON cannot carry: report None.
            shown = evidence if best is not None else None
            return abstention(question, hits, why, self.name, evidence=shown, diagnostics=diagnostics)
        check = premise_check(question, scored, missing) if options.premise else PremiseCheck(None)
        if check.verdict:
            diagnostics["premise"] = check.verdict
            return Answer(
                question, compose_premise_answer(check, chosen, scored), hits, self.name, evidence=evidence,
                diagnostics=diagnostics, premise=check.verdict, premise_reason=check.reason,  # type: ignore[arg-type]
            )
        return Answer(question, compose_extract(chosen), hits, self.name, evidence=evidence, diagnostics=diagnostics)


def missing_subject(question: str, hits: Sequence[Hit]) -> list[str]:
    """The subject of a why/how question's claim when no passage mentions it, as an unmet need.

    "Why did Kennan call for a preventive war?" is not answered, nor its premise judged, by
    passages that never name Kennan: with his telegram left out, NSC 5607's sentences on war are
    about something else. Questions are often typed in lower case, so the capitalised key terms
    (`missing_key_terms`) miss such a name; the claim's grammar finds it.
    """
    subject = claim_subject(question)
    if subject is None:
        return []
    pool: set[str] = set()
    for hit in hits:
        pool.update(re.findall(r"[a-z0-9]+", " ".join([hit.citation, hit.chunk.doc_title, hit.text]).lower()))
    return [] if _mentioned(subject, pool) else [f'the question\'s subject "{subject}"']


def premise_check(question: str, scored: Sequence[ScoredSentence], missing: Sequence[str]) -> PremiseCheck:
    """The verdict on what the question takes for granted (cwqa.answers.premise), judged by the
    best-scored sentences, each with the sentence before it in its passage as context."""
    by_place = {(s.n, s.position): s.text for s in scored}
    contexts = [by_place.get((s.n, s.position - 1), "") for s in scored]
    check = check_premise(question, [s.text for s in scored], contexts)
    if check.verdict:
        return check
    # Only reached with strong evidence (the caller did not abstain): the topic is there.
    return unsupported_premise(question, missing)


def compose_premise_answer(check: PremiseCheck, chosen: Sequence[ScoredSentence], scored: Sequence[ScoredSentence]) -> str:
    """The fixed premise phrase, then what the record says: the sentence that contradicts the
    premise first (when one does), then the chosen answer sentences, each cited."""
    shown = [scored[check.sentence]] if check.sentence is not None else []
    shown += [s for s in chosen if s not in shown][: max(1, len(chosen) - len(shown))]
    return f"{PREMISE_PHRASES[check.verdict]} {compose_extract(shown)}"
