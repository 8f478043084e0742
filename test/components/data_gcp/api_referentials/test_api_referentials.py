"""The backend referentials connector against a fake backend serving the sandbox's taxonomy."""

from __future__ import annotations

import json

import pytest

from data_gcp.http_client import SourceError
from data_gcp.offer_categories import SUBCATEGORIES

DAY = "2026-11-23"


HARNESS = {
    "system": "api_referentials"
}  # the shared `connector_server` / `vendor` fixtures (test/conftest.py)


@pytest.fixture
def backend(vendor):
    state = vendor.server.app.state
    state["answer"] = state["original"]()
    return vendor


def test_loads_the_taxonomy_and_replaces_it_on_rerun(backend):
    backend.run(DAY, DAY)
    subs = backend.table("subcategories", order_by="id")
    assert sorted(subs.column("id").to_pylist()) == sorted(s.id for s in SUBCATEGORIES)
    row = {r["id"]: r for r in subs.to_pylist()}["LIVRE_NUMERIQUE"]
    assert row["category_id"] == "LIVRE" and row["online_offline_platform"] == "ONLINE"
    assert row["search_group_label"] == "Livres" and json.loads(row["extra_fields"]) == {}
    types = backend.table("offer_types")
    assert {"BOOK", "MUSIC", "SHOW", "MOVIE"} == set(types.column("domain").to_pylist())
    jazz = [r for r in types.to_pylist() if r["offer_type_label"] == "Jazz"]
    assert {r["offer_sub_type_label"] for r in jazz} == {"Acid Jazz", "Avant-Garde Jazz", "Bebop"}
    movies = [r for r in types.to_pylist() if r["domain"] == "MOVIE"]
    assert movies and all(r["offer_sub_type_id"] is None for r in movies)
    # a re-run replaces: same rows, no duplicates; a removed subcategory disappears
    answer = backend.server.app.state["original"]()
    answer["subcategories"] = [s for s in answer["subcategories"] if s["id"] != "CONCERT"]
    backend.server.app.state["answer"] = answer
    backend.run(DAY, DAY)
    again = backend.table("subcategories", order_by="id")
    assert again.num_rows == subs.num_rows - 1 and "CONCERT" not in again.column("id").to_pylist()
    assert backend.table("offer_types").num_rows == types.num_rows


def test_renamed_field_is_a_clear_error_and_writes_nothing(backend):
    answer = backend.server.app.state["original"]()
    for item in answer["subcategories"]:
        item["label"] = item.pop("appLabel")
    backend.server.app.state["answer"] = answer
    with pytest.raises(
        SourceError, match=r"api_referentials: GET /native/v1/subcategories/v2 failed.*'appLabel'"
    ):
        backend.extract(DAY, DAY)


def test_one_bad_subcategory_is_skipped_with_a_warning_the_rest_loads(backend, caplog):
    answer = backend.server.app.state["original"]()
    answer["subcategories"][0]["isEvent"] = "yes"
    answer["subcategories"][1]["searchGroupName"] = "NOUVEAU_GROUPE"
    bad = {answer["subcategories"][0]["id"], answer["subcategories"][1]["id"]}
    backend.server.app.state["answer"] = answer
    with caplog.at_level("WARNING"):
        tables = backend.extract(DAY, DAY)
    ids = set(tables["subcategories"].column("id").to_pylist())
    assert ids == {s.id for s in SUBCATEGORIES} - bad
    assert "'isEvent' is str, expected bool" in caplog.text and "NOUVEAU_GROUPE" in caplog.text


def test_documented_v2_answer_loads_flags_absent_are_null(backend):
    """The documented v2 model has no canBeDuo/isDigitalDeposit/isPhysicalDeposit/reimbursementRule."""
    answer = backend.server.app.state["original"]()
    sent = set(answer["subcategories"][0])
    assert sent == {
        "id", "categoryId", "nativeCategoryId", "appLabel", "searchGroupName",
        "homepageLabelName", "isEvent", "onlineOfflinePlatform",
    }  # fmt: skip
    subs = backend.extract(DAY, DAY)["subcategories"].to_pylist()
    assert len(subs) == len(SUBCATEGORIES)
    assert all(r["can_be_duo"] is None and r["reimbursement_rule"] is None for r in subs)
    assert {r["native_category_id"] for r in subs} >= {"LIVRE"}
    # an older backend sending the flags: they are read
    for item in answer["subcategories"]:
        item.update(
            canBeDuo=True, isDigitalDeposit=False, isPhysicalDeposit=True, reimbursementRule="STANDARD"
        )
        del item["nativeCategoryId"]
    backend.server.app.state["answer"] = answer
    subs = backend.extract(DAY, DAY)["subcategories"].to_pylist()
    assert all(r["can_be_duo"] is True and r["native_category_id"] is None for r in subs)


def test_genre_trees_in_each_domains_documented_shape(backend):
    """BOOK trees have no code (label, gtls, position), MOVIE trees are {name, label}."""
    answer = backend.server.app.state["original"]()
    book = next(g for g in answer["genreTypes"] if g["name"] == "BOOK")
    assert "code" not in book["trees"][0] and "gtls" in book["trees"][0]
    types = backend.extract(DAY, DAY)["offer_types"].to_pylist()
    books = [r for r in types if r["domain"] == "BOOK"]
    assert {r["offer_type_id"] for r in books} >= {"Romans", "Bandes dessinées"}
    assert {r["offer_sub_type_label"] for r in books} >= {"Mangas", "Romans policiers"}
    movies = [r for r in types if r["domain"] == "MOVIE"]
    assert {r["offer_type_id"] for r in movies} >= {"ACTION", "DRAMA"}


def test_new_fields_and_new_subcategories_are_kept_and_logged(backend, caplog):
    answer = backend.server.app.state["original"]()
    new = dict(answer["subcategories"][0], id="LIVRE_ILLUSTRE", appLabel="Livre illustré")
    answer["subcategories"].append(new)
    for item in answer["subcategories"]:
        item["isSelectable"] = True
    backend.server.app.state["answer"] = answer
    with caplog.at_level("WARNING"):
        tables = backend.extract(DAY, DAY)
    subs = tables["subcategories"].to_pylist()
    assert len(subs) == len(SUBCATEGORIES) + 1
    assert all(json.loads(r["extra_fields"]) == {"isSelectable": True} for r in subs)
    assert "isSelectable" in caplog.text


def test_faults_are_retried(backend):
    # two 503s, then a truncated body (the faults fire in turn), then the whole answer
    backend.server.faults.add("status", r"/native/v1/subcategories/v2", status=503, times=2)
    backend.server.faults.add("truncate", r"/native/v1/subcategories/v2", times=1)
    tables = backend.extract(DAY, DAY)
    assert tables["subcategories"].num_rows == len(SUBCATEGORIES)
    assert len(backend.server.requests_to(r"/native/v1/subcategories/v2")) == 4


def test_a_permanent_error_fails_without_touching_the_tables(backend):
    backend.run(DAY, DAY)
    before = backend.table("subcategories")
    backend.server.faults.add("status", r"/native/v1/subcategories/v2", status=404, times=-1)
    with pytest.raises(SourceError, match=r"\(HTTP 404\)"):
        backend.run(DAY, DAY)
    assert backend.table("subcategories").equals(before)
