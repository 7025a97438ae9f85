"""False premises: what a question takes for granted, checked against the passages (the extractive
generator), the language-model prompt contract that asks a model to say so in a fixed phrase, and
verification recognising that phrase. Sentences are the record's own (the Long Telegram, NSC 5607,
FRUS 1961-63 vol. V); the fakes are scripted model replies and a no-model embedder."""

from __future__ import annotations

import json

import pytest

from cwqa.answers.extractive import ExtractiveGenerator
from cwqa.answers.model import ABSTAIN_PHRASE, PREMISE_PHRASES, Answer, answer_from_text, premise_phrase
from cwqa.answers.premise import check_premise, negated_terms, presupposed_claim, unsupported_premise
from cwqa.answers.prompt import SYSTEM_PROMPT, build_messages
from cwqa.answers.run import generate_answer
from cwqa.answers.verify import verify_answer
from cwqa.config import Settings
from cwqa.passages import Chunk, Hit

# Verbatim from the Long Telegram, Part 5 and Part 1.
NO_STAKE = "We have here no investments to guard, no actual trade to lose, virtually no citizens to protect, few cultural contacts to preserve."
WEAKER = "Gauged against Western World as a whole, Soviets are still by far the weaker force."
NO_DEVOTION = "I reiterate, Moscow has no abstract devotion to UNO ideals."
INSECURITY = "At bottom of Kremlin's neurotic view of world affairs is traditional and instinctive Russian sense of insecurity."
# NSC 5607 and vol. V doc. 371.
REJECTED_PREVIOUS = "At the Geneva Foreign Ministers meeting the Western Powers put forward a 17-point proposal on East-West contacts."
REJECTED = "This was rejected by the Soviet Union which, however, indicated that it might be prepared to develop East-West exchanges along the indicated lines on the basis of bilateral talks."


def make_hit(text: str, rank: int, doc: str = "long-telegram") -> Hit:
    title, citation = {
        "long-telegram": ("The Long Telegram", f'Kennan, "Long Telegram", 22 Feb 1946, ¶{rank}, p. 708'),
        "nsc-5607": ("National Security Council Report NSC 5607", f"NSC 5607, 29 Jun 1956, ¶{rank}"),
    }[doc]
    chunk = Chunk(
        id=f"{doc}/p{rank}", paragraph_id=f"{doc}/p{rank}", doc_id=doc,
        doc_title=title, section_id="part-5", section_label="Part 5", section_title="Part 5",
        label="", ordinal=rank, window=1, windows=1, text=text, text_start=0, text_end=len(text), start=0,
        end=len(text), first_page=708, last_page=708, citation=citation,
    )
    return Hit(rank=rank, score=1.0 / rank, chunk=chunk, mode="hybrid")


class NoEmbedder:
    """For verification that must not need a similarity (verbatim sentences, the fixed phrases)."""

    def encode(self, texts):
        raise AssertionError(f"no similarity should be needed here, yet {texts!r} was encoded")


# ---------------------------------------------------------------------------------------------
# What a question takes for granted


def test_a_wh_question_presupposes_its_claim_and_a_yes_no_question_nothing():
    assert presupposed_claim("Why did Kennan call for a preventive war against the USSR?") == "did Kennan call for a preventive war against the USSR"
    assert presupposed_claim("How did Kennan argue that ideology was irrelevant?") == "did Kennan argue that ideology was irrelevant"
    # Other wh-questions assume too little to judge: that Kohler told them something, an amount.
    assert presupposed_claim("What did Kohler tell the Soviets about the broadcasts?") is None
    assert presupposed_claim("How many troops stayed in Cuba?") is None
    assert presupposed_claim("Did Kennan call for a preventive war?") is None
    assert presupposed_claim("Was Soviet expansion like Hitler's?") is None


def test_a_negator_governs_the_words_after_it_up_to_the_end_of_its_clause():
    negated = negated_terms(NO_STAKE)
    assert {"invest", "trade", "citizen"} <= negated
    assert "contact" not in negated  # "few cultural contacts" is not a negation
    assert "soviet" not in negated_terms("The Soviets did not accept, but they proposed bilateral talks.") - {"accept"}


def test_the_record_negating_the_claim_contradicts_it():
    question = "why did kennan think american investments, trade and citizens in russia needed guarding?"
    check = check_premise(question, [NO_STAKE])
    assert check.verdict == "contradicted" and check.sentence == 0 and "investments" in check.reason


def test_a_general_opposite_of_the_claim_contradicts_it():
    check = check_premise("why did kennan think the soviet union was stronger than the whole western world?", [WEAKER])
    assert check.verdict == "contradicted" and "stronger" in check.reason


def test_a_denying_verb_in_the_record_contradicts_an_acceptance_the_subject_shared_through_context():
    question = "why did the soviets accept the western 17-point proposal at the geneva foreign ministers meeting?"
    assert check_premise(question, [REJECTED], [REJECTED_PREVIOUS]).verdict == "contradicted"


def test_a_supported_premise_and_a_yes_no_question_are_not_flagged():
    assert check_premise("why did kennan think the kremlin felt insecure?", [INSECURITY]).verdict is None
    # The same negating sentence answers a yes/no question: that asks, it does not assume.
    assert check_premise("did kennan think american investments, trade and citizens in russia needed guarding?", [NO_STAKE]).verdict is None
    # A negative claim the record also states negatively agrees with it.
    assert check_premise("why did the soviets reject the western 17-point proposal?", [REJECTED], [REJECTED_PREVIOUS]).verdict is None


def test_one_missing_name_on_a_strong_topic_is_an_unsupported_premise_two_are_off_topic():
    assert unsupported_premise("why did khrushchev choose brezhnev as his heir?", ["Brezhnev"]).verdict == "unsupported"
    assert unsupported_premise("why did khrushchev choose brezhnev as his heir?", ["Brezhnev", "Suslov"]).verdict is None
    assert unsupported_premise("did khrushchev choose brezhnev as his heir?", ["Brezhnev"]).verdict is None


# ---------------------------------------------------------------------------------------------
# The extractive generator


class TopicEmbedder:
    """Every text on one vector: similarity 1, so only term overlap and rank order the sentences."""

    def encode(self, texts):
        import numpy as np

        return np.ones((len(texts), 2), dtype=np.float32) / np.sqrt(2)


def test_the_extractive_answer_says_the_premise_is_contradicted_and_quotes_the_record():
    hits = [make_hit(f"Our stake in this country is remarkably small. {NO_STAKE}", 1), make_hit(INSECURITY, 2)]
    question = "why did kennan think american investments, trade and citizens in russia needed guarding?"
    generator = ExtractiveGenerator(Settings(), embedder=TopicEmbedder())
    answer = generate_answer(generator, question, hits, NoEmbedder())
    assert not answer.abstained and answer.premise == "contradicted"
    assert answer.text.startswith(PREMISE_PHRASES["contradicted"])
    assert f"{NO_STAKE} [1]" in answer.text
    assert answer.sentences[0].method == "premise" and answer.sentences[0].supported
    assert all(s.supported for s in answer.sentences)
    data = json.loads(json.dumps(answer.to_dict()))
    assert data["premise"] == "contradicted" and "investments" in data["premise_reason"]
    assert "(premise contradicted: " in answer.render_text()


def test_the_premise_check_is_a_switch_and_can_be_turned_off():
    from cwqa.errors import ConfigError

    assert ExtractiveGenerator(Settings(generator_options={"premise": "off"})).options.premise is False
    with pytest.raises(ConfigError, match="'premise' must be true or false, not 'maybe'"):
        ExtractiveGenerator(Settings(generator_options={"premise": "maybe"})).options
    hits = [make_hit(NO_STAKE, 1)]
    question = "why did kennan think american investments, trade and citizens in russia needed guarding?"
    generator = ExtractiveGenerator(Settings(generator_options={"premise": False}), embedder=TopicEmbedder())
    answer = generate_answer(generator, question, hits, NoEmbedder())
    assert answer.premise is None and answer.text == f"{NO_STAKE} [1]"


# ---------------------------------------------------------------------------------------------
# The language-model prompt contract and its verification


def test_the_prompt_asks_for_the_fixed_premise_phrases_and_citations_of_what_the_record_says():
    for phrase in PREMISE_PHRASES.values():
        assert phrase in SYSTEM_PROMPT
    assert "citing them as [n]" in SYSTEM_PROMPT.split(PREMISE_PHRASES["unsupported"])[1]
    messages = build_messages("Why did Kennan call for a preventive war?", [make_hit(NO_STAKE, 1)], 1000, lambda text: len(text.split()))
    user = messages[1]["content"]
    assert all(phrase in user for phrase in PREMISE_PHRASES.values()) and ABSTAIN_PHRASE in user
    assert user.index("Question: Why did Kennan call for a preventive war?") < user.index(PREMISE_PHRASES["contradicted"])


def test_a_model_reply_with_the_phrase_is_a_premise_verdict_checked_like_any_answer():
    hits = [make_hit(NO_STAKE, 1), make_hit(WEAKER, 2)]
    reply = f"{PREMISE_PHRASES['contradicted']} {NO_STAKE} [1]"
    answer = verify_answer(answer_from_text("q", reply, hits, "model"), NoEmbedder())
    assert answer.premise == "contradicted" and not answer.abstained
    assert [s.method for s in answer.sentences] == ["premise", "verbatim"] and answer.supported
    assert answer.to_dict()["premise"] == "contradicted"


def test_the_phrase_is_recognised_despite_case_and_curly_apostrophes():
    assert premise_phrase("note: the passages do not support the question’s premise") == "unsupported"
    assert premise_phrase("The passages do not answer this question.") is None


def test_a_premise_verdict_backed_by_a_claim_the_record_does_not_hold_is_marked_unsupported():
    hits = [make_hit(NO_STAKE, 1)]
    reply = f'{PREMISE_PHRASES["contradicted"]} Kennan said "America had vast holdings in Russia" [1].'
    answer = verify_answer(answer_from_text("q", reply, hits, "model"), NoEmbedder())
    assert answer.premise == "contradicted"
    assert [(s.method, s.supported) for s in answer.sentences] == [("premise", False), ("quote-not-found", False)]


def test_a_premise_verdict_that_quotes_nothing_is_an_abstention():
    answer = verify_answer(answer_from_text("q", PREMISE_PHRASES["unsupported"], [make_hit(NO_STAKE, 1)], "model"), NoEmbedder())
    assert answer.abstained and answer.premise is None and "quoted nothing" in answer.abstain_reason


@pytest.mark.parametrize("verdict", sorted(PREMISE_PHRASES))
def test_the_extractive_phrases_are_the_models_phrases(verdict):
    # One contract: the extractive answer opens with the phrase verification recognises.
    assert premise_phrase(PREMISE_PHRASES[verdict]) == verdict
    assert isinstance(Answer("q", "", [], premise=verdict).to_dict()["premise"], str)


# ---------------------------------------------------------------------------------------------
# The claim's subject: passages that never name it do not answer (the evidence-removed case)

# NSC 5607, verbatim: on exchanges and Soviet motives, never naming Kennan.
NSC_MOTIVES = (
    "In this way, it could be made clear that what we do is a part of our policy designed to weaken "
    "International Communism, and that it is not either an acquiescence in Soviet policy or a recognition "
    "that Soviet motives have so changed that they are no longer to be feared."
)


def test_the_subject_of_a_why_question_is_its_first_word_after_the_auxiliary_and_determiners():
    from cwqa.answers.premise import claim_subject

    assert claim_subject("why did kennan call for a preventive war against the ussr?") == "kennan"
    assert claim_subject("why had all soviet troops left cuba by october 1963?") == "soviet"
    assert claim_subject("did kennan call for a preventive war?") is None


def test_a_why_question_about_someone_no_passage_names_is_not_answered():
    from cwqa.answers.extractive import missing_subject

    hits = [make_hit(NSC_MOTIVES, 1, "nsc-5607")]
    question = "why did kennan think soviet motives had changed so that they were no longer to be feared?"
    assert missing_subject(question, hits) == ['the question\'s subject "kennan"']
    assert missing_subject("why did the soviets change their motives?", hits) == []
    generator = ExtractiveGenerator(Settings(), embedder=TopicEmbedder())
    answer = generate_answer(generator, question, hits, NoEmbedder())
    assert answer.abstained and 'subject "kennan"' in answer.abstain_reason
