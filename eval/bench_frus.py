"""FRUS at scale: parse, chunk and index a synthetic TEI volume; print numbers, assert nothing.

    .venv/bin/python eval/bench_frus.py                      # 1,000 documents, full index build
    .venv/bin/python eval/bench_frus.py --documents 200      # a quicker check
    .venv/bin/python eval/bench_frus.py --no-embed           # parse and chunk only (no model)

The volume is generated, not copied: documents follow the scheme of a real FRUS TEI volume
(tests/data/frus1955-57v24-excerpt.xml, shared/frus/README.md) — a teiHeader with titles and
``idno[@type="frus"]``; compilation and chapter divs; ``div[@type="document"]`` with ``@n``,
``@xml:id``, ``@subtype`` and ``@frus:doc-dateTime-min/max``; a ``head`` holding the source note
``note[@type="source"]``; a ``dateline`` with ``placeName`` and ``date[@when]``; memoranda,
telegrams and editorial notes made of ``p``; NSC-style papers with ``p[@rend="center"]``
headings and ``list/label/item`` numbered paragraphs (some with lettered sub-lists); ``pb``
page breaks that fall between paragraphs and mid-sentence; footnotes ``note[@n]`` inside
paragraphs; SUBJECT lists and ``closer/signed``. Its text is random words drawn, by their
frequency, from the words of the bundled corpus and the excerpt (so the model's tokenizer sees
English-like word pieces), cut into sentences of 8 to 40 words. Sizes per document (paragraphs,
words, footnotes) are drawn to resemble the excerpt's; the printout compares the two.

Stages and what is measured:
  generate   the volume file, its size
  parse      `cwqa.readers.tei.read_volume`: seconds, documents/s, MB/s, peak and retained memory
  chunk      `chunk_documents` (tiktoken budgets) and sentence splitting: seconds, passages
  build      `cwqa.pipeline.build` over a temporary corpus holding the volume: total seconds,
             split into before embedding (parse, chunk, token checks), embedding (passages and
             sentences together, texts/s, from the progress callback: they are encoded shortest
             first across the build, so no separate rate) and after (FAISS, BM25, checksums)
  re-index   one paragraph of one document changed, `cwqa.pipeline.build` again: seconds, embedded vs reused
Peak memory is getrusage's ru_maxrss of this process after each stage. Then the rates are
extrapolated linearly to one real volume (~4 MB) and to the whole series (~700 volumes, ~2.8 GB,
~200,000 documents, 1-2 million passages) on this machine. The machine's load average is
printed too: other processes sharing the CPU slow every rate down.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import re
import resource
import sys
import tempfile
import tracemalloc
import time
from collections import Counter
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")

EXCERPT = ROOT / "tests" / "data" / "frus1955-57v24-excerpt.xml"
VOLUME_ID = "frus1955-57v99"  # a volume number no real volume has
REAL_VOLUME_MB = 4.0
SERIES_VOLUMES = 700
SERIES_DOCUMENTS = 200_000
SERIES_PASSAGES = (1_000_000, 2_000_000)
DIMENSION = 384

PLACES = ["Washington", "Moscow", "London", "Paris", "Bonn", "Warsaw", "Prague", "Budapest", "Geneva", "Belgrade"]
TITLES = [
    "Memorandum of a Conversation", "Telegram From the Department of State to the Embassy in the Soviet Union",
    "Telegram From the Embassy in the Soviet Union to the Department of State", "Letter From the Secretary of State "
    "to the President", "Memorandum From the Director of the Policy Planning Staff to the Secretary of State",
    "Despatch From the Embassy in Poland to the Department of State", "Memorandum for the Record",
]
HEADINGS = ["General Considerations", "Policy Conclusions", "Objectives", "Courses of Action", "Background",
            "Discussion", "Recommendations", "Summary", "Conclusions"]


# ---------------------------------------------------------------------------------------------
# Measuring


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Current resident memory of this process, in MB."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def cpu_s() -> float:
    """CPU seconds this process has used, all threads, user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def object_mb(objects) -> float:
    """Memory of dataclass objects and the values they hold (each object counted once), in MB."""
    seen, total = set(), 0
    for item in objects:
        for value in (item, *vars(item).values()):
            if id(value) not in seen:
                seen.add(id(value))
                total += sys.getsizeof(value)
    return total / 2**20


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def duration(seconds: float) -> str:
    """'42 s', '12.5 min', '3.4 h', '2.1 days'."""
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def memory(mb: float) -> str:
    return f"{mb / 1024:.1f} GB" if mb >= 1024 else f"{mb:.0f} MB"


def row(label: str, value: str) -> None:
    print(f"  {label:<44} {value}")


# ---------------------------------------------------------------------------------------------
# The synthetic volume


class TextMaker:
    """Random English-looking text: words drawn by their frequency in the bundled documents."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        sources = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.txt"))]
        excerpt = re.sub(r"<[^>]+>", " ", EXCERPT.read_text(encoding="utf-8"))
        counts = Counter(w for text in sources + [excerpt] for w in re.findall(r"[A-Za-z][a-z]+", text))
        self.words = list(counts)
        self.weights = [counts[w] for w in self.words]
        self.names = sorted({w for w in self.words if w[0].isupper() and len(w) > 3})

    def words_(self, n: int) -> list[str]:
        return self.rng.choices(self.words, self.weights, k=n)

    def sentence(self, low: int = 8, high: int = 40) -> str:
        words = self.words_(self.rng.randint(low, high))
        if len(words) > 10 and self.rng.random() < 0.5:
            words[self.rng.randrange(3, len(words) - 3)] += ","
        words[0] = words[0][:1].upper() + words[0][1:]
        return " ".join(words) + "."

    def text(self, words: int) -> str:
        out, count = [], 0
        while count < words:
            sentence = self.sentence()
            out.append(sentence)
            count += sentence.count(" ") + 1
        return " ".join(out)

    def name(self) -> str:
        return self.rng.choice(self.names)


class VolumeWriter:
    """Writes the documents of one volume, placing page breaks as a printed page fills up."""

    WORDS_PER_PAGE = 420

    def __init__(self, maker: TextMaker, seed: int):
        self.maker = maker
        self.rng = random.Random(seed + 1)
        self.page = 1
        self.on_page = 0
        self.note = 0
        self.paragraphs = 0
        self.footnotes = 0

    def pb(self) -> str:
        self.page += 1
        self.on_page = 0
        return f'<pb n="{self.page}" xml:id="pg_{self.page}" facs="{self.page + 30:04d}"/>'

    def flow(self, text: str, footnotes: int = 0) -> str:
        """Escaped text with footnotes after random words and a page break wherever the page fills."""
        words = text.split(" ")
        out = []
        note_at = set(self.rng.sample(range(len(words)), min(int(footnotes), len(words))))
        for i, word in enumerate(words):
            if word[:1].isupper() and i and not words[i - 1].endswith(".") and self.rng.random() < 0.5:
                # A name, marked up as the real volumes do (and as long in bytes).
                out.append(f'<persName corresp="#p_{word[:3].upper()}{len(word)}">{escape(word)}</persName>')
            else:
                out.append(escape(word))
            if i % 11 == 10:  # the real files are pretty-printed: short lines, deep indentation
                out[-1] += "\n" + " " * 28
            self.on_page += 1
            if i in note_at:
                out[-1] += self.footnote()
            if self.on_page >= self.WORDS_PER_PAGE and i < len(words) - 1:
                out.append(self.pb())  # mid-paragraph, often mid-sentence, as in print
        return " ".join(out)

    def footnote(self, source: bool = False) -> str:
        self.note += 1
        self.footnotes += 1
        words = self.rng.randint(30, 120) if source else self.rng.randint(8, 60)
        text = self.maker.text(words)
        if source:
            text = f"Source: Department of State, Central Files, {self.rng.randint(100, 999)}.{self.rng.randint(10, 99)}. " + text
        kind = ' type="source"' if source else ""
        return f'<note n="{self.note}" xml:id="{self.xml_id}fn{self.note}"{kind}>{escape(text)}</note>'

    def p(self, words: int, footnotes: int = 0) -> str:
        self.paragraphs += 1
        return f"<p>{self.flow(self.maker.text(words), footnotes)}</p>"

    def document(self, n: int, day: str, editorial: bool) -> str:
        self.xml_id, self.note = f"d{n}", 0
        rng, maker = self.rng, self.maker
        subtype = "editorial-note" if editorial else "historical-document"
        low, high = ("1955-01-05T00:00:00-05:00", "1957-12-21T23:59:59-05:00") if editorial else (
            f"{day}T00:00:00-05:00", f"{day}T23:59:59-05:00")
        parts = []
        if self.on_page > self.WORDS_PER_PAGE * 0.6:  # a document often starts on a new page
            parts.append(self.pb())
        parts.append(f'<div type="document" xml:id="d{n}" n="{n}" subtype="{subtype}" '
                     f'frus:doc-dateTime-min="{low}" frus:doc-dateTime-max="{high}">')
        if editorial:
            parts.append(f"<head>{n}. Editorial Note</head>")
            parts += [self.p(rng.randint(60, 160), rng.random() < 0.2) for _ in range(rng.randint(2, 5))]
        else:
            kind = rng.random()
            title = "National Security Council Report" if kind < 0.15 else rng.choice(TITLES)
            parts.append(f"<head>{n}. {escape(title)}{self.footnote(source=True)}</head>")
            parts.append(f'<dateline><placeName><hi rend="italic">{rng.choice(PLACES)}</hi></placeName>, '
                         f'<date when="{day}" calendar="gregorian"><hi rend="italic">{day}</hi></date>.</dateline>')
            if kind < 0.15:
                parts += self.numbered_paper()
            else:
                if rng.random() < 0.4:
                    parts.append(f'<list type="subject"><head>SUBJECT</head><item>{escape(maker.sentence(4, 10))}</item></list>')
                for i in range(rng.randint(3, 10)):
                    if i and rng.random() < 0.08:
                        parts.append(f'<p rend="flushleft"><hi rend="italic">{rng.choice(HEADINGS)}</hi></p>')
                    parts.append(self.p(rng.randint(25, 150), rng.random() < 0.35))
                parts.append(f"<closer><signed><hi rend=\"strong\">{maker.name()}</hi></signed></closer>")
        parts.append("</div>")
        return "\n".join(parts)

    def numbered_paper(self) -> list[str]:
        rng = self.rng
        parts = [f'<p rend="flushleft">NSC {rng.randint(5500, 5799)}</p>',
                 f'<p rend="center">STATEMENT OF POLICY ON {escape(" ".join(self.maker.words_(4)).upper())}</p>']
        number = 0
        for heading in rng.sample(HEADINGS, rng.randint(2, 4)):
            parts.append(f'<p rend="center">{heading}</p>')
            items = ["<list>"]
            for _ in range(rng.randint(3, 7)):
                number += 1
                self.paragraphs += 1
                items.append(f"<label>{number}.</label>")
                if rng.random() >= 0.15:
                    body = self.flow(self.maker.text(rng.randint(30, 110)), rng.random() < 0.15)
                else:  # a lettered sub-list inside the item
                    body = self.flow(self.maker.sentence()[:-1] + ":") + " <list>"
                    for letter in "abc"[: rng.randint(2, 3)]:
                        self.paragraphs += 1
                        body += f"<label>{letter}.</label><item>{self.flow(self.maker.text(rng.randint(20, 60)))}</item>"
                    body += "</list>"
                items.append(f"<item>{body}</item>")
            items.append("</list>")
            parts += items
        return parts


def generate_volume(documents: int, seed: int) -> tuple[str, dict]:
    """The TEI text of a volume of `documents` documents, and what was put in it."""
    maker = TextMaker(seed)
    writer = VolumeWriter(maker, seed)
    rng = writer.rng
    start = time.mktime((1955, 1, 5, 12, 0, 0, 0, 0, -1))
    span = time.mktime((1957, 12, 20, 12, 0, 0, 0, 0, -1)) - start
    days = sorted(time.strftime("%Y-%m-%d", time.localtime(start + rng.random() * span)) for _ in range(documents))
    header = f"""<?xml version="1.0" encoding="UTF-8"?>
<TEI xmlns="http://www.tei-c.org/ns/1.0" xmlns:frus="http://history.state.gov/frus/ns/1.0" xml:id="{VOLUME_ID}">
    <teiHeader>
        <fileDesc>
            <titleStmt>
                <title type="complete">Foreign Relations of the United States, 1955–1957, Synthetic Volume, Volume XCIX</title>
                <title type="series">Foreign Relations of the United States</title>
                <title type="sub-series">1955–1957</title>
                <title type="volume-number">Volume XCIX</title>
                <title type="volume">Synthetic Volume</title>
            </titleStmt>
            <publicationStmt>
                <publisher>cwqa eval/bench_frus.py (generated text)</publisher>
                <idno type="frus">{VOLUME_ID}</idno>
            </publicationStmt>
            <sourceDesc><p>Generated for benchmarking</p></sourceDesc>
        </fileDesc>
    </teiHeader>
    <text>
        <body>
            {writer.pb()}
"""
    parts = [header]
    chapter_size = 40
    for n in range(1, documents + 1):
        if n % chapter_size == 1:
            if n > 1:
                parts.append("</div>\n</div>\n")
            parts.append(f'<div type="compilation" xml:id="comp{n // chapter_size + 1}"><head>{escape(maker.sentence(3, 6)[:-1])}</head>\n'
                         f'<div type="chapter" xml:id="ch{n // chapter_size + 1}"><head>{escape(maker.sentence(5, 12)[:-1])}</head>\n')
        parts.append(writer.document(n, days[n - 1], editorial=rng.random() < 0.1) + "\n")
    parts.append("</div>\n</div>\n</body>\n</text>\n</TEI>\n")
    return "".join(parts), {"paragraphs": writer.paragraphs, "footnotes": writer.footnotes, "pages": writer.page}


# ---------------------------------------------------------------------------------------------
# The stages


def document_stats(documents) -> dict:
    body = sum(1 for d in documents for p in d.paragraphs if p.kind == "body")
    notes = sum(1 for d in documents for p in d.paragraphs if p.kind == "footnote")
    words = sum(len(p.text.split()) for d in documents for p in d.paragraphs)
    return {"documents": len(documents), "body": body, "footnotes": notes, "words": words}


def describe_stats(label: str, stats: dict, megabytes: float, chunks: int, sentences: int) -> None:
    n = stats["documents"]
    row(label, f"{stats['body'] / n:.1f} paragraphs, {stats['footnotes'] / n:.1f} footnotes, "
               f"{stats['words'] / n:.0f} words, {megabytes * 1024 / n:.1f} KB, "
               f"{chunks / n:.1f} passages, {sentences / n:.1f} sentences per document")


def chunk_and_split(documents, chunk_tokens: int):
    from cwqa.chunking import chunk_documents, tiktoken_counter
    from cwqa.index import sentence_texts

    tiktoken_counter()("warm up")  # load the encoding outside the timing
    started = time.perf_counter()
    chunks = chunk_documents(documents, chunk_tokens)
    chunk_s = time.perf_counter() - started
    started = time.perf_counter()
    sentences = sum(len(sentence_texts(chunk)) for chunk in chunks)
    return chunks, sentences, chunk_s, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=1000, help="documents in the synthetic volume (default 1000)")
    parser.add_argument("--embed", action=argparse.BooleanOptionalAction, default=True,
                        help="build the real index (model, FAISS, BM25); --no-embed parses and chunks only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="write the corpus and index here and keep them")
    args = parser.parse_args(argv)

    from cwqa.config import Settings
    from cwqa.readers.tei import read_volume

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench-frus-"))
    corpus = workdir / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    settings = Settings(corpus_dir=corpus, index_dir=workdir / "index")
    print(f"FRUS benchmark: {args.documents} synthetic documents, embed={args.embed}, "
          f"{os.cpu_count()} CPUs, load average {load()}")

    # -- generate ---------------------------------------------------------------------------------
    started = time.perf_counter()
    xml, made = generate_volume(args.documents, args.seed)
    path = corpus / f"{VOLUME_ID}.xml"
    path.write_text(xml, encoding="utf-8")
    megabytes = path.stat().st_size / 2**20
    del xml
    print("\ngenerate")
    row("file", f"{path.name}: {megabytes:.2f} MB, {made['pages']} printed pages")
    row("written", f"{made['paragraphs']} paragraphs, {made['footnotes']} footnotes "
                   f"in {time.perf_counter() - started:.1f} s")

    # -- parse ------------------------------------------------------------------------------------
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    documents = read_volume(path).documents
    parse_s = time.perf_counter() - started
    parse_peak = peak_rss_mb()
    stats = document_stats(documents)
    # Memory once more under tracemalloc (slower, so untimed): the Python objects at the peak of
    # the parse (element tree and spans) and those still held by the documents afterwards.
    del documents
    gc.collect()
    tracemalloc.start()
    documents = read_volume(path).documents
    gc.collect()
    kept_mb, traced_peak_mb = (x / 2**20 for x in tracemalloc.get_traced_memory())
    tracemalloc.stop()
    print("\nparse (cwqa.readers.tei.read_volume)")
    row("time", f"{parse_s:.2f} s")
    row("throughput", f"{stats['documents'] / parse_s:,.0f} documents/s, {megabytes / parse_s:.2f} MB/s")
    same = (stats["body"], stats["footnotes"]) == (made["paragraphs"], made["footnotes"])
    row("read back", f"{stats['documents']} documents, {stats['body']} paragraphs, {stats['footnotes']} footnotes "
                     f"({'as written' if same else 'DIFFERS from what was written'})")
    row("memory", f"process peak {parse_peak:.0f} MB (from {before:.0f} MB); Python objects: peak "
                  f"{traced_peak_mb:.0f} MB = {traced_peak_mb / megabytes:.1f}x the file, kept by the documents "
                  f"{kept_mb:.1f} MB = {kept_mb * 1024 / stats['documents']:.0f} KB per document")

    # -- chunk ------------------------------------------------------------------------------------
    chunks, sentences, chunk_s, split_s = chunk_and_split(documents, settings.chunk_tokens)
    print(f"\nchunk (chunk_documents, {settings.chunk_tokens} tiktoken tokens; sentence split)")
    row("time", f"{chunk_s:.2f} s chunking ({len(chunks) / chunk_s:,.0f} passages/s), {split_s:.2f} s sentence split")
    row("passages", f"{len(chunks):,} passages, {sentences:,} sentences "
                    f"({len(chunks) / megabytes:,.0f} passages per MB of XML)")
    excerpt_docs = read_volume(EXCERPT).documents
    excerpt_chunks, excerpt_sentences, _, _ = chunk_and_split(excerpt_docs, settings.chunk_tokens)
    describe_stats("synthetic", stats, megabytes, len(chunks), sentences)
    excerpt_mb = len(re.search(r"<div type=\"document\".*</div>", EXCERPT.read_text("utf-8"), re.S).group(0).encode()) / 2**20
    describe_stats("real excerpt (docs 104-108)", document_stats(excerpt_docs), excerpt_mb,
                   len(excerpt_chunks), excerpt_sentences)
    passages_per_document, sentences_per_passage = len(chunks) / stats["documents"], sentences / len(chunks)
    chunk_kb = object_mb(chunks) * 1024 / len(chunks)
    row("memory", f"passages held: {chunk_kb:.1f} KB per passage")
    chunk_per_passage = (chunk_s + split_s) / len(chunks)
    del documents, chunks
    gc.collect()

    build = None
    if args.embed:
        build = measure_build(settings, path)

    extrapolate(
        measured_documents=stats["documents"],
        megabytes=megabytes,
        parse_s=parse_s,
        parse_peak_per_mb=traced_peak_mb / megabytes,
        chunk_kb=chunk_kb,
        kept_per_document=kept_mb / stats["documents"],
        passages_per_document=passages_per_document,
        sentences_per_passage=sentences_per_passage,
        chunk_per_passage=chunk_per_passage,
        build=build,
    )
    print(f"\nload average at the end: {load()}; files in {workdir}" + ("" if args.keep else " (temporary)"))
    if not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def measure_build(settings, path: Path) -> dict:
    """The index build with its phases timed, then a re-index after one document changes."""
    import json

    from cwqa.embedding import get_embedder
    from cwqa.index import MANIFEST
    from cwqa.pipeline import build

    print("\nbuild (cwqa.pipeline.build)")
    started = time.perf_counter()
    get_embedder(settings.model)
    model_rss = rss_mb()
    row("model load", f"{time.perf_counter() - started:.1f} s, resident {model_rss:.0f} MB")

    marks: dict[str, float] = {}
    ticks: list[tuple[float, int]] = []

    def log(message: str) -> None:
        if message.startswith("embedding"):
            marks["embed_start"], marks["embed_start_cpu"] = time.perf_counter(), cpu_s()

    def progress(done: int, total: int) -> None:
        ticks.append((time.perf_counter(), done, cpu_s()))

    started = time.perf_counter()
    built, _ = build(settings, progress=progress, log=log)
    total_s = time.perf_counter() - started
    manifest = json.loads((built / MANIFEST).read_text(encoding="utf-8"))
    peak = peak_rss_mb()
    passages, sentences = manifest["chunks"], manifest["sentences"]
    embed_start = marks.get("embed_start", started)
    embed_end, _, embed_end_cpu = ticks[-1]
    # Passages and sentences are embedded together, shortest first across the whole build
    # (cwqa.vectors.embed), so only their joint rate can be measured.
    texts = passages + sentences
    embed_s, embed_cpu = embed_end - embed_start, embed_end_cpu - marks["embed_start_cpu"]
    import torch

    threads = min(torch.get_num_threads(), os.cpu_count() or 1)
    row("time", f"{total_s:.1f} s in all: {embed_start - started:.1f} s before embedding (parse, chunk, "
                f"token checks), {embed_end - embed_start:.1f} s embedding, {started + total_s - embed_end:.1f} s "
                f"after ({manifest['dense_index']} FAISS, BM25, checksums)")
    row("embedding", f"{passages:,} passages + {sentences:,} sentences in {embed_s:.1f} s = "
                     f"{texts / embed_s:,.1f} texts/s")
    # On a shared machine the wall clock counts other people's work too; CPU time does not.
    idle_texts = texts / (embed_cpu / threads)
    row("embedding CPU time", f"{embed_cpu:.0f} CPU-s: on {threads} idle cores ~{idle_texts:,.1f} texts/s")
    row("memory", f"peak {peak:.0f} MB ({peak - model_rss:.0f} MB over the loaded model)")
    size = sum(p.stat().st_size for p in built.rglob("*") if p.is_file()) / 2**20
    row("index on disk", f"{size:.1f} MB")

    # -- re-index after touching one document ---------------------------------------------------
    text = path.read_text(encoding="utf-8")
    anchor = text.index("<p>", text.index(f'xml:id="d{max(1, manifest["documents"] // 2)}"')) + len("<p>")
    path.write_text(text[:anchor] + "A sentence added to benchmark the re-index. " + text[anchor:], encoding="utf-8")
    del text
    started = time.perf_counter()
    rebuilt, _ = build(settings)
    reindex_s = time.perf_counter() - started
    after = json.loads((rebuilt / MANIFEST).read_text(encoding="utf-8"))
    print("\nre-index after one paragraph of one document changed")
    row("time", f"{reindex_s:.1f} s")
    row("vectors", f"{after['embedded']} embedded, {after['reused']:,} reused")
    row("memory", f"peak {peak_rss_mb():.0f} MB")
    return {
        "total_s": total_s, "pre_s": embed_start - started, "post_s": started + total_s - embed_end,
        "passages": passages, "sentences": sentences,
        "texts_per_s": texts / embed_s, "idle_texts_per_s": idle_texts, "threads": threads,
        "model_mb": model_rss, "build_mb": peak - model_rss, "reindex_s": reindex_s,
        "reindex_embedded": after["embedded"], "index_mb": size,
    }


def extrapolate(*, measured_documents, megabytes, parse_s, parse_peak_per_mb, chunk_kb, kept_per_document,
                passages_per_document, sentences_per_passage, chunk_per_passage, build) -> None:
    """Linear extrapolation of the measured rates to one real volume and to the whole series.

    Counts scale with documents (a real volume's ~4 MB also holds front and back matter: lists
    of persons and terms, the index), parse time with both bytes and documents (both printed).
    """
    volume_docs = SERIES_DOCUMENTS / SERIES_VOLUMES
    series_mb = SERIES_VOLUMES * REAL_VOLUME_MB
    per_doc_s, per_mb_s = parse_s / measured_documents, parse_s / megabytes
    print(f"\nextrapolated to this machine (linear; measured on {measured_documents} documents, {megabytes:.1f} MB)")
    print(f"  one volume = ~{REAL_VOLUME_MB:.0f} MB, ~{volume_docs:.0f} documents; the series = {SERIES_VOLUMES} volumes, "
          f"~{series_mb / 1024:.1f} GB, ~{SERIES_DOCUMENTS:,} documents")
    row("parse one volume", f"{duration(volume_docs * per_doc_s)} by documents, {duration(REAL_VOLUME_MB * per_mb_s)} "
                            f"by size; peak ~{memory(parse_peak_per_mb * REAL_VOLUME_MB)} of parse objects")
    row("parse the series", f"{duration(SERIES_DOCUMENTS * per_doc_s)} by documents, {duration(series_mb * per_mb_s)} "
                            "by size (a volume at a time)")
    row("documents held in memory", f"one volume ~{memory(kept_per_document * volume_docs)}; the series "
                                    f"~{memory(kept_per_document * SERIES_DOCUMENTS)} (load_corpus keeps them all)")
    volume_passages = passages_per_document * volume_docs
    series_passages = passages_per_document * SERIES_DOCUMENTS
    row("passages", f"~{volume_passages:,.0f} per volume; series ~{series_passages / 1e6:.2f} M at "
                    f"{passages_per_document:.1f} per document (the estimate: "
                    f"{SERIES_PASSAGES[0] / 1e6:.0f}-{SERIES_PASSAGES[1] / 1e6:.0f} M)")
    row("chunk + sentence split", f"one volume {duration(volume_passages * chunk_per_passage)}; series "
                                  f"{duration(series_passages * chunk_per_passage)}")
    if not build:
        return
    # Each passage brings its sentences: 1 + sentences_per_passage texts to embed.
    per_passage_s = (1 + sentences_per_passage) / build["texts_per_s"]
    idle_per_passage_s = (1 + sentences_per_passage) / build["idle_texts_per_s"]
    scale = volume_docs / measured_documents

    def vectors_mb(passages: float) -> float:
        return passages * (1 + sentences_per_passage) * DIMENSION * 4 / 2**20

    def held_mb(passages: float, times: int) -> float:
        """Held at once while building: documents, passages, and the vectors 2-3 times over (the
        new matrix, the freshly encoded rows, on a rebuild the previous build's rows)."""
        documents = passages / passages_per_document
        return kept_per_document * documents + chunk_kb / 1024 * passages + times * vectors_mb(passages)

    # What the measured build used beyond that (the model's working memory, BM25, FAISS) is
    # taken as fixed.
    fixed = max(0.0, build["build_mb"] - held_mb(build["passages"], 3))

    def peak(passages: float) -> str:
        low, high = (build["model_mb"] + fixed + held_mb(passages, t) for t in (2, 3))
        return f"{memory(low)}-{memory(high)}"

    print(f"  embedding below: as measured here (wall clock, shared CPU) / on {build['threads']} idle cores (from CPU time)")
    print(f"  memory below: the loaded model {memory(build['model_mb'])} + {memory(fixed)} working memory (measured) "
          "+ documents, passages and 2-3x the vectors")
    row("index one volume", f"{duration(build['total_s'] * scale)} (embedding {duration(volume_passages * per_passage_s)}"
                            f" / {duration(volume_passages * idle_per_passage_s)}), peak ~{peak(volume_passages)}")
    row("re-index one volume after one edit", f"~{duration(build['reindex_s'] * scale)} (parse, chunk, reuse, "
                                              "FAISS and BM25 redone for the whole corpus)")
    for passages in sorted({round(series_passages, -4), *SERIES_PASSAGES}):
        row(f"series at {passages / 1e6:.2f} M passages",
            f"embedding {duration(passages * per_passage_s)} / {duration(passages * idle_per_passage_s)}; "
            f"{passages * sentences_per_passage / 1e6:.1f} M sentence vectors; vectors {memory(vectors_mb(passages))} "
            f"on disk; build peak ~{peak(passages)}")
    row("re-index the series after one edit", f"~{duration(build['reindex_s'] * SERIES_DOCUMENTS / measured_documents)} "
                                              "(no embedding; all else redone; linear, so an upper bound)")
    row("note", "above 100,000 passages the dense index is HNSW (eval/bench.py times it), not flat as here")


if __name__ == "__main__":
    sys.exit(main())
