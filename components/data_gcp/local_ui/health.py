"""The data's health from what `data-gcp run` recorded (`local_run.ui_record`), never from the warehouse.

Why from files: DuckDB lets a single process write the warehouse and nobody else open it meanwhile; a
page that read it would block the next run (or fail during one). dbt's own artifacts say everything:
`run_results.json` (each model and test: status, duration, failures) and `sources.json` (freshness),
kept per DAG run so a test's history shows; `tables.json` holds each table's rows after each run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from data_gcp.config import Settings

HISTORY_RUNS = 10  # runs shown in a node's history


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    status: str  # success/pass/warn/fail/error/skipped (dbt's words)
    seconds: float
    message: str
    failures: int | None


@dataclass
class TaskResults:
    """One dbt artifact of one Airflow task of one DAG run."""

    dag_id: str
    run_id: str
    task_id: str
    generated_at: str
    kind: str  # run_results | sources
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def nodes(self) -> list[NodeResult]:
        return [
            NodeResult(
                r.get("unique_id", "?"),
                str(r.get("status", "?")),
                float(r.get("execution_time") or 0.0),
                str(r.get("message") or r.get("error") or ""),
                r.get("failures"),
            )
            for r in self.results
        ]


def read_history(settings: Settings) -> list[TaskResults]:
    """Every kept dbt artifact, oldest first (by dbt's `generated_at`)."""
    from data_gcp.dbt_runner import kept_artifacts_dir

    root = kept_artifacts_dir(settings)
    found = []
    for path in root.glob("*/*/*/*.json"):
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue  # being written by a run right now: next refresh
        task_dir = path.parent
        found.append(
            TaskResults(
                dag_id=task_dir.parent.parent.name,
                run_id=unquote(task_dir.parent.name),
                task_id=task_dir.name,
                generated_at=str(data.get("metadata", {}).get("generated_at", "")),
                kind=path.stem,
                results=list(data.get("results", [])),
            )
        )
    return sorted(found, key=lambda t: t.generated_at)


def read_tables(settings: Settings) -> dict[str, Any] | None:
    from data_gcp.local_run import TABLES_FILE, history_dir

    path = history_dir(settings) / TABLES_FILE
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def latest(history: list[TaskResults], kind: str) -> TaskResults | None:
    return next((t for t in reversed(history) if t.kind == kind and t.results), None)


def node_history(history: list[TaskResults], unique_id: str) -> list[str]:
    """The node's statuses in the kept runs, oldest first (at most HISTORY_RUNS)."""
    statuses = [
        n.status for t in history if t.kind == "run_results" for n in t.nodes if n.unique_id == unique_id
    ]
    return statuses[-HISTORY_RUNS:]


def _badge(status: str) -> str:
    css = {
        "success": "ok",
        "pass": "ok",
        "warn": "warn",
        "fail": "bad",
        "error": "bad",
        "runtime error": "bad",
    }.get(status, "other")
    return f'<span class="badge {css}">{status}</span>'


def _kind(unique_id: str) -> str:
    return unique_id.split(".", 1)[0]


def _name(unique_id: str) -> str:
    parts = unique_id.split(".")
    return parts[2] if len(parts) > 2 else unique_id


def task_url(airflow_url: str, t: TaskResults) -> str:
    return f"{airflow_url}dags/{quote(t.dag_id)}/runs/{quote(t.run_id, safe='')}/tasks/{quote(t.task_id)}"


def dbt_task_keys(settings: Settings) -> list[str]:
    """`dag/run/task` of every Airflow task whose dbt results are kept (the Airflow pages link those)."""
    return sorted({f"{t.dag_id}/{t.run_id}/{t.task_id}" for t in read_history(settings)})


def _node_link(unique_id: str, docs: bool) -> str:
    from html import escape

    name = escape(_name(unique_id))
    return f'<a href="/dbt-docs/#!/{_kind(unique_id)}/{escape(unique_id)}">{name}</a>' if docs else name


def task_page(
    settings: Settings, airflow_url: str, docs: bool, dag_id: str, run_id: str, task_id: str
) -> str | None:
    """The dbt models, snapshots and tests one Airflow task built (its kept `run_results.json`), each
    linked to the dbt docs; None when that task kept no dbt results."""
    from html import escape

    kept = [
        t
        for t in read_history(settings)
        if (t.dag_id, t.run_id, t.task_id) == (dag_id, run_id, task_id) and t.kind == "run_results"
    ]
    if not kept:
        return None
    t = kept[-1]
    nodes = sorted(t.nodes, key=lambda n: (n.status in ("success", "pass"), _kind(n.unique_id), n.unique_id))
    rows = "".join(
        f'<tr class="node {escape(n.status)}" data-id="{escape(n.unique_id)}"><td>{_kind(n.unique_id)}</td>'
        f"<td>{_node_link(n.unique_id, docs)}</td><td>{_badge(n.status)}</td><td>{n.seconds:.2f} s</td>"
        f"<td>{'' if n.failures is None else n.failures}</td><td>{escape(n.message[:200])}</td></tr>"
        for n in nodes
    )
    built = sum(1 for n in t.nodes if _kind(n.unique_id) in ("model", "snapshot", "seed"))
    body = (
        f'<h1>dbt results of a task</h1><p id="task">Airflow task <a id="airflow-task" '
        f'href="{escape(task_url(airflow_url, t))}">{escape(dag_id)} / {escape(task_id)}</a> of run '
        f"<code>{escape(run_id)}</code>, generated {escape(t.generated_at)} (UTC): {built} models built, "
        f'{len(t.nodes) - built} tests and others. <a href="/health">Data health</a></p>'
        '<table id="task-nodes"><thead><tr><th>kind</th><th>name</th><th>status</th><th>duration</th>'
        f"<th>failing rows</th><th>message</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    return page(f"dbt results of {task_id}", body)


def health_page(settings: Settings, airflow_url: str, docs: bool) -> str:
    from html import escape

    history = read_history(settings)
    run = latest(history, "run_results")
    parts = ["<h1>Data health</h1>"]
    if run is None:
        parts.append(
            '<p id="no-results">No dbt results yet: run <code>data-gcp run</code> (this page reads what '
            "each run records; it refreshes on reload).</p>"
        )
    else:
        nodes = sorted(
            run.nodes, key=lambda n: (n.status in ("success", "pass"), _kind(n.unique_id), n.unique_id)
        )
        counts: dict[str, int] = {}
        for n in nodes:
            counts[n.status] = counts.get(n.status, 0) + 1
        summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
        parts.append(
            f'<p id="last-run">Last dbt build: task <a href="{escape(task_url(airflow_url, run))}">'
            f"{escape(run.dag_id)} / {escape(run.task_id)}</a> of run <code>{escape(run.run_id)}</code>, "
            f"generated {escape(run.generated_at)} (UTC): {escape(summary)}.</p>"
        )
        rows = []
        for n in nodes:
            name = escape(_name(n.unique_id))
            link = (
                f'<a href="/dbt-docs/#!/{_kind(n.unique_id)}/{escape(n.unique_id)}">{name}</a>'
                if docs
                else name
            )
            hist = "".join(_badge(s) for s in node_history(history, n.unique_id))
            failures = "" if n.failures is None else str(n.failures)
            rows.append(
                f'<tr class="node {escape(n.status)}" data-id="{escape(n.unique_id)}"><td>{_kind(n.unique_id)}</td>'
                f"<td>{link}</td><td>{_badge(n.status)}</td><td>{n.seconds:.2f} s</td><td>{failures}</td>"
                f"<td>{escape(n.message[:200])}</td><td>{hist}</td></tr>"
            )
        earlier = [
            (t, n)
            for t in history
            if t.kind == "run_results" and t is not run
            for n in t.nodes
            if n.status in ("fail", "error", "warn")
        ][-50:]
        if earlier:
            parts.append(
                '<h2>Failures and warnings in earlier runs</h2><table id="earlier"><thead><tr><th>name</th>'
                "<th>status</th><th>failing rows</th><th>run</th></tr></thead><tbody>"
                + "".join(
                    f'<tr class="earlier {escape(n.status)}" data-id="{escape(n.unique_id)}">'
                    f"<td>{escape(_name(n.unique_id))}</td><td>{_badge(n.status)}</td>"
                    f"<td>{'' if n.failures is None else n.failures}</td>"
                    f'<td><a href="{escape(task_url(airflow_url, t))}">{escape(t.run_id)}</a></td></tr>'
                    for t, n in reversed(earlier)
                )
                + "</tbody></table>"
            )
        parts.append(
            '<h2>Models and tests</h2><table id="nodes"><thead><tr><th>kind</th><th>name</th><th>status</th>'
            "<th>duration</th><th>failing rows</th><th>message</th><th>history (oldest first)</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
        tasks = [t for t in history if t.kind == "run_results"][-HISTORY_RUNS:]
        parts.append(
            '<h2>dbt tasks in Airflow</h2><ul id="dbt-tasks">'
            + "".join(
                f'<li><a href="{escape(task_url(airflow_url, t))}">{escape(t.dag_id)} / {escape(t.task_id)}</a> '
                f'run <code>{escape(t.run_id)}</code> (<a class="task-nodes" href="/health/task?dag='
                f'{quote(t.dag_id)}&amp;run={quote(t.run_id, safe="")}&amp;task={quote(t.task_id)}">its '
                f"models and tests</a>): {len(t.results)} nodes, "
                f"{sum(1 for n in t.nodes if n.status in ('fail', 'error'))} failed</li>"
                for t in reversed(tasks)
            )
            + "</ul>"
        )
    fresh = latest(history, "sources")
    if fresh is not None:
        rows = "".join(
            f'<tr class="source"><td>{escape(r.get("unique_id", "?").split(".", 2)[-1])}</td>'
            f"<td>{_badge(str(r.get('status', '?')))}</td><td>{escape(str(r.get('max_loaded_at', '')))}</td>"
            f"<td>{_age(r.get('max_loaded_at_time_ago_in_s'))}</td></tr>"
            for r in fresh.results
        )
        parts.append(
            f'<h2>Source freshness</h2><p>Checked by <a href="{escape(task_url(airflow_url, fresh))}">'
            f"{escape(fresh.task_id)}</a> at {escape(fresh.generated_at)} (UTC).</p>"
            '<table id="freshness"><thead><tr><th>source</th><th>status</th><th>last loaded (UTC)</th>'
            f"<th>age</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    tables = read_tables(settings)
    if tables:
        rows = "".join(
            f'<tr class="table"><td>{escape(t["schema"])}.{escape(t["table"])}</td><td>{t["rows"]:,}</td>'
            f"<td>{escape(t['last_load'])}</td></tr>"
            for t in tables["tables"]
        )
        parts.append(
            f"<h2>Warehouse tables</h2><p>Rows after the last run ({escape(tables['run_at'])} UTC); last load: "
            "the last run that changed the table's row count.</p>"
            '<table id="tables"><thead><tr><th>table</th><th>rows</th><th>last load (UTC)</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )
    return page("Data health", "".join(parts))


def _age(seconds: Any) -> str:
    if seconds is None:
        return ""
    s = int(float(seconds))
    return f"{s // 86400}d {s % 86400 // 3600}h" if s >= 86400 else f"{s // 3600}h {s % 3600 // 60}m"


STYLE = (
    "body{font-family:system-ui,sans-serif;margin:24px;color:#222}li{margin:4px 0}"
    "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}"
    ".badge{display:inline-block;padding:0 6px;margin:0 2px 0 0;border-radius:8px;font-size:11px;color:#fff}"
    ".ok{background:#2e7d32}.warn{background:#ed8c00}.bad{background:#c62828}.other{background:#777}"
    "code{font-size:12px}.diff{background:#fff3c4}td{max-width:380px;overflow-wrap:anywhere}"
)


def page(title: str, body: str) -> str:
    from html import escape

    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<link rel="icon" href="data:,"><style>{STYLE}</style></head><body>'
        f'<p><a href="/">data-gcp, local</a></p>{body}</body></html>'
    )
