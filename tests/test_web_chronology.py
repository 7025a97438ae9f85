"""The app's chronology on FRUS 1961–63 vol. V (plain text) and vol. XXIV (TEI): documents matching
the filters or a question's hits, in date order, and a timeline whose points open each document."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from cwqa.corpus import read_text_file
from cwqa.documents import IndexedDocument
from cwqa.errors import QueryError
from cwqa.readers.tei import read_volume
from cwqa.web.chronology import chronology, chronology_rows, picked_document, timeline_chart

DATA = Path(__file__).parent / "data"


@cache
def volume_v() -> list[IndexedDocument]:
    return [IndexedDocument.of(d) for d in read_text_file(DATA / "frus1961-63v05.txt").documents]


def test_moscow_in_march_1961_is_in_date_order_and_only_moscow_documents_of_that_month():
    found = chronology(volume_v(), date_from="1961-03", date_to="1961-03", facets={"place": "Moscow"})
    assert found, "vol. V has Moscow documents of March 1961"
    assert all(d.place == "Moscow" and d.date.startswith("1961-03") for d in found)
    dates = [d.date for d in found]
    assert dates == sorted(dates)
    assert "frus1961-63v05-d41" in {d.id for d in found}  # Thompson's telegram of March 10


def test_a_questions_documents_are_put_in_date_order():
    ids = ["frus1961-63v05-d41", "frus1961-63v05-d2", "frus1961-63v05-d12"]
    found = chronology(volume_v(), doc_ids=ids)
    assert [d.id for d in found] == sorted(ids, key=lambda i: next(d.date for d in volume_v() if d.id == i))
    assert len(found) == 3


def test_an_unknown_place_is_an_error_naming_close_ones():
    with pytest.raises(QueryError, match="Moscow"):
        chronology(volume_v(), facets={"place": "Moskow"})


def test_the_persons_and_terms_lists_are_not_in_the_chronology_and_undated_documents_come_last():
    documents = [IndexedDocument.of(d) for d in read_volume(DATA / "frus1955-57v24-front.xml").documents]
    found = chronology(documents)
    assert [d.id for d in found] == ["frus1955-57v24-d2", "frus1955-57v24-d1"]  # d1: an undated editorial note
    assert found[-1].date == ""


def test_each_point_of_the_timeline_opens_its_document_in_the_app():
    found = chronology(volume_v(), date_from="1961-03", date_to="1961-03")
    rows = chronology_rows(found)
    spec = timeline_chart(rows).to_dict()
    points = spec["data"]["values"] if "values" in spec.get("data", {}) else next(iter(spec["datasets"].values()))
    assert len(points) == len(found)
    first = points[0]
    href = urlsplit(first["open"])
    assert href.path == "documents" and parse_qs(href.query) == {"doc": [found[0].id]}
    (param,) = spec["params"]  # a click selects the point's document, which the app opens
    assert param["select"]["fields"] == ["id"] and param["select"]["on"] == "click"
    assert picked_document({param["name"]: [{"id": first["id"]}]}) == found[0].id
    assert picked_document({}) == "" and picked_document(None) == ""
    assert spec["encoding"]["x"]["field"] == "day" and first["day"] == found[0].date[:10]


def test_no_dated_document_gives_no_chart():
    assert timeline_chart([{"date": "", "title": "Editorial Note", "source": "", "open": "documents?doc=x"}]) is None
