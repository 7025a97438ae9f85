"""FRUS TEI volumes end to end: same text as the seed, retrieval, filters, incremental indexing.

One real index (real model) is built for the module over a temporary corpus holding the excerpt
of FRUS 1955–57 vol. XXIV (documents 104–108) and the seed NSC 5607 (``004_...txt``), which is
document 104 again as plain text. Having both readings of one document in one index lets the
same question be asked of each (filtered by volume prefix or by document id) and compared.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from cwqa.config import Settings
from cwqa import open_pipeline
from cwqa.corpus import load_corpus
from cwqa.documents import format_citation
from cwqa.errors import QueryError
from cwqa.index import MANIFEST, build_index, load_index
from cwqa.readers.tei import read_volume

ROOT = Path(__file__).resolve().parents[1]
EXCERPT = Path(__file__).parent / "data" / "frus1955-57v24-excerpt.xml"
SEED_STEM = "004_f76ce0a354435b07"
VOLUME = "frus1955-57v24"
D104 = f"{VOLUME}-d104"
URL_D104 = "https://history.state.gov/historicaldocuments/frus1955-57v24/d104"

# NSC questions of eval/questions.jsonl (doc "nsc-5607") that the seed index answers; each
# must be answered by the same numbered paragraph of TEI d104 (found from its quotes below).
QUESTION_IDS = ["nsc-004", "nsc-006", "nsc-012", "nsc-017", "nsc-027", "nsc-029"]
# nsc-027 asks about one of the objectives (¶15, printed on p. 245).
OBJECTIVES_QUESTION = "nsc-027"


# --- helpers ---------------------------------------------------------------------------------


def eval_questions() -> dict[str, dict]:
    lines = (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    return {r["id"]: r for r in records if r.get("doc") == "nsc-5607"}


_LEADING_LABEL = re.compile(r"^(\(\w{1,2}\)|\d{1,2}\.(?:[a-z]\.)?)\s+")
_GLUED_NOTE = re.compile(r"(?<=[A-Za-z)])\d{1,2}(?=[\s,.;:]|$)")  # "(attached)2" -> "(attached)"


def normalise(text: str) -> str:
    """Text for comparison: page markers, glued footnote numbers, a leading label and spacing out."""
    text = re.sub(r"\[Page \d+\]", " ", text)
    text = _GLUED_NOTE.sub("", text)
    text = " ".join(text.split())
    return _LEADING_LABEL.sub("", text)


def body(document):
    return [p for p in document.paragraphs if p.kind == "body"]


def manifest_of(build: Path) -> dict:
    return json.loads((build / MANIFEST).read_text(encoding="utf-8"))


def short(hits) -> list[str]:
    return [hit.chunk_id for hit in hits]


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tei_documents():
    return {document.id: document for document in read_volume(EXCERPT).documents}


@pytest.fixture(scope="module")
def seed_nsc():
    return next(d for d in load_corpus(ROOT / "corpus") if d.id == "nsc-5607")


@pytest.fixture(scope="module")
def frus_settings(tmp_path_factory) -> Settings:
    """A corpus of the excerpt volume plus the NSC 5607 seed, and its index, built once."""
    base = tmp_path_factory.mktemp("frus")
    corpus = base / "corpus"
    corpus.mkdir()
    shutil.copy(EXCERPT, corpus / EXCERPT.name)
    for suffix in (".txt", ".meta.json"):
        shutil.copy(ROOT / "corpus" / f"{SEED_STEM}{suffix}", corpus / f"{SEED_STEM}{suffix}")
    settings = Settings(corpus_dir=corpus, index_dir=base / "index")
    build_index(settings)
    return settings


@pytest.fixture(scope="module")
def frus_retriever(frus_settings):
    return open_pipeline(frus_settings).retriever


# --- (a) the TEI reading and the seed are the same text ----------------------------------------


def test_tei_d104_has_numbered_paragraphs_1_to_17_the_objectives_heading_and_pages_243_to_246(tei_documents):
    d104 = tei_documents[D104]
    paragraphs = body(d104)
    assert [p.label for p in paragraphs] == ["1.", "1.a.", "1.b."] + [f"{n}." for n in range(2, 18)]
    objectives = [p.label for p in paragraphs if p.section_title == "Objectives"]
    assert objectives == [f"{n}." for n in range(11, 16)]
    assert d104.source["pages"] == [243, 246]
    assert (paragraphs[0].first_page, paragraphs[-1].last_page) == (243, 246)
    assert "NSC 5607" in d104.extra["header"]


def test_tei_d104_and_the_seed_match_paragraph_by_paragraph(tei_documents, seed_nsc):
    tei, seed = body(tei_documents[D104]), body(seed_nsc)
    assert len(tei) == len(seed) == 19
    for ours, theirs in zip(tei, seed):
        assert ours.label == theirs.label
        assert ours.section_title == theirs.section_title, ours.label
        assert normalise(ours.text) == normalise(theirs.text), ours.label


def test_every_tei_paragraph_is_in_the_raw_seed_file_once_markers_are_dropped(tei_documents, seed_nsc):
    # Independent of the text parser: the seed file as printed, with "[Page 245]" and the glued
    # footnote number "(attached)2" taken out, holds each TEI paragraph verbatim.
    raw = normalise((ROOT / "corpus" / f"{SEED_STEM}.txt").read_text(encoding="utf-8"))
    for paragraph in body(tei_documents[D104]):
        assert normalise(paragraph.text) in raw, paragraph.label


def test_tei_pages_are_exact_where_the_seed_knows_only_a_range(tei_documents, seed_nsc):
    for ours, theirs in zip(body(tei_documents[D104]), body(seed_nsc)):
        assert theirs.first_page <= ours.first_page <= ours.last_page <= theirs.last_page, ours.label
    first = body(tei_documents[D104])[0]
    assert (first.first_page, first.last_page) == (243, 243)  # the seed says 243–244
    assert format_citation(tei_documents[D104], first) == "FRUS 1955–57, vol. XXIV, doc. 104, ¶1, p. 243"


def test_the_footnote_the_seed_only_marks_is_a_paragraph_of_its_own_in_tei(tei_documents, seed_nsc):
    note = next(p for p in tei_documents[D104].paragraphs if p.kind == "footnote" and p.label == "2")
    assert note.text == "See footnote 4, Document 99."
    assert not any(p.kind == "footnote" for p in seed_nsc.paragraphs)


# --- (a) retrieval answers the same questions, with the richer citation -----------------------


def _answer_label(document_paragraphs, quotes: list[str]) -> str:
    """The label of the paragraph holding a question's first quote."""
    holders = [p for p in document_paragraphs if quotes[0] in p.text]
    assert len(holders) == 1, quotes[0]
    return holders[0].label


@pytest.mark.parametrize("question_id", QUESTION_IDS)
def test_nsc_questions_are_answered_by_the_same_paragraph_in_both_readings(
    frus_retriever, tei_documents, seed_nsc, question_id
):
    record = eval_questions()[question_id]
    label = _answer_label(body(tei_documents[D104]), record["quotes"])
    assert label == _answer_label(body(seed_nsc), record["quotes"])
    on_volume = frus_retriever.search(record["question"], k=3, doc_ids=[VOLUME])
    on_seed = frus_retriever.search(record["question"], k=3, doc_ids=["nsc-5607"])
    assert label in [h.chunk.label for h in on_volume if h.doc_id == D104], short(on_volume)
    assert label in [h.chunk.label for h in on_seed], short(on_seed)
    # Unfiltered, both readings of the paragraph come up.
    everywhere = frus_retriever.search(record["question"], k=5)
    found = {h.doc_id for h in everywhere if h.chunk.label == label}
    assert found == {D104, "nsc-5607"}, short(everywhere)


def test_objectives_question_cites_tei_paragraph_page_and_url(frus_retriever):
    record = eval_questions()[OBJECTIVES_QUESTION]
    hits = frus_retriever.search(record["question"], k=3)
    hit = next(h for h in hits if h.doc_id == D104)
    assert hit.chunk.section_title == "Objectives"
    assert "¶" in hit.citation and "p. 245" in hit.citation
    assert hit.citation == "FRUS 1955–57, vol. XXIV, doc. 104, ¶15, p. 245"
    assert hit.chunk.url == URL_D104 == hit.to_dict()["url"]
    text = EXCERPT.read_text(encoding="utf-8")[hit.chunk.start : hit.chunk.end]
    assert text.startswith("<item>To stimulate nationalism") and text.endswith("</item>")


def test_who_issued_nsc_5607_is_answered_from_the_tei_document(frus_retriever):
    record = eval_questions()["nsc-001"]  # "Which body issued NSC 5607?"
    hits = frus_retriever.search(record["question"], k=3, doc_ids=[VOLUME])
    assert any("National Security Council Report" in h.text and "5607" in h.text for h in hits), short(hits)


# --- (b) filters ---------------------------------------------------------------------------------


def _allowed_docs(retriever, **filters) -> set[str]:
    positions = retriever.allowed_positions(**filters)
    return {retriever.chunks[i].doc_id for i in positions}


def test_volume_prefix_selects_the_volume_and_nothing_else(frus_retriever):
    everything = {c.doc_id for c in frus_retriever.chunks}
    assert everything == {f"{VOLUME}-d{n}" for n in range(104, 109)} | {"nsc-5607"}
    assert _allowed_docs(frus_retriever, doc_ids=[VOLUME]) == everything - {"nsc-5607"}
    hits = frus_retriever.search("East-West exchanges with the Soviet Union", k=20, doc_ids=[VOLUME])
    assert len(hits) == 20 and all(h.doc_id.startswith(VOLUME + "-") for h in hits)


def test_document_id_filter_keeps_one_document(frus_retriever):
    hits = frus_retriever.search("invitation to observe the election campaign", k=5, doc_ids=[f"{VOLUME}-d106"])
    assert hits and {h.doc_id for h in hits} == {f"{VOLUME}-d106"}
    with pytest.raises(QueryError, match="unknown document"):
        frus_retriever.search("anything", doc_ids=[f"{VOLUME}-d999"])


def test_date_filters_use_each_documents_date(frus_retriever):
    # d104 (and the seed) 1956-06-29, d105 1956-07-05, d106 1956-09-18, d108 1956-11-13;
    # d107 is an editorial note without a date, so any date filter leaves it out.
    late = _allowed_docs(frus_retriever, date_from="1956-09-01")
    assert late == {f"{VOLUME}-d106", f"{VOLUME}-d108"}
    early = _allowed_docs(frus_retriever, date_to="1956-07-31")
    assert early == {D104, f"{VOLUME}-d105", "nsc-5607"}
    both = _allowed_docs(frus_retriever, doc_ids=[VOLUME], date_from="1956-07-01", date_to="1956-09")
    assert both == {f"{VOLUME}-d105", f"{VOLUME}-d106"}
    hits = frus_retriever.search("suspension of exchanges after Hungary", k=10, date_from="1956-09-01")
    assert hits and {h.doc_id for h in hits} <= late
    assert hits[0].doc_id == f"{VOLUME}-d108"


# --- footnotes -----------------------------------------------------------------------------------


def test_every_footnote_is_indexed_as_its_own_passage(frus_retriever, tei_documents):
    notes = {p.id for d in tei_documents.values() for p in d.paragraphs if p.kind == "footnote"}
    assert len(notes) == 2 + 3 + 4 + 0 + 4
    indexed = {c.paragraph_id for c in frus_retriever.chunks if c.kind == "footnote"}
    assert indexed == notes


@pytest.mark.parametrize(
    "question, chunk_id, citation",
    [
        ("telegram 1126 visas for Soviet specialists", f"{VOLUME}-d108/fn-3",
         "FRUS 1955–57, vol. XXIV, doc. 108, n. 3, p. 254"),
        ("Who was William McCormick Blair?", f"{VOLUME}-d106/fn-4",
         "FRUS 1955–57, vol. XXIV, doc. 106, n. 4, p. 252"),
    ],
)
def test_footnotes_are_retrieved_and_cited_as_notes(frus_retriever, question, chunk_id, citation):
    hit = frus_retriever.search(question, k=3)[0]
    assert (hit.chunk_id, hit.chunk.kind, hit.citation) == (chunk_id, "footnote", citation)
    assert re.search(r", n\. \d+, p\. \d+$", hit.citation)


# --- (c) incremental indexing, measured ------------------------------------------------------------


OLD_SENTENCE = "The conversation ended at ten o’clock."
NEW_SENTENCE = "The conversation ended at a quarter past ten."


def test_editing_one_paragraph_re_embeds_only_it_and_removing_a_file_drops_its_passages(tmp_path, frus_settings):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(frus_settings.corpus_dir, corpus)
    shutil.copytree(frus_settings.index_dir, index)
    settings = frus_settings.replace(corpus_dir=corpus, index_dir=index)
    before = load_index(settings)
    total = before.manifest["chunks"] + before.manifest["sentences"]

    # Edit the last sentence of one paragraph of d106 (4 sentences, one passage, a footnote).
    volume = corpus / EXCERPT.name
    text = volume.read_text(encoding="utf-8")
    assert text.count(OLD_SENTENCE) == 1
    volume.write_text(text.replace(OLD_SENTENCE, NEW_SENTENCE), encoding="utf-8")
    edited = manifest_of(build_index(settings))
    # Exactly two new vectors: the paragraph's passage and the one changed sentence. Every other
    # passage and sentence, including those of d106 whose offsets in the file moved, is reused.
    assert (edited["embedded"], edited["reused"]) == (2, total - 2)
    assert (edited["chunks"], edited["sentences"]) == (before.manifest["chunks"], before.manifest["sentences"])
    after = load_index(settings)
    changed = [c for c in after.chunks if NEW_SENTENCE in c.text]
    assert [c.paragraph_id for c in changed] == [f"{VOLUME}-d106/body/p4"]
    assert not any(OLD_SENTENCE in c.text for c in after.chunks)

    # Remove the seed's files: its passages go, nothing needs embedding.
    for suffix in (".txt", ".meta.json"):
        (corpus / f"{SEED_STEM}{suffix}").unlink()
    removed = manifest_of(build_index(settings))
    seed_chunks = [c for c in after.chunks if c.doc_id == "nsc-5607"]
    assert seed_chunks
    assert removed["embedded"] == 0
    assert removed["chunks"] == edited["chunks"] - len(seed_chunks)
    assert removed["reused"] == removed["chunks"] + removed["sentences"]
    assert removed["documents"] == 5 and f"{SEED_STEM}.txt" not in removed["corpus"]
    assert not any(c.doc_id == "nsc-5607" for c in load_index(settings).chunks)


def test_facets_narrow_a_search_to_the_documents_whose_metadata_match(frus_retriever):
    hits = frus_retriever.search("exchanges with the Soviet bloc", k=10, facets={"classification": "secret"})
    assert hits and {h.doc_id for h in hits} <= {f"{VOLUME}-d105", f"{VOLUME}-d106"}
    sent = frus_retriever.search("exchanges", k=5, facets={"sender": "Department of State", "recipient": "Embassy"})
    assert sent and {h.doc_id for h in sent} == {f"{VOLUME}-d108"}
    numbered = frus_retriever.search("exchanges", k=5, facets={"doc_number": "104", "volume": VOLUME})
    assert numbered and {h.doc_id for h in numbered} == {f"{VOLUME}-d104"}


def test_a_facet_value_no_document_has_is_an_error_naming_close_values(frus_retriever):
    with pytest.raises(QueryError, match=r"no document has place 'Washingtn' \(close: Washington\)"):
        frus_retriever.search("exchanges", facets={"place": "Washingtn"})
    with pytest.raises(QueryError, match="unknown facet 'colour'"):
        frus_retriever.search("exchanges", facets={"colour": "red"})
