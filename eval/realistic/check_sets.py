#!/usr/bin/env python3
"""Check the realistic evaluation sets in eval/realistic/.

Verifies, for questions.jsonl, unanswerable.jsonl, false_premise.jsonl and crossref.jsonl:
  * every line is a JSON object with the expected fields and values;
  * ids are unique across the three files;
  * every quote occurs verbatim (after collapsing whitespace) in its source:
    the seed file for `long-telegram` / `nsc-5607`, or the text of document N
    of FRUS 1961-63 vol. V for `frus1961-63v05-dN` (falls back to the whole
    volume only to report a wrong document number);
  * quotes are 8-40 words and sit inside one paragraph (warning only);
  * unanswerable lines have no quotes and doc null; false-premise lines have
    a "premise" and at least one quote;
  * cross-reference lines (kind "crossref") name in "via" the vol. V document
    whose "See Document N" footnote points to `doc`, where the quotes are.
Prints counts by file / kind / split, the content-word overlap between each
question and its quotes (median overall and per kind), and near-duplicate
question pairs.  Exits 1 on any error (e.g. a quote not found), else 0.

Usage:  python eval/realistic/check_sets.py [--verbose]
"""
from __future__ import annotations

import collections
import json
import re
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent  # the project folder
CORPUS = ROOT / "corpus"
VOL5 = ROOT / "tests" / "data" / "frus1961-63v05.txt"  # a verbatim copy of shared/frus/frus1961-63v05.txt
VOL5_ID = "frus1961-63v05"

FILES = {
    "questions.jsonl": "answerable",
    "unanswerable.jsonl": "unanswerable",
    "false_premise.jsonl": "false_premise",
    "crossref.jsonl": "crossref",
}
ANSWERABLE_KINDS = {"paraphrase", "modern-term", "who-when", "why-how", "list-item"}
UNANSWERABLE_KINDS = {"near-miss", "off-topic"}
SPLITS = {"tune", "heldout"}

STOP = set("""
about above after again against also although among another anyone anything
around because been before being below between both cannot could does doing
down during each either else even ever every from further have having here
hers herself himself into itself just like made make many more most much must
myself neither never none only other others ought ours ourselves over same
shall should since some such than that their theirs them themselves then there
these they this those though through thus under until upon very was were what
whatever when where whether which while whom whose with within without would
your yours yourself yourselves will well what's it's that's into onto
according said says tell told give gave given take took kind sort really
still already away back come came went going again ones
""".split())


def norm_ws(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def content_words(s: str) -> set[str]:
    s = s.lower().replace("\u02bc", "'").replace("\u2019", "'")
    return {w for w in re.findall(r"[a-z]+", s) if len(w) >= 4 and w not in STOP}


# ---------------------------------------------------------------- sources
def seed_sources() -> dict[str, str]:
    out = {}
    for meta in sorted(CORPUS.glob("*.meta.json")):
        d = json.loads(meta.read_text(encoding="utf-8"))
        txt = meta.with_name(meta.name.replace(".meta.json", ".txt"))
        if txt.exists() and "id" in d:
            out[d["id"]] = txt.read_text(encoding="utf-8")
    return out


_MONTHS = ("January|February|March|April|May|June|July|August|September|"
           "October|November|December")
_DATELINE = re.compile(r"^>?[A-Z][\w .,\u02bc'\-]+, (%s) \d+" % _MONTHS)
_TITLE_END = re.compile(r"(Source|Telegram|Memorandum|Letter|Estimate|Paper|Message|Note)\s*$")


def vol5_documents() -> tuple[dict[int, str], str]:
    """Split the plain-text volume into {doc number: text}.

    A line `N. Title` starts document N only when N is the next expected
    number and the line reads like a heading (Editorial Note, a title ending
    in `Source`, or followed by a dateline); numbered paragraphs are skipped.
    The book's index (from the line `Index`) is excluded.
    """
    text = VOL5.read_text(encoding="utf-8")
    lines = text.split("\n")
    end = next((i for i, l in enumerate(lines) if l.strip() == "Index"), len(lines))
    starts = []
    n = 1
    for i, line in enumerate(lines[:end]):
        m = re.match(r"^(\d+)\. (.*)", line)
        if not m or int(m.group(1)) != n:
            continue
        title = m.group(2)
        nxt = next((l.strip() for l in lines[i + 1:i + 6] if l.strip()), "")
        if title.startswith("Editorial Note") or _DATELINE.match(nxt) or _TITLE_END.search(title):
            starts.append(i)
            n += 1
    docs = {}
    for k, s in enumerate(starts):
        e = starts[k + 1] if k + 1 < len(starts) else end
        docs[k + 1] = "\n".join(lines[s:e])
    return docs, "\n".join(lines[:end])


# ---------------------------------------------------------------- checks
def main() -> int:
    verbose = "--verbose" in sys.argv
    errors: list[str] = []
    warnings: list[str] = []
    seeds = seed_sources()
    v5docs, v5all = vol5_documents()
    if len(v5docs) != 390:
        warnings.append(f"vol. V split into {len(v5docs)} documents (expected 390)")
    norm_cache: dict[str, str] = {}

    def normed(key: str, text: str) -> str:
        if key not in norm_cache:
            norm_cache[key] = norm_ws(text)
        return norm_cache[key]

    def source_for(doc: str | None) -> tuple[str | None, str | None]:
        if doc in seeds:
            return doc, seeds[doc]
        m = re.fullmatch(VOL5_ID + r"-d(\d+)", doc or "")
        if m and int(m.group(1)) in v5docs:
            return doc, v5docs[int(m.group(1))]
        return None, None

    ids = set()
    records = collections.defaultdict(list)
    overlaps = collections.defaultdict(list)  # kind -> list
    per_q = []
    for fname, role in FILES.items():
        path = HERE / fname
        if not path.exists():
            errors.append(f"{fname}: missing")
            continue
        for ln, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not raw.strip():
                continue
            where = f"{fname}:{ln}"
            try:
                r = json.loads(raw)
            except json.JSONDecodeError as e:
                errors.append(f"{where}: bad JSON ({e})")
                continue
            for f in ("id", "question", "quotes", "doc", "kind", "split"):
                if f not in r:
                    errors.append(f"{where}: missing field {f!r}")
            rid = r.get("id")
            if rid in ids:
                errors.append(f"{where}: duplicate id {rid}")
            ids.add(rid)
            if r.get("split") not in SPLITS:
                errors.append(f"{where}: bad split {r.get('split')!r}")
            kind = r.get("kind")
            quotes = r.get("quotes") or []
            if role == "unanswerable":
                if kind not in UNANSWERABLE_KINDS:
                    errors.append(f"{where}: bad kind {kind!r}")
                if quotes or r.get("doc") is not None:
                    errors.append(f"{where}: unanswerable line must have quotes [] and doc null")
            else:
                if role == "crossref":
                    if kind != "crossref":
                        errors.append(f"{where}: bad kind {kind!r} (want 'crossref')")
                    via = re.fullmatch(VOL5_ID + r"-d(\d+)", str(r.get("via") or ""))
                    target = re.fullmatch(VOL5_ID + r"-d(\d+)", str(r.get("doc") or ""))
                    if not via or int(via.group(1)) not in v5docs:
                        errors.append(f"{where}: 'via' must name a vol. V document, not {r.get('via')!r}")
                    elif target and not re.search(
                            r"Documents?\s+[\d\s,and–-]*\b%s\b" % target.group(1),
                            v5docs[int(via.group(1))].partition("* * *")[2]):
                        errors.append(f"{where}: {r.get('via')} has no footnote naming Document {target.group(1)}")
                elif kind not in ANSWERABLE_KINDS:
                    errors.append(f"{where}: bad kind {kind!r}")
                if not quotes:
                    errors.append(f"{where}: no quotes")
                if role == "false_premise" and not r.get("premise"):
                    errors.append(f"{where}: missing premise")
                key, src = source_for(r.get("doc"))
                if src is None:
                    errors.append(f"{where}: unknown doc {r.get('doc')!r}")
                else:
                    body = normed(key, src)
                    paras = [norm_ws(p) for p in src.split("\n") if p.strip()]
                    for q in quotes:
                        nq = norm_ws(q)
                        if nq not in body:
                            hint = ""
                            if nq in normed("__v5all__", v5all):
                                hint = " (it occurs elsewhere in vol. V: wrong doc number?)"
                            errors.append(f"{where} [{rid}]: quote not found in {r.get('doc')}{hint}: {q[:80]!r}")
                            continue
                        nw = len(nq.split())
                        if not 8 <= nw <= 40:
                            warnings.append(f"{where} [{rid}]: quote has {nw} words (want 8-40)")
                        if not any(nq in p for p in paras):
                            warnings.append(f"{where} [{rid}]: quote spans more than one paragraph")
                qw = content_words(r.get("question", ""))
                aw = set().union(*(content_words(q) for q in quotes)) if quotes else set()
                shared = sorted(qw & aw)
                if role in ("answerable", "crossref"):
                    overlaps[kind].append(len(shared))
                    per_q.append((rid, kind, len(shared), shared))
            records[fname].append(r)

    # near-duplicate questions (content-word Jaccard)
    allq = [(r["id"], content_words(r["question"])) for rs in records.values() for r in rs]
    dups = []
    for i in range(len(allq)):
        for j in range(i + 1, len(allq)):
            a, b = allq[i][1], allq[j][1]
            if a and b and len(a & b) / len(a | b) >= 0.6:
                dups.append((allq[i][0], allq[j][0], sorted(a & b)))
    for a, b, w in dups:
        warnings.append(f"possible near-duplicate questions {a} / {b}: {w}")

    # ------------------------------------------------------------ report
    print("== counts by file / kind / split")
    for fname, rs in records.items():
        c = collections.Counter((r.get("kind"), r.get("split")) for r in rs)
        kinds = sorted({k for k, _ in c})
        print(f"{fname}: {len(rs)} lines")
        for k in kinds:
            t, h = c[(k, "tune")], c[(k, "heldout")]
            print(f"  {k:<12} {t + h:>4}  (tune {t}, heldout {h})")
        tot = collections.Counter(r.get("split") for r in rs)
        print(f"  {'all':<12} {len(rs):>4}  (tune {tot['tune']}, heldout {tot['heldout']})")
        docs = collections.Counter(
            "vol. V" if str(r.get("doc", "")).startswith(VOL5_ID) else str(r.get("doc"))
            for r in rs)
        print("  by source:", dict(sorted(docs.items())))
    v5nums = sorted({int(r["doc"].split("-d")[1]) for rs in records.values() for r in rs
                     if str(r.get("doc", "")).startswith(VOL5_ID + "-d")})
    if v5nums:
        print(f"vol. V documents cited: {len(v5nums)} distinct, d{v5nums[0]}..d{v5nums[-1]}")

    print("\n== question/quote content-word overlap (answerable set; words of 4+ letters, stop words removed)")
    allov = [x for v in overlaps.values() for x in v]
    if allov:
        print(f"  all:          median {statistics.median(allov):.1f}  mean {statistics.mean(allov):.2f}  n={len(allov)}")
        for k in sorted(overlaps):
            v = overlaps[k]
            print(f"  {k:<12}  median {statistics.median(v):.1f}  mean {statistics.mean(v):.2f}  max {max(v)}  n={len(v)}")
        pm = overlaps.get("paraphrase", []) + overlaps.get("modern-term", [])
        if pm:
            print(f"  paraphrase+modern-term: median {statistics.median(pm):.1f}, "
                  f"{sum(1 for x in pm if x <= 2)}/{len(pm)} share at most 2 words")
        if verbose:
            for rid, kind, n, shared in sorted(per_q, key=lambda t: -t[2]):
                print(f"    {rid:<10} {kind:<12} {n}  {shared}")

    for w in warnings:
        print("WARNING:", w)
    for e in errors:
        print("ERROR:", e)
    print(f"\n{len(errors)} error(s), {len(warnings)} warning(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
