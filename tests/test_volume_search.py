"""A whole plain-text FRUS volume is searchable: sentences of its body are found where they are.

Builds the product's lexical index (its chunking and BM25 analyzer) over vol. V, without the
embedding model, and checks what a user checks: a sentence copied from the printed text comes back
in the first ten passages, from the right document, with its citation.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import bm25s
import pytest

from cwqa.chunking import chunk_documents
from cwqa.fusion import top_k
from cwqa.lexical import bm25_tokenize
from cwqa.readers.frus_text import read_text_volume
from cwqa.text import split_sentences

VOLUME = Path(__file__).parent / "data" / "frus1961-63v05.txt"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def indexed():
    reading = read_text_volume(VOLUME, VOLUME.read_text(encoding="utf-8"), None)
    chunks = chunk_documents(reading.documents, budget=160)
    engine = bm25s.BM25()
    engine.index(bm25_tokenize([chunk.context_text() for chunk in chunks]), show_progress=False)
    return reading, chunks, engine


def _search(engine, chunks, text: str, k: int = 10):
    known = [token for token in bm25_tokenize([text])[0] if token in engine.vocab_dict]
    if not known:
        return []
    return [chunks[position] for position, score in top_k(engine.get_scores(known), k) if score > 0]


def test_200_sentences_sampled_from_the_body_are_found_in_the_top_10(indexed):
    reading, chunks, engine = indexed
    body = [c for c in chunks if c.kind == "body"]
    sentences = [(c, s) for c in body for s in split_sentences(c.text) if 8 <= len(s.split()) <= 60]
    sample = random.Random(1961).sample(sentences, 200)
    found = 0
    for chunk, sentence in sample:
        found += chunk.id in {hit.id for hit in _search(engine, chunks, sentence)}
    assert found / len(sample) >= 0.98, f"{found} of {len(sample)} sampled sentences found in the top 10"


def test_a_passage_of_doc_41_is_cited_with_its_document_and_pages(indexed):
    _reading, chunks, engine = indexed
    hits = [c for c in _search(engine, chunks, "Khrushchev Thompson Novosibirsk", k=50) if c.doc_id.endswith("-d41")]
    assert hits, "no passage of doc. 41 among the first 50 for its own subject"
    assert re.search(r"pp\. 92–93 — FRUS 1961–63, vol\. V, doc\. 41$", hits[0].citation)


def test_the_volume_is_390_documents_numbered_in_order_with_nothing_lost(indexed):
    reading, chunks, _engine = indexed
    numbers = [document.source["document"] for document in reading.documents]
    assert numbers == list(range(1, 391))
    assert reading.coverage.kept_share >= 0.99 and reading.coverage.lost_words == 0
    assert reading.coverage.skipped  # the back-of-book index, reported, not silently dropped


def test_a_chronology_of_moscow_documents_of_march_1961_is_in_date_order(indexed):
    from cwqa.pipeline import filter_documents

    reading, _chunks, _engine = indexed
    march = filter_documents(reading.documents, "1961-03-01", "1961-03-31", {"place": "Moscow"})
    assert march and all(d.place == "Moscow" and d.date.startswith("1961-03") for d in march)
    assert [d.source["document"] for d in march][:1] == [41]
    everything = filter_documents(reading.documents, "1961-03-01", "1961-03-31")
    assert len(everything) > len(march)  # Washington's documents of that month are left out


def test_each_document_of_the_volume_carries_its_facets(indexed):
    from cwqa.documents import facet_fields

    reading, _chunks, _engine = indexed
    doc41 = next(d for d in reading.documents if d.source["document"] == 41)
    facets = facet_fields(doc41)
    assert facets["place"] == "Moscow" and facets["doc_number"] == "41"
    assert facets["sender"] == "Embassy in the Soviet Union" and facets["recipient"] == "Department of State"
    assert "frus1961-63v05" in facets["volume"] and facets["classification"]
