import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from data_gcp.planted_truth import synthetic_training_table
from data_gcp.ranking import (
    LATEST_KEY,
    ModelNotFoundError,
    RankerModel,
    TrainConfig,
    TrainingError,
    load_ranker,
    split_by_call_time,
    train_ranker,
)
from data_gcp.storage import get_storage

FAST = TrainConfig(num_boost_round=80, num_leaves=15, learning_rate=0.1, min_category_count=3, num_threads=1)


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return synthetic_training_table(n_calls=240, per_call=15, seed=1)


@pytest.fixture(scope="module")
def outcome(table: pa.Table):
    return train_ranker(table, FAST, run_id="test-run")


def test_split_keeps_calls_whole_and_tests_on_the_newest(table: pa.Table) -> None:
    split = split_by_call_time(table, test_fraction=0.2, valid_fraction=0.1)
    calls = [set(t.column("call_id").to_pylist()) for t in (split.train, split.valid, split.test)]
    assert not (calls[0] & calls[1]) and not (calls[0] & calls[2]) and not (calls[1] & calls[2])
    assert sum(t.num_rows for t in (split.train, split.valid, split.test)) == table.num_rows
    assert (len(calls[0]), len(calls[1]), len(calls[2])) == (168, 24, 48)
    assert (
        pc.max(split.train.column("displayed_at")).as_py() < pc.min(split.test.column("displayed_at")).as_py()
    )


def test_split_refuses_too_few_calls(table: pa.Table) -> None:
    two_calls = table.filter(pc.is_in(table.column("call_id"), pa.array(["call-000000", "call-000001"])))
    with pytest.raises(TrainingError, match="only 2 call"):
        split_by_call_time(two_calls, 0.4, 0.4)


def test_model_beats_retrieval_order_and_class_prior(outcome) -> None:
    m = outcome.metrics
    assert m["log_loss"] < m["log_loss_prior"]
    assert m["ndcg_at_10"] > m["ndcg_at_10_retrieval"] + 0.05
    assert m["test_calls"] == 48
    # The planted signal is what the model relies on most.
    top = list(outcome.model.feature_importance())[:4]
    assert {"offer_bookings_per_day", "is_user_favorite_category"} <= set(top)


def test_scores_are_p_consulted_plus_p_booked(outcome, table: pa.Table) -> None:
    model = outcome.model
    proba = model.predict_proba(model.spec.matrix(table.slice(0, 50)))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(model.score_table(table.slice(0, 50)), proba[:, 1] + proba[:, 2])


def test_unknown_categories_and_missing_features_still_score(outcome) -> None:
    scores = outcome.model.score_rows(
        [
            {"offer_id": "1", "category_id": "NEVER_SEEN", "context": "new_screen"},
            {"offer_id": "2"},
            {
                "offer_id": "3",
                "category_id": "LIVRE",
                "context": "home",
                "offer_booking_count": 90,
                "offer_age_days": 2,
            },
        ]
    )
    assert scores.shape == (3,) and np.all(np.isfinite(scores)) and np.all((scores >= 0) & (scores <= 1))


def test_labels_outside_0_1_2_are_refused(table: pa.Table) -> None:
    bad = table.set_column(table.column_names.index("label"), "label", pa.array([3] * table.num_rows))
    with pytest.raises(TrainingError, match="outside 0/1/2"):
        train_ranker(bad, FAST)


def test_save_load_and_publish_give_the_same_scores(outcome, table: pa.Table, tmp_path, settings) -> None:
    model = outcome.model
    expected = model.score_table(table.slice(0, 100))
    loaded = RankerModel.load(model.save(tmp_path / "m"))
    np.testing.assert_allclose(loaded.score_table(table.slice(0, 100)), expected)
    assert loaded.spec == model.spec and loaded.run_id == "test-run"

    storage = get_storage(settings)
    with pytest.raises(ModelNotFoundError, match="ml train ranker"):
        load_ranker(storage=storage)
    prefix = model.publish(storage)
    assert prefix == "models/ranker/test-run"
    assert storage.get_bytes(LATEST_KEY).decode() == "test-run"
    from_bucket = load_ranker(storage=storage)
    np.testing.assert_allclose(from_bucket.score_table(table.slice(0, 100)), expected)


def test_load_reports_a_missing_folder(tmp_path) -> None:
    with pytest.raises(ModelNotFoundError, match="no ranker model in"):
        RankerModel.load(tmp_path)
