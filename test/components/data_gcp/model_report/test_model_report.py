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
