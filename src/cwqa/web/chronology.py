"""The chronology: documents matching a question or the filters, in date order, on a timeline.

The same order as `cwqa docs --sort date` (dated documents by date, then document number; the
undated after them), and the same filters as search (`cwqa.pipeline.filter_documents`). The chart
is a Vega-Lite spec built with altair (which ships with Streamlit): one point per dated document;
clicking one selects it, and the app opens its document view. The persons and terms lists have no date and are not documents
of the record, so they are left out.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import altair as alt

from ..documents import IndexedDocument
from ..pipeline import filter_documents
from .urlstate import document_href

PICK = "pick"  # the timeline's selection: the clicked point's document


def _is_list(document: IndexedDocument) -> bool:
    return bool((document.extra or {}).get("list"))


def date_order(documents: Iterable[IndexedDocument]) -> list[IndexedDocument]:
    """Documents by date, then by printed number; the undated last, in number order."""
    return sorted(documents, key=lambda d: (not d.date, d.date or "", d.number or 0))


def chronology(
    documents: Sequence[IndexedDocument],
    doc_ids: Iterable[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    facets: dict | None = None,
) -> list[IndexedDocument]:
    """The documents matching the filters (and among `doc_ids`, e.g. a question's hits, when
    given), in date order. A value no document has is a one-line QueryError, as in search."""
    kept = [d for d in documents if not _is_list(d)]
    if doc_ids is not None:
        wanted = set(doc_ids)
        kept = [d for d in kept if d.id in wanted]
    return date_order(filter_documents(kept, date_from, date_to, facets))


def chronology_rows(documents: Sequence[IndexedDocument], page_path: str = "documents") -> list[dict]:
    """One row per document for the chart and the table: date, number, title, place, from, to and
    the app address of its document view (`open`)."""
    rows = []
    for document in documents:
        extra = document.extra or {}
        rows.append({
            "date": document.date,
            "doc": document.number if document.number is not None else "",
            "title": document.title,
            "place": document.place,
            "from": extra.get("sender", ""),
            "to": extra.get("recipient", ""),
            "source": (document.source or {}).get("volume_short", "") or extra.get("volume_short", ""),
            "open": document_href(document.id, page_path=page_path),
            "id": document.id,
        })
    return rows


def _day(date: str) -> str:
    """An ISO date as a day the chart can place: '1961-03' -> '1961-03-01', '1961' -> '1961-01-01'."""
    parts = date.split("-")
    return "-".join(parts + ["01"] * (3 - len(parts)))[:10]


def timeline_chart(rows: Sequence[dict]) -> alt.Chart | None:
    """A timeline of the dated rows: one point a document (by date, on its volume's line), its
    title, date and place on hover; clicking a point selects its document (`picked_document`).
    None when no row is dated."""
    dated = [{**row, "day": _day(row["date"]), "title": row["title"][:120]} for row in rows if row.get("date")]
    if not dated:
        return None
    lanes = sorted({row["source"] or "documents" for row in dated})
    for row in dated:
        row["lane"] = row["source"] or "documents"
    # Clicking a point selects its document; the app opens it (Streamlit reruns on the selection:
    # a Vega `href` does not navigate inside Streamlit).
    pick = alt.selection_point(name=PICK, fields=["id"], on="click", clear=False)
    chart = (
        alt.Chart(alt.Data(values=dated))
        .mark_circle(size=90, opacity=0.75, cursor="pointer")
        .encode(
            x=alt.X("day:T", title="date", axis=alt.Axis(format="%b %Y", labelOverlap=True)),
            y=alt.Y("lane:N", title=None, sort=lanes, axis=alt.Axis(labelLimit=260)),
            tooltip=[
                alt.Tooltip("date:N", title="date"),
                alt.Tooltip("doc:N", title="doc."),
                alt.Tooltip("title:N", title="title"),
                alt.Tooltip("place:N", title="place"),
            ],
        )
        .add_params(pick)
        .properties(height=max(90, 45 * len(lanes)))
    )
    return chart


def picked_document(selection: dict | None) -> str:
    """The document id of the point clicked on the timeline ('' when none), from the chart's
    selection state as Streamlit returns it ({"pick": [{"id": …}]})."""
    for point in (selection or {}).get(PICK) or ():
        if isinstance(point, dict) and point.get("id"):
            return str(point["id"])
    return ""
