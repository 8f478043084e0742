"""The HTML of a run report: the two-tower retrieval model and the LightGBM ranker.

Inputs are what the jobs already compute (metrics keyed by `(metric, k)` per model, the per-epoch
history, the ranker's metrics, feature importances and test predictions): the report never re-runs
an evaluation.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from html import escape

import numpy as np

from data_gcp.model_report.charts import bar_chart, line_chart

REPORT_FILE = "report.html"
# Retrieval metrics in reading order; any other metric the job adds is shown after them.
RETRIEVAL_METRICS = ("recall", "precision", "coverage", "novelty")

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:24px 0 8px;border-bottom:1px solid #ddd}
.meta{color:#666;font-size:13px} .charts{display:flex;flex-wrap:wrap;gap:12px}
.chart{background:#fafafa;border:1px solid #eee}
.chart .title{font-size:13px;font-weight:600} .chart .tick{font-size:10px;fill:#555}
.chart .label{font-size:11px;fill:#333} .chart .legend{font-size:11px}
.chart .grid{stroke:#e4e4e4} .chart .axis{stroke:#888} .chart .diag{stroke:#aaa;stroke-dasharray:4 3}
table{border-collapse:collapse;font-size:12px} td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
"""


def _page(title: str, subtitle: str, body: Sequence[str]) -> str:
    return (
        "<!doctype html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        '<link rel="icon" href="data:,">'
        f"<style>{_STYLE}</style></head><body>"
        f'<h1 id="report-title">{escape(title)}</h1><p class="meta">{escape(subtitle)}</p>'
        + "".join(body)
        + "</body></html>\n"
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], table_id: str) -> str:
    def cell(v: object) -> str:
        if isinstance(v, float):
            return "-" if not math.isfinite(v) else f"{v:.4f}"  # one format: `1.0000`, never `1` beside it
        return escape(str(v))

    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def two_tower_report(
    run_id: str,
    metrics: Mapping[str, Mapping[tuple[str, int], float]],
    history: Sequence[Mapping[str, float]] = (),
    counts: Mapping[str, int] | None = None,
    params: Mapping[str, object] | None = None,
) -> str:
    """Metric@k curves (one line per model: two_tower, popularity, oracle...), loss per epoch, the numbers."""
    names = sorted({m for vals in metrics.values() for m, _ in vals})
    ordered = [m for m in RETRIEVAL_METRICS if m in names] + [m for m in names if m not in RETRIEVAL_METRICS]
    curves = [
        line_chart(
            {
                model: sorted((float(k), float(v)) for (m, k), v in vals.items() if m == metric)
                for model, vals in metrics.items()
            },
            title=f"{metric}@k",
            x_label="k",
            y_label=metric,
        )
        for metric in ordered
    ]
    body = [
        '<h2>Retrieval on the test split, by cut-off k</h2><div class="charts" id="metric-curves">',
        *curves,
        "</div>",
    ]
    if history:
        kept = kept_epoch(history)
        losses = {
            ("train loss" if key == "loss" else key.replace("_", " ")): [
                (h["epoch"] + 1, h[key]) for h in history if key in h
            ]
            for key in sorted({k for h in history for k in h})
            if key.endswith("loss")
        }
        others = {
            key.replace("_", " "): [(h["epoch"] + 1, h[key]) for h in history if key in h]
            for key in sorted({k for h in history for k in h})
            if key.startswith("val_") and not key.endswith("loss")
        }
        charts = [
            line_chart(losses, title="loss per epoch", x_label="epoch", y_label="loss", y_from_zero=False)
        ]
        if others:
            charts.append(
                line_chart(others, title="validation metrics per epoch", x_label="epoch", y_label="value")
            )
        body += [
            "<h2>Training</h2>",
            f'<p id="kept-epoch">Epochs numbered from 1, as in the training log. Early stopping kept epoch '
            f"<b>{kept}</b> of {len(history)} (best {KEPT_BY}).</p>"
            if kept
            else "",
            '<div class="charts" id="training-curves">',
            *charts,
            "</div>",
        ]
    models = list(metrics)
    keys = sorted(
        {mk for vals in metrics.values() for mk in vals}, key=lambda mk: (ordered.index(mk[0]), mk[1])
    )
    rows = [
        [f"{m}@{k}", *[float(metrics[model].get((m, k), float("nan"))) for model in models]] for m, k in keys
    ]
    body += ["<h2>Numbers</h2>", _table(["metric@k", *models], rows, "metrics-table")]
    if counts or params:
        facts = [*(counts or {}).items(), *(params or {}).items()]
        body += [
            "<h2>Run: data and parameters</h2>",
            _table(["what", "value"], [[k, v] for k, v in facts], "run-table"),
        ]
    return _page(f"two-tower run {run_id}", f"generated {_now()}", body)


KEPT_BY = "validation recall@50, else the lowest train loss"


def kept_epoch(history: Sequence[Mapping[str, float]]) -> int | None:
    """The epoch (from 1) whose weights training kept: best `val_recall_50`, else lowest loss."""
    if not history:
        return None
    if all("val_recall_50" in h for h in history):
        best = max(history, key=lambda h: h["val_recall_50"])  # first of equals, as training keeps
    else:
        best = min(history, key=lambda h: h.get("loss", math.inf))
    return int(best["epoch"]) + 1


def calibration_bins(
    labels: np.ndarray, probabilities: np.ndarray, bins: int = 10
) -> list[tuple[float, float, int]]:
    """Reliability diagram points: per equal-width probability bin, (mean predicted, observed rate, rows)."""
    labels = np.asarray(labels, dtype=float)
    probabilities = np.clip(np.asarray(probabilities, dtype=float), 0.0, 1.0)
    which = np.minimum((probabilities * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        mask = which == b
        n = int(mask.sum())
        if n:
            out.append((float(probabilities[mask].mean()), float(labels[mask].mean()), n))
    return out


def ranker_report(
    run_id: str,
    metrics: Mapping[str, float],
    feature_importance: Mapping[str, float],
    calibration: Mapping[str, Sequence[tuple[float, float, int]]],
    params: Mapping[str, object] | None = None,
) -> str:
    """Calibration per class (reliability diagram), feature importances (gain), the run's metrics."""
    cal = line_chart(
        {name: [(p, o) for p, o, _ in pts] for name, pts in calibration.items()},
        title="calibration on the test split (predicted vs observed)",
        x_label="mean predicted probability",
        y_label="observed rate",
        diagonal=True,
        width=460,
        height=320,
    )
    rows = [[name, float(v)] for name, v in sorted(metrics.items())]
    body = [
        '<h2>Calibration</h2><div class="charts" id="calibration">',
        cal,
        "</div>",
        '<h2>Feature importance</h2><div class="charts" id="feature-importance">',
        bar_chart(dict(feature_importance), title="gain per feature (top 20)"),
        "</div>",
        "<h2>Metrics</h2>",
        _table(["metric", "value"], rows, "metrics-table"),
    ]
    points = [[name, p, o, n] for name, pts in calibration.items() for p, o, n in pts]
    if points:
        body[3:3] = [
            "<h3>Calibration points: rows per bin</h3>",
            _table(["class", "mean predicted", "observed rate", "rows"], points, "calibration-table"),
        ]
    if params:
        body += [
            "<h2>Parameters</h2>",
            _table(["parameter", "value"], [[k, v] for k, v in sorted(params.items())], "params-table"),
        ]
    return _page(f"ranker run {run_id}", f"generated {_now()}", body)
