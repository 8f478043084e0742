"""Run reports: what the charts plot comes from the run's own numbers, and the page needs nothing external."""

from __future__ import annotations

import re

import numpy as np
import pytest

from data_gcp.model_report import calibration_bins, line_chart, ranker_report, two_tower_report


def _offline(html: str) -> None:
    assert "<script" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)


def test_two_tower_report_plots_each_metric_over_k_for_each_model() -> None:
    metrics = {
        model: {
            (m, k): base * k / 100
            for m in ("recall", "precision", "coverage", "novelty")
            for k in (10, 50, 100)
        }
        for model, base in (("two_tower", 0.3), ("popularity", 0.1), ("oracle", 0.6))
    }
    history = [
        {"epoch": 0.0, "loss": 5.0, "val_recall_50": 0.1},
        {"epoch": 1.0, "loss": 4.2, "val_recall_50": 0.2},
    ]
    html = two_tower_report("run-1", metrics, history, {"users": 120})
    _offline(html)
    curves = html.split('id="metric-curves"')[1].split("</div>")[0]
    titles = re.findall(r'class="title">([^<]+)<', curves)
    assert titles == ["recall@k", "precision@k", "coverage@k", "novelty@k"]
    first = curves.split("</svg>")[0]
    assert first.count("<polyline") == 3  # one line per model
    assert re.findall(r'class="legend">([^<]+)<', first) == ["two_tower", "popularity", "oracle"]
    assert "oracle: 100 -> 0.6</title>" in first
    training = html.split('id="training-curves"')[1]
    assert "train loss" in training and "val recall 50" in training
    assert "epoch" in training
    assert "<td>recall@50</td><td>0.1500</td><td>0.0500</td><td>0.3000</td>" in html


def test_calibration_bins_mean_prediction_against_observed_rate() -> None:
    probs = np.array([0.05, 0.05, 0.15, 0.95, 0.95, 0.95, 0.95])
    labels = np.array([0, 1, 0, 1, 1, 1, 0])
    assert calibration_bins(labels, probs, bins=10) == [
        pytest.approx((0.05, 0.5, 2)),
        pytest.approx((0.15, 0.0, 1)),
        pytest.approx((0.95, 0.75, 4)),
    ]


def test_ranker_report_has_calibration_importances_and_metrics() -> None:
    html = ranker_report(
        "run-2",
        {"log_loss": 0.81, "ndcg_at_10": 0.42},
        {"price": 120.0, "position": 300.0, "category_id": 5.0},
        {"booked": [(0.1, 0.12, 50), (0.5, 0.4, 10)], "consulted": [(0.2, 0.2, 30)]},
    )
    _offline(html)
    cal = html.split('id="calibration"')[1].split("</div>")[0]
    assert cal.count("<polyline") == 2 and 'class="diag"' in cal
    bars = html.split('id="feature-importance"')[1].split("</div>")[0]
    assert re.findall(r'class="tick">([a-z_]+)</text><rect', bars) == ["position", "price", "category_id"]
    assert "<td>ndcg_at_10</td><td>0.4200</td>" in html


def test_empty_series_render_a_placeholder() -> None:
    assert "no data" in line_chart({"a": []}, title="t", x_label="x")


def test_two_tower_report_names_the_kept_epoch_its_parameters_and_axes() -> None:
    metrics = {"two_tower": {("recall", 50): 1.0, ("recall", 10): 0.25}}
    history = [
        {"epoch": 0.0, "loss": 5.0, "val_loss": 4.0, "val_recall_50": 0.10},
        {"epoch": 1.0, "loss": 4.2, "val_loss": 3.5, "val_recall_50": 0.30},
        {"epoch": 2.0, "loss": 4.0, "val_loss": 3.6, "val_recall_50": 0.20},
    ]
    html = two_tower_report("run-3", metrics, history, {"users": 120}, params={"epochs": 3, "patience": 1})
    # epoch 1 (0-based) had the best validation recall: the second epoch, numbered 2 as in the log
    assert re.search(r'id="kept-epoch">[^<]*kept epoch <b>2</b> of 3', html)
    training = html.split('id="training-curves"')[1]
    assert re.findall(r'class="label"[^>]*>([^<]+)<', training) == ["epoch", "loss", "epoch", "value"]
    assert "<td>patience</td><td>1</td>" in html and "<td>epochs</td><td>3</td>" in html
    # one number format in the table: 1.0000 beside 0.2500, never a bare 1
    assert "<td>recall@50</td><td>1.0000</td>" in html


def test_ranker_report_gives_each_calibration_point_its_rows_and_the_parameters() -> None:
    html = ranker_report(
        "run-4",
        {"log_loss": 0.8},
        {"price": 3.0},
        {"booked": [(0.05, 0.5, 2), (0.95, 0.75, 4)]},
        params={"learning_rate": 0.05, "boosting rounds kept (early stopping)": 17},
    )
    table = html.split('id="calibration-table"')[1].split("</table>")[0]
    assert "<td>booked</td><td>0.9500</td><td>0.7500</td><td>4</td>" in table
    assert "<td>boosting rounds kept (early stopping)</td><td>17</td>" in html
