"""Passages: whole paragraphs, or sentence windows that tile them; budgets in both tokenizers."""

from __future__ import annotations

from hypothesis import given, settings as hypothesis_settings, strategies as st

import pytest

from cwqa.chunking import chunk_documents, label_style, list_lead_ins, tiktoken_counter, window_spans
from cwqa.embedding import get_embedder
from cwqa.text import sentence_spans

WORDS = st.sampled_from(["Soviet", "power", "is", "impervious", "to", "logic", "of", "reason", "Kennan", "U.S.", "Dept.",
                         "(a)", "capitalist", "encirclement", "Mr.", "1946", "—", "«quote»", "e.g."])
TEXT = st.lists(st.tuples(WORDS, st.sampled_from([" ", " ", " ", ". ", "? ", "! ", "\n", ".\n\n", ", "])), max_size=300).map(
    lambda pairs: "".join(word + gap for word, gap in pairs)
)
COUNT_WORDS = lambda text: len(text.split())  # noqa: E731  (a simple, exact counter for properties)


@given(TEXT)
def test_sentence_spans_tile_the_text(text):
    spans = sentence_spans(text)
    assert "".join(text[a:b] for a, b in spans) == text
    assert all(a < b for a, b in spans) or text == ""


@hypothesis_settings(max_examples=150, deadline=None)
@given(TEXT, st.integers(min_value=3, max_value=60))
def test_windows_lose_nothing_keep_order_and_keep_the_budget(text, budget):
    spans = window_spans(text, budget, COUNT_WORDS)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert end == start  # consecutive: no gap, no overlap, same order
    for start, end in spans:
        words = COUNT_WORDS(text[start:end])
        # A window over budget can only be a single word that cannot be split further.
        assert words <= budget or words == 1


@hypothesis_settings(max_examples=50, deadline=None)
@given(TEXT)
def test_windows_keep_the_tiktoken_budget(text):
    count = tiktoken_counter()
    for start, end in window_spans(text, 40, count):
        assert count(text[start:end]) <= 40 or len(text[start:end].split()) == 1


def test_long_paragraph_splits_at_sentences_into_windows_that_cite_it(documents):
    chunks = chunk_documents(documents.values(), budget=160)
    windows = [c for c in chunks if c.paragraph_id == "long-telegram/part-2/p7"]
    assert len(windows) > 1
    assert [c.id for c in windows][:2] == ["long-telegram/part-2/p7", "long-telegram/part-2/p7#2"]
    assert len({c.citation for c in windows}) == 1
    for window in windows:
        assert window.text[-1] in '.?!:"' or window is windows[-1]  # ends at a sentence end


def test_chunks_cover_every_paragraph_text(documents):
    chunks = chunk_documents(documents.values(), budget=100)
    for document in documents.values():
        for paragraph in document.paragraphs:
            parts = [c for c in chunks if c.paragraph_id == paragraph.id]
            rebuilt = "".join(paragraph.text[c.text_start : c.text_end] + " " for c in parts)
            assert " ".join(rebuilt.split()) == " ".join(paragraph.text.split()), paragraph.id
            for chunk in parts:
                assert paragraph.text[chunk.text_start : chunk.text_end] == chunk.text


@pytest.mark.model
def test_no_passage_exceeds_the_models_window_in_its_own_tokenizer(documents):
    embedder = get_embedder("sentence-transformers/all-MiniLM-L6-v2")
    assert embedder.max_tokens == 256
    fits = lambda text: embedder.count_tokens(text) <= embedder.max_tokens  # noqa: E731
    # A budget far above the model's window must still give passages the model reads whole.
    chunks = chunk_documents(documents.values(), budget=1000, fits_model=fits)
    assert max(embedder.count_tokens(c.context_text()) for c in chunks) <= 256
    assert any(c.window > 1 for c in chunks)


def test_chunk_ids_are_unique_and_stable(documents):
    first = [c.id for c in chunk_documents(documents.values(), budget=160)]
    again = [c.id for c in chunk_documents(documents.values(), budget=160)]
    assert first == again and len(first) == len(set(first))
    assert "long-telegram/part-3/b" in first and "nsc-5607/objectives/11" in first


def test_list_items_carry_the_sentence_that_announces_the_list(documents):
    telegram = documents["long-telegram"]
    leads = dict(zip((p.id for p in telegram.paragraphs), list_lead_ins(telegram.paragraphs, tiktoken_counter())))
    assert leads["long-telegram/part-3/b"] == "On official plane we must look for following:"
    assert leads["long-telegram/part-4/a"].endswith("as follows:")  # opened inside item 7
    assert leads["long-telegram/part-4/7"].startswith("Agencies utilized")
    assert leads["long-telegram/part-2/p2"] == ""
    nsc = documents["nsc-5607"]
    nsc_leads = dict(zip((p.label for p in nsc.paragraphs), list_lead_ins(nsc.paragraphs, tiktoken_counter())))
    assert nsc_leads["1.a."].startswith("The basic strategy") and nsc_leads["2."] == ""


def test_every_printed_label_of_the_seeds_is_named_by_its_numbering_scheme(documents):
    # Later items of a list share the first item's scheme: "(h)" is an "(a)" list, "17." a "1." one.
    assert [label_style(x) for x in ["(h)", "(12)", "17.", "1.b.", "c.", ""]] == ["(a)", "(1)", "1.", "1.a.", "a.", ""]
    labels = {p.label for d in documents.values() for p in d.paragraphs if p.label}
    assert {label_style(label) for label in labels} <= {"(a)", "(1)", "1.", "1.a."}
