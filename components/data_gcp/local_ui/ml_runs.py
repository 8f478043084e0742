"""ML runs side by side, from the local MLflow tracking store (what `data-gcp ml train` logs).

Why our own page rather than `mlflow ui`: the workspace installs `mlflow-skinny` (no UI server); its
client reads the same store, so the list shows exactly what MLflow holds: each run's parameters, its
metrics, the commit it was trained from, and a comparison of two runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from html import escape
from typing import Any

from data_gcp.config import Settings

COMMIT_TAGS = ("mlflow.source.git.commit", "git_commit", "data_gcp.commit")
HIDDEN_METRIC_PREFIX = "epoch_"  # per-epoch curves: in the run's report


@dataclass
class MlRun:
    experiment: str
    run_id: str
    name: str
    started: str
    status: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def commit(self) -> str:
        return next((self.tags[t] for t in COMMIT_TAGS if self.tags.get(t)), "")

    @property
    def summary_metrics(self) -> dict[str, float]:
        return {k: v for k, v in self.metrics.items() if not k.startswith(HIDDEN_METRIC_PREFIX)}


def list_runs(settings: Settings, limit: int = 200) -> tuple[list[MlRun], str | None]:
    """Newest first; (runs, None) or ([], why none can be read)."""
    import datetime as dt

    uri = settings.tracking_uri
    if uri.startswith("file:"):
        from pathlib import Path
        from urllib.parse import urlparse

        if not Path(urlparse(uri).path).is_dir():
            return [], "no ML run tracked yet: run `data-gcp ml train two-tower` (or `ranker`)"
        # the local folder store `data-gcp ml train` writes (MLflow 3 wants this to read it)
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        return [], "MLflow is not installed in this environment (uv sync installs mlflow-skinny)"
    try:
        client = MlflowClient(tracking_uri=uri)
        experiments = {e.experiment_id: e.name for e in client.search_experiments()}
        runs = client.search_runs(
            list(experiments), max_results=limit, order_by=["attributes.start_time DESC"]
        )
    except Exception as exc:  # noqa: BLE001 - shown on the page, the UI keeps serving
        return [], f"cannot read the MLflow store {uri}: {type(exc).__name__}: {exc}"
    out = []
    for r in runs:
        started = dt.datetime.fromtimestamp(r.info.start_time / 1000, dt.UTC) if r.info.start_time else None
        out.append(
            MlRun(
                experiment=experiments.get(r.info.experiment_id, r.info.experiment_id),
                run_id=r.info.run_id,
                name=r.info.run_name or r.info.run_id,
                started=started.strftime("%Y-%m-%d %H:%M:%S UTC") if started else "",
                status=r.info.status,
                params=dict(r.data.params),
                metrics=dict(r.data.metrics),
                tags={k: v for k, v in r.data.tags.items()},
            )
        )
    return out, None


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    return escape(str(v))


def runs_page(settings: Settings) -> str:
    from data_gcp.local_ui.health import page

    runs, why = list_runs(settings)
    if why:
        return page("ML runs", f'<h1>ML runs</h1><p id="no-runs">{escape(why)}</p>')
    rows = []
    for r in runs:
        params = "; ".join(f"{escape(k)}={escape(v)}" for k, v in sorted(r.params.items()))
        metrics = "; ".join(f"{escape(k)}={_fmt(v)}" for k, v in sorted(r.summary_metrics.items()))
        rows.append(
            f'<tr class="ml-run"><td><input type="checkbox" name="run" value="{escape(r.run_id)}"></td>'
            f"<td>{escape(r.experiment)}</td><td>{escape(r.name)}</td><td>{escape(r.started)}</td>"
            f"<td>{escape(r.status)}</td><td><code>{escape(r.commit[:12]) or '-'}</code></td>"
            f'<td class="params">{params}</td><td class="metrics">{metrics}</td></tr>'
        )
    return page(
        "ML runs",
        "<h1>ML runs</h1><p>From the MLflow store <code>"
        + escape(settings.tracking_uri)
        + "</code>, newest first. Tick two runs and compare them.</p>"
        '<form action="/ml/compare" method="get"><button id="compare" type="submit">compare</button>'
        '<table id="ml-runs"><thead><tr><th></th><th>model</th><th>run</th><th>started</th><th>status</th>'
        "<th>commit</th><th>parameters</th><th>metrics</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></form>",
    )


def compare_page(settings: Settings, run_ids: list[str]) -> str | None:
    """Two (or more) runs' parameters and metrics side by side, differing values highlighted."""
    from data_gcp.local_ui.health import page

    runs, why = list_runs(settings)
    chosen = [r for rid in run_ids for r in runs if r.run_id == rid]
    if why or len(chosen) < 2 or len(chosen) != len(run_ids):
        return None

    def section(title: str, values: list[dict[str, Any]], table_id: str) -> str:
        keys = sorted({k for v in values for k in v})
        body = "".join(
            f'<tr class="{"diff" if len({_fmt(v.get(k, "")) for v in values}) > 1 else "same"}">'
            f"<td>{escape(k)}</td>" + "".join(f"<td>{_fmt(v.get(k, ''))}</td>" for v in values) + "</tr>"
            for k in keys
        )
        head = "".join(f"<th>{escape(r.name)}</th>" for r in chosen)
        return f'<h2>{title}</h2><table id="{table_id}"><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>'

    facts = [
        {"model": r.experiment, "started": r.started, "commit": r.commit or "-", "status": r.status}
        for r in chosen
    ]
    return page(
        "Compare ML runs",
        "<h1>Compare ML runs</h1><p>Rows that differ are highlighted.</p>"
        + section("Run", facts, "compare-run")
        + section("Parameters", [r.params for r in chosen], "compare-params")
        + section("Metrics", [r.summary_metrics for r in chosen], "compare-metrics"),
    )
