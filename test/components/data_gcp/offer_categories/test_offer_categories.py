import pytest

from data_gcp.offer_categories import (
    CATEGORY_BOOKING_WEIGHTS,
    SUBCATEGORIES,
    subcategories_table,
    subcategory,
)


def test_every_category_has_a_weight_and_books_come_first():
    assert {s.category_id for s in SUBCATEGORIES} == set(CATEGORY_BOOKING_WEIGHTS)
    assert max(CATEGORY_BOOKING_WEIGHTS, key=CATEGORY_BOOKING_WEIGHTS.get) == "LIVRE"
    assert abs(sum(CATEGORY_BOOKING_WEIGHTS.values()) - 1) < 1e-9


def test_digital_subcategories_have_digital_venues_and_prices_are_ordered():
    for s in SUBCATEGORIES:
        assert s.price_min <= s.price_max
        assert (s.venue_type_code == "DIGITAL") == s.is_digital


def test_lookup_and_table():
    assert subcategory("SEANCE_CINE").is_event
    with pytest.raises(KeyError, match="NOPE"):
        subcategory("NOPE")
    table = subcategories_table()
    assert table.num_rows == len(SUBCATEGORIES)
    assert len(set(table.column("id").to_pylist())) == table.num_rows
