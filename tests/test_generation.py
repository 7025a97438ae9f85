"""Answers: the generator interface and registry, typed generator options, citation
verification, the extractive generator, streaming, fallback and the answer metrics. Uses the
real embedding model and the real seed corpus; the few fakes are tiny generators that test the
plumbing around them, and a table-driven embedder for the support thresholds themselves."""

from __future__ import annotations

import dataclasses
import json
import re
import textwrap

import numpy as np
import pytest

from cwqa.answers.citations import answer_sentences, clean_citations, filter_citation_stream
from cwqa.answers.extractive import ExtractiveGenerator, missing_key_terms, quotable_sentences, unmet_needs
from cwqa.answers.model import ABSTAIN_PHRASE, Answer, GeneratorError, UnknownGeneratorError, answer_from_text
from cwqa.answers.options import ExtractiveOptions, LocalOptions, OpenAIOptions
from cwqa.answers.plugins import Generator, get_generator, list_generators
from cwqa.answers.prompt import format_passages
from cwqa.answers.run import generate_answer, stream_answer
from cwqa.answers.verify import SUPPORT_SIMILARITY, SUPPORT_SIMILARITY_WITH_WORDS, strip_attribution, verify_answer
from cwqa.config import Settings
from cwqa.errors import ConfigError, CwqaError
from cwqa.evaluation.metrics import answer_metrics, contains_quote
from cwqa.passages import Chunk, Hit

PASSAGES = [
    # Verbatim from the Long Telegram (Part 1 and Part 5).
    'USSR still lives in antagonistic "capitalist encirclement" with which in the long run there can be '
    "no permanent peaceful coexistence. Battle between these two centers for command of world economy "
    "will decide fate of capitalism and of communism in entire world.",
    "Soviet power, unlike that of Hitlerite Germany, is neither schematic nor adventuristic. It does not "
    "work by fixed plans. It does not take unnecessary risks. Impervious to logic of reason, and it is "
    "highly sensitive to logic of force.",
    "We must have courage and self-confidence to cling to our own methods and conceptions of human "
    "society. After all, the greatest danger that can befall us in coping with this problem of Soviet "
    "communism, is that we shall allow ourselves to become like those with whom we are coping.",
]


def make_hit(text: str, rank: int, doc_id: str = "long-telegram") -> Hit:
    chunk = Chunk(
        id=f"{doc_id}/p{rank}", paragraph_id=f"{doc_id}/p{rank}", doc_id=doc_id, doc_title="The Long Telegram",
        section_id="part-1", section_label="Part 1", section_title="Part 1: Basic Features", label="",
        ordinal=rank, window=1, windows=1, text=text, text_start=0, text_end=len(text), start=0, end=len(text),
        first_page=696, last_page=696, citation=f'Kennan, "Long Telegram", 22 Feb 1946, ¶{rank}, p. 696',
    )
    return Hit(rank=rank, score=1.0 / rank, chunk=chunk, mode="hybrid")


@pytest.fixture(scope="module")
def embedder():
    from cwqa.embedding import get_embedder

    return get_embedder(Settings().model)


class NoEmbedder:
    """For checks that must not need a similarity: verbatim, quote-not-found, uncited, abstention."""

    def encode(self, texts):
        raise AssertionError(f"no similarity should be needed here, yet {texts!r} was encoded")


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


class TableEmbedder:
    """Unit vectors by table: a text listed in `cosines` (compared by its words) has that cosine
    with every other text, which all share one vector. Remembers what it was asked to encode."""

    def __init__(self, cosines: dict[str, float]):
        self.cosines = {_words(text): cosine for text, cosine in cosines.items()}
        self.encoded: list[str] = []

    def encode(self, texts):
        self.encoded.extend(texts)
        rows = []
        for text in texts:
            cosine = self.cosines.get(_words(text), 1.0)
            rows.append([cosine, float(np.sqrt(1.0 - cosine**2))])
        return np.array(rows, dtype=np.float32)


@pytest.fixture(scope="module")
def hits():
    return [make_hit(text, n) for n, text in enumerate(PASSAGES, start=1)]


@pytest.fixture(scope="module")
def extractive(embedder):
    return ExtractiveGenerator(Settings(), embedder=embedder)


class Scripted(Generator):
    """Writes whatever text it was given: lets tests put any answer through verification."""

    def __init__(self, text: str, settings: Settings | None = None):
        super().__init__(settings)
        self.text = text

    def generate(self, question, hits):
        return Answer(question, self.text, list(hits), "scripted")


# ---------------------------------------------------------------------------------------------
# Registry


def test_builtin_generators_are_registered_through_entry_points():
    names = list_generators()
    assert {"extractive", "openai", "local"} <= set(names)
    assert names["extractive"].target == "cwqa.answers.extractive:ExtractiveGenerator"
    assert names["openai"].target == "cwqa.generators.openai:OpenAIGenerator"
    assert names["local"].target == "cwqa.generators.local:LocalGenerator"
    assert names["extractive"].available and names["extractive"].description
    assert isinstance(get_generator("extractive", Settings()), ExtractiveGenerator)


def test_default_generator_comes_from_settings():
    assert get_generator(None, Settings(generator="extractive")).name == "extractive"


def test_unknown_generator_error_lists_the_known_names():
    with pytest.raises(UnknownGeneratorError) as caught:
        get_generator("gpt-17", Settings())
    message = str(caught.value)
    assert isinstance(caught.value, CwqaError)
    assert "gpt-17" in message and "extractive" in message and "openai" in message and "local" in message
    assert "\n" not in message


def _install_plugin(tmp_path, monkeypatch, name: str, target: str, module_source: str | None) -> None:
    """A throwaway installed distribution: a module plus a dist-info with entry_points.txt."""
    site = tmp_path / "site"
    info = site / f"cwqa_plugin_{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: cwqa-plugin-{name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[cwqa.generators]\n{name} = {target}\n")
    if module_source is not None:
        module = target.split(":")[0]
        (site / f"{module}.py").write_text(textwrap.dedent(module_source))
    monkeypatch.syspath_prepend(str(site))


def test_third_party_generator_installed_by_entry_point_is_found_and_used(tmp_path, monkeypatch, hits):
    _install_plugin(tmp_path, monkeypatch, "firstpassage", "cwqa_firstpassage:FirstPassage", """
        from cwqa.answers.model import Answer
        from cwqa.answers.plugins import Generator

        class FirstPassage(Generator):
            '''Quotes the first sentence of the top passage.'''

            def generate(self, question, hits):
                first = hits[0].text.split(". ")[0] + "."
                return Answer(question, f"{first} [1] Made up claim about Truman [9].", list(hits))
        """)
    listed = list_generators()
    assert listed["firstpassage"].description == "Quotes the first sentence of the top passage."
    # A plug-in that declares no options type gets the options table as it is.
    generator = get_generator("firstpassage", Settings(generator_options={"anything": 1}))
    assert generator.options == {"anything": 1}
    answer = generate_answer(generator, "Does the USSR expect peace?", hits, NoEmbedder())
    assert answer.generator == "firstpassage"
    assert answer.invalid_citations == [9] and "[9]" not in answer.text
    assert answer.sentences[0].supported and answer.sentences[0].method == "verbatim"
    assert not answer.sentences[1].supported  # its only marker pointed nowhere: now uncited


def test_a_broken_plugin_is_reported_not_fatal(tmp_path, monkeypatch):
    _install_plugin(tmp_path, monkeypatch, "broken", "cwqa_no_such_module:Nothing", None)
    listed = list_generators()
    assert not listed["broken"].available and "cwqa_no_such_module" in listed["broken"].problem
    assert "unavailable" in str(listed["broken"]) and str(listed["extractive"]) == listed["extractive"].description
    assert listed["extractive"].available
    with pytest.raises(GeneratorError, match="could not be loaded"):
        get_generator("broken", Settings())


# ---------------------------------------------------------------------------------------------
# Typed generator options


def test_built_in_options_are_typed_with_defaults_and_values_from_a_config_file_are_converted():
    assert get_generator("extractive", Settings()).options == ExtractiveOptions()
    # TOML and environment values may arrive as text: "2" is the number 2.
    options = get_generator("extractive", Settings(generator_options={"max_sentences": "2", "abstain_threshold": "0.3"})).options
    assert options == ExtractiveOptions(abstain_threshold=0.3, max_sentences=2)
    assert isinstance(options.max_sentences, int)


def test_a_negative_max_sentences_is_a_one_line_error_naming_option_and_value():
    with pytest.raises(ConfigError) as caught:
        get_generator("extractive", Settings(generator_options={"max_sentences": -1}))
    message = str(caught.value)
    assert "'max_sentences'" in message and "-1" in message and "extractive" in message
    assert "\n" not in message and isinstance(caught.value, CwqaError)


def test_one_options_table_serves_whichever_built_in_generator_is_chosen():
    table = {"max_sentences": 1, "retries": 5, "max_new_tokens": 10}
    assert get_generator("extractive", Settings(generator_options=table)).options.max_sentences == 1
    assert get_generator("openai", Settings(generator_options=table)).options.retries == 5


@pytest.mark.parametrize("name, kind", [("extractive", ExtractiveOptions), ("openai", OpenAIOptions), ("local", LocalOptions)])
def test_an_option_no_generator_knows_is_an_error_listing_the_known_names(name, kind):
    if not list_generators()[name].available:
        pytest.skip(f"generator {name!r} cannot run here: {list_generators()[name].problem}")
    with pytest.raises(ConfigError) as caught:
        get_generator(name, Settings(generator_options={"max_sentence": 2}))  # a typo of max_sentences
    message = str(caught.value)
    assert "'max_sentence'" in message and "\n" not in message
    known = message.split("known: ")[1].rstrip(")").split(", ")
    assert known == sorted(field.name for field in dataclasses.fields(kind))


# ---------------------------------------------------------------------------------------------
# Citation markers and verification


def test_markers_outside_the_passages_are_removed_and_flagged():
    text, invalid = clean_citations("Peace is impossible [7]. Force impresses it [2][0]. Both [1, 9] and [2-3].", 5)
    assert invalid == [7, 0, 9]
    assert text == "Peace is impossible. Force impresses it [2]. Both [1] and [2][3]."


def test_streamed_pieces_never_show_an_invalid_marker_even_split_across_pieces():
    pieces = ["Kennan wrote this [", "7", "] and that [", "2", "]. A list [1", ", 6]", " ends [3"]
    shown = "".join(filter_citation_stream(pieces, 5))
    assert "[7]" not in shown and "6" not in shown
    assert shown == "Kennan wrote this  and that [2]. A list [1] ends [3"  # an unclosed "[3" is just text


def test_markers_belong_to_the_sentence_they_follow():
    sentences = answer_sentences("First claim. [1] Second claim [2]. (a) Third, labelled. [3][1] Fourth: [2] The end.")
    assert [numbers for _text, numbers in sentences] == [[1], [2], [3, 1], [2], []]
    assert sentences[2][0] == "(a) Third, labelled. [3][1]"
    heading = answer_sentences("The Long Telegram / The Chargé in Moscow [1] (c) Where governments stand in path. [2]")
    assert heading == [("The Long Telegram / The Chargé in Moscow [1]", [1]), ("(c) Where governments stand in path. [2]", [2])]


def test_verbatim_sentences_are_supported_and_a_quote_not_in_the_passage_is_not(hits):
    text = (
        "It does not take unnecessary risks. [2] "
        'Kennan said the USSR "will never negotiate with the West" [1]. '
        "Uncited claims are not supported."
    )
    answer = verify_answer(Answer("q", text, hits), NoEmbedder())  # decided without any similarity
    marks = [(s.supported, s.method, s.citations) for s in answer.sentences]
    assert marks == [(True, "verbatim", [2]), (False, "quote-not-found", [1]), (False, "uncited", [])]
    assert not answer.supported


@pytest.mark.slow
def test_a_paraphrase_is_supported_and_an_unrelated_claim_is_not(hits, embedder):
    text = (
        "Soviet power does not follow fixed plans and avoids needless risks [2]. "
        "Kennan argued that the Soviets respond to force rather than reason [2]. "
        "The Marshall Plan gave billions of dollars to rebuild Western Europe [2]. "
        "Kennan said Truman must answer with atomic weapons [2]."
    )
    answer = verify_answer(Answer("q", text, hits), embedder)
    close, loose, unrelated, invented = answer.sentences
    assert close.supported and close.method == "similar" and close.score >= 0.6
    # Loosely worded, but most of its words are in the passage: supported.
    assert loose.supported and 0.45 <= loose.score < 0.6
    assert not unrelated.supported and unrelated.method == "dissimilar" and unrelated.score < 0.45
    assert not invented.supported and invented.score < 0.45


def test_support_needs_a_close_claim_or_a_looser_one_in_the_passages_words(hits):
    in_words = "Soviet power does not work by fixed plans [2]."  # its content words are all in [2]
    other_words = "Truman sent billions of dollars to Europe [2]."
    loose = (SUPPORT_SIMILARITY_WITH_WORDS + SUPPORT_SIMILARITY) / 2
    embedder = TableEmbedder({
        "Soviet power does not work by fixed plans.": loose,
        "Truman sent billions of dollars to Europe.": loose,
    })
    marks = verify_answer(Answer("q", f"{in_words} {other_words}", hits), embedder).sentences
    assert [(s.supported, s.method) for s in marks] == [(True, "similar"), (False, "dissimilar")]
    assert marks[0].score == pytest.approx(loose, abs=1e-6)
    close = TableEmbedder({"Truman sent billions of dollars to Europe.": SUPPORT_SIMILARITY + 0.01})
    assert verify_answer(Answer("q", other_words, hits), close).sentences[0].supported  # close enough alone
    far = TableEmbedder({"Soviet power does not work by fixed plans.": SUPPORT_SIMILARITY_WITH_WORDS - 0.01})
    assert not verify_answer(Answer("q", in_words, hits), far).sentences[0].supported  # its words are not enough


def test_a_passage_cited_by_several_sentences_is_encoded_once(hits):
    embedder = TableEmbedder({})
    text = "Soviet power avoids risks [2]. Soviet power is not schematic [2]. It follows no plans [2]."
    verify_answer(Answer("q", text, hits), embedder)
    assert embedder.encoded.count(PASSAGES[1]) == 1 and len(embedder.encoded) == len(set(embedder.encoded))


def test_attribution_framing_is_ignored_when_comparing_a_claim():
    assert strip_attribution("Kennan wrote that Soviet power is impervious to reason.") == "Soviet power is impervious to reason."
    assert strip_attribution("According to the telegram, it does not work by plans.") == "It does not work by plans."
    assert strip_attribution("Moscow wrote nothing.") == "Moscow wrote nothing."


def test_the_answer_json_carries_marks_citations_and_flags(hits):
    answer = verify_answer(Answer("q", "It does not work by fixed plans. [2] Nonsense [4].", hits, "scripted"), NoEmbedder())
    data = json.loads(json.dumps(answer.to_dict()))
    assert data["invalid_citations"] == [4] and data["verified"] is True and data["supported"] is False
    assert [c["n"] for c in data["citations"]] == [2]
    assert data["citations"][0]["citation"].startswith('Kennan, "Long Telegram"')
    assert data["sentences"][0] == {"text": "It does not work by fixed plans. [2]", "citations": [2], "supported": True, "method": "verbatim", "score": None}
    rendered = answer.render_text().splitlines()
    assert rendered[0] == answer.text == "It does not work by fixed plans. [2] Nonsense."
    assert rendered[1] == "  ! not supported by what it cites (uncited): Nonsense."
    assert rendered[2] == "  ! removed citations of passages that were not given: [4]"


def test_the_abstain_phrase_from_a_model_means_abstention_without_markers(hits):
    answer = verify_answer(answer_from_text("q", f"Sorry. {ABSTAIN_PHRASE} [1]", hits, "model"), NoEmbedder())
    assert answer.abstained and answer.text == ABSTAIN_PHRASE
    assert answer.cited == [] and answer.sentences == [] and answer.verified


# ---------------------------------------------------------------------------------------------
# The extractive generator


def _assert_every_sentence_verbatim_and_cited(answer: Answer) -> None:
    assert answer.verified and answer.sentences
    for sentence in answer.sentences:
        assert sentence.supported and sentence.method == "verbatim", sentence
        assert len(sentence.citations) == 1
        assert 1 <= sentence.citations[0] <= len(answer.hits)
    for marker in re.findall(r"\[(\d+)\]", answer.text):
        assert 1 <= int(marker) <= len(answer.hits)


def test_extractive_answers_with_cited_verbatim_sentences(extractive, hits, embedder):
    answer = generate_answer(extractive, "Is Soviet power sensitive to the logic of force?", hits, embedder)
    assert not answer.abstained, answer.abstain_reason
    _assert_every_sentence_verbatim_and_cited(answer)
    assert "highly sensitive to logic of force. [2]" in answer.text
    assert answer.generator == "extractive" and answer.evidence is not None


def test_max_sentences_bounds_the_extractive_answer(hits, embedder):
    question = "What did Kennan say about capitalist encirclement and the battle of two centers?"
    generator = ExtractiveGenerator(Settings(generator_options={"max_sentences": 1}), embedder=embedder)
    answer = generate_answer(generator, question, hits, embedder)
    _assert_every_sentence_verbatim_and_cited(answer)
    assert len(answer.sentences) == 1


def test_extractive_orders_sentences_as_the_passages_do(extractive, hits, embedder):
    answer = generate_answer(extractive, "What did Kennan say about capitalist encirclement and the battle of two centers?", hits, embedder)
    first, second = answer.sentences[0].text, answer.sentences[1].text
    assert first.startswith("USSR still lives") and second.startswith("Battle between these two centers")


def test_extractive_abstains_when_no_passage_mentions_the_subject(extractive, hits, embedder):
    answer = generate_answer(extractive, "How much money did Congress appropriate for the Marshall Plan?", hits, embedder)
    assert answer.abstained and answer.text == ABSTAIN_PHRASE
    assert "Marshall" in answer.abstain_reason and "threshold" in answer.abstain_reason
    assert answer.cited == [] and answer.sentences == []


def test_no_passages_means_abstention_without_calling_the_generator():
    class Exploding(Generator):
        def generate(self, question, hits):
            raise AssertionError("must not be called")

    answer = generate_answer(Exploding(), "Anything?", [], NoEmbedder())
    assert answer.abstained and answer.abstain_reason == "no passages were retrieved"
    assert answer.text == ABSTAIN_PHRASE and answer.verified


def test_key_terms_count_titles_citations_and_inflections(hits):
    assert missing_key_terms("What did Kennan say about Soviet policy in 1946 and the Long Telegram?", hits) == []
    assert missing_key_terms("What did Truman tell Congress about Greece?", hits) == ["Truman", "Congress", "Greece"]


def test_a_similar_word_is_not_a_mention_of_a_name(hits):
    straits = [make_hit("Soviet base at points of immediate strategic necessity, such as Northern Iran.", 1)]
    assert missing_key_terms("What did the Soviets demand regarding the Straits?", straits) == ["Straits"]
    assert missing_key_terms("Was Communism a threat to Iranian oil?", [make_hit("Communist pressure on Iran.", 1)]) == []


def test_a_when_question_needs_a_date_that_is_not_its_own():
    question = "When did Soviet troops withdraw from northern Iran in 1946?"
    assert unmet_needs(question, ["Efforts are restricted to neighboring points such as Northern Iran, in 1946."]) == ["a date"]
    assert unmet_needs(question, ["Lenin's death wracked Soviet state for 15 years."]) == ["a date"]
    assert unmet_needs(question, ["The troops left Iran in May 1946."]) == []
    assert unmet_needs("In what year did Stalin die?", ["Stalin died in 1953."]) == []
    assert unmet_needs("When should exchanges be accepted?", ["Only when they serve our ends."]) == []


def test_a_how_much_question_needs_an_amount_beyond_document_numbers(hits):
    nsc = [make_hit("The exchanges should be an implementation of policy.", 1, doc_id="nsc-5607")]
    nsc = [Hit(1, 1.0, dataclasses.replace(nsc[0].chunk, doc_title="NSC 5607: East-West Exchanges"), "hybrid")]
    question = "How much funding did the NSC allocate to exchanges in 1956?"
    assert unmet_needs(question, ["NSC 5607 was approved in 1956.", "(1) Exchanges of persons."], nsc) == ["an amount"]
    assert unmet_needs(question, ["Congress voted five million dollars."], nsc) == []


def test_words_the_question_quotes_must_be_in_the_passages(hits):
    assert unmet_needs("What did Kennan argue in his 'X' article?", [], hits) == ['the words "X"']
    assert unmet_needs('Why did Kennan speak of "capitalist encirclement"?', [], hits) == []
    assert unmet_needs("Did Kennan's telegram mention workers' rights?", [], hits) == []  # apostrophes, not quotes


def test_label_fragments_stay_with_their_sentence_verbatim():
    text = "511. Answer to Dept.'s 284, Feb. 3 involves questions so intricate. There follows"
    assert quotable_sentences(text) == ["511. Answer to Dept.'s 284, Feb. 3 involves questions so intricate. There follows"]
    assert quotable_sentences("(c) Democratic elements abroad are to be utilized. It is so.") == [
        "(c) Democratic elements abroad are to be utilized.", "It is so."]


@pytest.mark.slow
def test_an_announcing_sentence_is_followed_by_the_list_it_announces(pipeline):
    question = "What was the basic strategy of the United States toward the Soviet bloc in 1956?"
    answer = pipeline.answer(question, pipeline.search(question, k=5).hits, "extractive")
    _assert_every_sentence_verbatim_and_cited(answer)
    assert "The basic strategy of the United States vis-à-vis the Soviet bloc is:" in answer.text
    assert contains_quote(answer.text, ["To promote within Soviet Russia evolution toward a regime which will abandon predatory policies"])
    assert "National Security Council Report" not in answer.text  # the heading names, it does not answer


@pytest.mark.slow
def test_extractive_on_the_real_corpus_quotes_the_gold_passage_and_abstains_off_topic(pipeline):
    question = "Into which five subjects did Kennan divide his answer?"
    answer = pipeline.answer(question, pipeline.search(question, k=5).hits, "extractive")
    _assert_every_sentence_verbatim_and_cited(answer)
    assert contains_quote(answer.text, ["(1) Basic features of post-war Soviet outlook."])
    question = "What did Churchill say in his Iron Curtain speech at Fulton, Missouri?"
    off_topic = pipeline.answer(question, pipeline.search(question, k=5).hits, "extractive")
    assert off_topic.abstained and "Churchill" in off_topic.abstain_reason


# ---------------------------------------------------------------------------------------------
# Streaming and fallback


def test_streaming_yields_the_answer_and_then_the_verified_answer(extractive, hits, embedder):
    stream = stream_answer(extractive, "Is Soviet power sensitive to the logic of force?", hits, embedder)
    pieces = list(stream)
    assert "".join(pieces) == stream.answer.text and stream.answer.verified


def test_streaming_a_generator_that_cites_a_missing_passage_hides_the_marker(hits):
    class Chatty(Generator):
        def generate(self, question, hits):
            raise AssertionError("streaming must not call generate")

        def stream(self, question, hits):
            yield from ["It does not work by fixed plans. [", "2", "] It plans wars [", "8", "]."]

    stream = stream_answer(Chatty(), "q", hits, NoEmbedder())
    shown = "".join(stream)
    assert "[8]" not in shown and "[2]" in shown
    assert stream.answer.invalid_citations == [8] and stream.answer.sentences[0].supported


class Failing(Generator):
    def generate(self, question, hits):
        raise GeneratorError("openai: cannot reach http://127.0.0.1:9/v1/chat/completions after 3 attempts")


def test_a_failing_generator_raises_unless_a_fallback_is_configured(hits, embedder):
    with pytest.raises(GeneratorError, match="cannot reach"):
        generate_answer(Failing(Settings()), "q", hits, embedder)
    answer = generate_answer(Failing(Settings(generator_options={"fallback": "extractive"})), "Is Soviet power sensitive to the logic of force?", hits, embedder)
    assert answer.generator == "extractive" and "cannot reach" in answer.notice and "extractive" in answer.notice
    _assert_every_sentence_verbatim_and_cited(answer)


# ---------------------------------------------------------------------------------------------
# Prompt passages


def test_prompt_passages_are_numbered_with_citations_and_trimmed_to_the_budget(hits):
    from cwqa.chunking import tiktoken_counter
    from cwqa.text import split_sentences

    count = tiktoken_counter()
    full = format_passages(hits, 10_000, count)
    assert full.startswith('[1] Kennan, "Long Telegram", 22 Feb 1946, ¶1, p. 696\nUSSR still lives')
    assert "[3] Kennan" in full
    first = full.split("\n\n[2]")[0]
    partial = '[2] Kennan, "Long Telegram", 22 Feb 1946, ¶2, p. 696\n' + " ".join(split_sentences(PASSAGES[1])[:2]) + " …"
    budget = count(first) + 1 + count(partial)  # passage 1, then room for two sentences of passage 2
    trimmed = format_passages(hits, budget, count)
    assert trimmed == first + "\n\n" + partial
    assert "[3] " not in trimmed and count(trimmed) <= budget


# ---------------------------------------------------------------------------------------------
# Answer metrics


def test_contains_quote_needs_sixty_percent_as_one_span_ignoring_case_space_and_quote_marks():
    quote = "USSR still lives in antagonistic “capitalist encirclement” with which there can be no coexistence"
    assert contains_quote('... usSR still  lives in antagonistic "capitalist encirclement" with which [1] ...', [quote])
    assert contains_quote(quote[: int(len(quote) * 0.62)], [quote])
    assert not contains_quote(quote[: int(len(quote) * 0.55)], [quote])
    halves = quote[:40] + " and then " + quote[40:]  # split in two spans of under 60% each
    assert not contains_quote(halves, [quote])


def test_answer_metrics_count_quotes_citations_support_and_abstentions():
    gold = "the greatest danger that can befall us in coping with this problem"
    results = {
        "a1": {"text": f"After all, {gold} of Soviet communism. [1]", "abstained": False,
               "citations": [{"chunk_id": "p1", "text": f"After all, {gold}."}, {"chunk_id": "p2", "text": "Other."}],
               "sentences": [{"supported": True, "method": "verbatim"}]},
        "a2": {"text": "Something else [1].", "abstained": False, "citations": [{"chunk_id": "p9", "text": "x"}],
               "sentences": [{"supported": False, "method": "dissimilar"}, {"supported": True, "method": "similar"}]},
        "a3": {"text": ABSTAIN_PHRASE, "abstained": True, "citations": [], "sentences": []},
        "u1": {"text": ABSTAIN_PHRASE, "abstained": True, "citations": [], "sentences": []},
        "u2": {"text": "Made up [1].", "abstained": False, "citations": [{"chunk_id": "p1", "text": "y"}],
               "sentences": [{"supported": False, "method": "dissimilar"}]},
        "not-in-gold": {"text": "ignored", "abstained": True},
    }
    relevant = {"a1": [gold], "a2": ["a quote nowhere in the answer"], "a3": ["q"], "u1": [], "u2": []}
    metrics = answer_metrics(results, relevant)
    assert metrics["answer_contains_quote"] == pytest.approx(1 / 3)
    assert metrics["citation_precision"] == pytest.approx(1 / 3)  # p1 of (p1, p2, p9)
    assert metrics["unsupported_rate"] == pytest.approx(2 / 4)
    assert metrics["verbatim_rate"] == pytest.approx(1 / 4)
    assert metrics["abstain_recall"] == pytest.approx(1 / 2)
    assert metrics["false_abstain_rate"] == pytest.approx(1 / 3)
    by_ids = answer_metrics(results, relevant, relevant_chunks={"a1": ["p2"], "a2": ["p9"]})
    assert by_ids["citation_precision"] == pytest.approx(2 / 3)


def test_answer_metrics_accept_answer_objects_and_report_none_without_questions(hits):
    answer = verify_answer(Answer("q", "It does not take unnecessary risks. [2]", hits), NoEmbedder())
    metrics = answer_metrics({"x": answer}, {"x": ["It does not take unnecessary risks."]})
    assert metrics["answer_contains_quote"] == 1.0 and metrics["citation_precision"] == 1.0
    assert metrics["abstain_recall"] is None
