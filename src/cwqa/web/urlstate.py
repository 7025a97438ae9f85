"""URL state: what the address bar carries, so a result page can be shared and reloaded."""

from __future__ import annotations

from typing import Sequence

from ..config import MODES, rerank_policy

K_CHOICES = (1, 20)  # the sidebar slider's range
# Filters the sidebar offers and the address bar carries: the documents' facets and a date range.
FILTERS = ("place", "sender", "recipient", "classification", "from", "to")


def read_prefs(params: dict, settings, doc_ids: Sequence[str], generators: Sequence[str]) -> dict:
    """Search options from query parameters (k, mode, docs, gen, rerank), checked; defaults from settings."""
    def single(name):
        value = params.get(name)
        if isinstance(value, list):
            value = value[-1] if value else None
        return value

    prefs = {
        "k": settings.k,
        "mode": settings.mode,
        "docs": [],
        "gen": settings.generator if settings.generator in generators else "none",
        "rerank": settings.rerank,
    }
    try:
        k = int(single("k"))
        prefs["k"] = min(max(k, K_CHOICES[0]), K_CHOICES[1])
    except (TypeError, ValueError):
        pass
    prefs["k"] = min(max(prefs["k"], K_CHOICES[0]), K_CHOICES[1])
    if single("mode") in MODES:
        prefs["mode"] = single("mode")
    docs = params.get("docs") or []
    docs = [docs] if isinstance(docs, str) else list(docs)
    wanted = [d for part in docs for d in part.split(",") if d]
    prefs["docs"] = [d for d in wanted if d in doc_ids]
    if single("gen") in generators:
        prefs["gen"] = single("gen")
    try:
        prefs["rerank"] = rerank_policy(single("rerank")) if single("rerank") is not None else prefs["rerank"]
    except ValueError:
        pass
    for name in FILTERS:  # kept as typed: a bad value is reported by the search, not dropped here
        prefs[name] = str(single(name) or "").strip()[:200]
    return prefs


def url_params(question: str, prefs: dict) -> dict:
    """Query parameters for a result page: q, k, mode, docs (comma-separated), gen and rerank
    (always written: a link must reopen the same search whatever the server's settings)."""
    params = {"q": question, "k": str(prefs["k"]), "mode": prefs["mode"]}
    if prefs.get("docs"):
        params["docs"] = ",".join(prefs["docs"])
    if prefs.get("gen") and prefs["gen"] != "none":
        params["gen"] = prefs["gen"]
    params["rerank"] = prefs.get("rerank", "off")
    for name in FILTERS:
        if prefs.get(name):
            params[name] = prefs[name]
    return params


def document_params(doc_id: str, chunk_id: str | None = None) -> dict:
    """Query parameters that open a document in the document view (at a passage, if given)."""
    return {"doc": doc_id, **({"p": chunk_id} if chunk_id else {})}


def document_href(doc_id: str, chunk_id: str | None = None, page_path: str = "documents") -> str:
    """A relative link to a document view ('documents?doc=…'), for places that take an address
    rather than a page (a chart's points). Relative, so it works under any server base path."""
    from urllib.parse import urlencode

    return f"{page_path}?{urlencode(document_params(doc_id, chunk_id))}"
