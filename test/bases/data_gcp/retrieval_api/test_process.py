"""The retrieval service as the image runs it (a uvicorn process over HTTP): health that tells the
truth, reloads that never touch the index being served, one access line per request."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
import time

import pytest

from data_gcp.retrieval import write_run_manifest

APP = "data_gcp.retrieval_api.app:create_app"
RECO = {"instances": [{"user_id": "u1", "size": 3}]}


def _env(tmp_path, folder, **extra: str) -> dict[str, str]:
    return {
        "DATA_GCP_ENV": "local",
        "DATA_GCP_DATA_DIR": str(tmp_path / "data"),
        "DATA_GCP_RETRIEVAL_MODEL_PATH": str(folder),
        **extra,
    }


def _index_copies(tmp_path) -> list:
    return sorted((tmp_path / "data" / "cache" / "retrieval" / "index").iterdir())


def _date_run(folder, created_at: dt.datetime) -> None:
    meta = json.loads((folder / "meta.json").read_text())
    meta["created_at"] = created_at.isoformat()
    (folder / "meta.json").write_text(json.dumps(meta))
    write_run_manifest(folder, vector_dim=8, items=40, users=3, catalog_items=40)


def test_reloads_of_a_stale_catalogue_never_remove_the_index_being_served(
    tmp_path, run_writer, serve
) -> None:
    """A stale catalogue keeps the reload going (every 0.2 s, doubling); each reload builds its own
    copy and drops it, and the live service keeps answering from its own."""
    folder = run_writer(tmp_path / "run")
    _date_run(folder, dt.datetime.now(dt.UTC) - dt.timedelta(hours=100))
    env = _env(tmp_path, folder, DATA_GCP_RETRIEVAL_RELOAD_SECONDS="0.2")
    with serve(APP, env) as svc:
        assert svc.url, "\n".join(svc.lines)
        first = svc.post("/predict", RECO).json()
        assert first["model_type"] == "recommendation" and first["fallback"] is None
        # the live copy, and maybe the copy of a reload already under way (removed when it is done)
        at_start = set(_index_copies(tmp_path))
        # 10 s: several reloads (after 0.2, 0.4, 0.8, 1.6, 3.2 s), each degraded by the same stale catalogue
        fell_back = svc.wait_for(lambda: (a := svc.post("/predict", RECO).json())["fallback"] and a, 10)
        assert fell_back is None, f"a reload broke the live service: {fell_back}"
        assert sum("reload still degraded" in line for line in svc.lines) >= 3, "fewer reloads than expected"
        assert at_start & set(_index_copies(tmp_path)), "the live service's index copy is gone"
        health = svc.get("/isalive")
        assert health.status_code == 503
        assert [p for p in health.json()["problems"]] == [
            p for p in health.json()["problems"] if "100 h old" in p
        ], "the stale catalogue is the only problem"


def test_isalive_runs_a_real_query_and_a_broken_index_is_reloaded(tmp_path, run_writer, serve) -> None:
    """The index folder disappears under a running service: `/isalive` says so (not `ok`), the
    fallbacks are counted, and the background reload heals it with a copy of its own."""
    folder = run_writer(tmp_path / "run")
    # a tick every 6 s: /isalive (checking every 5 s) sees the failure before the reload heals it
    env = _env(tmp_path, folder, DATA_GCP_RETRIEVAL_RELOAD_SECONDS="6")
    with serve(APP, env) as svc:
        assert svc.url, "\n".join(svc.lines)
        assert svc.get("/isalive").status_code == 200
        (live,) = _index_copies(tmp_path)
        shutil.rmtree(live)
        answers = [svc.post("/predict", RECO).json() for _ in range(3)]
        broken = svc.wait_for(lambda: (r := svc.get("/isalive")).status_code == 503 and r.json(), 60)
        assert broken, "/isalive stayed ok with its index gone"
        assert any(p.startswith("engine check failed: two-tower index") for p in broken["problems"]), broken
        if any(a["fallback"] == "search_error" for a in answers):
            assert broken["fallbacks"].get("search_error", 0) >= 1
        healed = svc.wait_for(lambda: (r := svc.get("/isalive")).status_code == 200 and r.json(), 120)
        assert healed and healed["problems"] == [], "\n".join(svc.lines[-20:])
        answer = svc.post("/predict", RECO).json()
        assert answer["model_type"] == "recommendation" and answer["fallback"] is None
        (copy,) = svc.wait_for(lambda: len(c := _index_copies(tmp_path)) == 1 and c, 60)
        assert copy != live


def test_search_errors_above_the_threshold_make_the_service_degraded(tmp_path, run_writer, serve) -> None:
    """Counted fallbacks: with the engine check not due yet, the failed searches alone say degraded."""
    folder = run_writer(tmp_path / "run")
    env = _env(tmp_path, folder, DATA_GCP_RETRIEVAL_RELOAD_SECONDS="3600")
    with serve(APP, env) as svc:
        assert svc.get("/isalive").status_code == 200
        (live,) = _index_copies(tmp_path)
        shutil.rmtree(live)
        answers = [svc.post("/predict", RECO).json() for _ in range(12)]
        errors = sum(a["fallback"] == "search_error" for a in answers)
        health = svc.get("/isalive").json()
        assert health["status"] == "degraded"
        assert health["fallbacks"].get("search_error", 0) == errors
        if errors >= 10:
            assert any("fell back to tops after a failed search" in p for p in health["problems"])


@pytest.mark.parametrize("launch", ["uvicorn --factory", "data-gcp serve retrieval"])
def test_one_access_line_per_request(tmp_path, run_writer, serve, launch) -> None:
    """As the image starts it (`uvicorn --factory`) and as `data-gcp serve` does (the app built before
    uvicorn configures its logging): our JSON line, once a request, and not uvicorn's."""
    folder = run_writer(tmp_path / "run")
    argv = None
    if launch != "uvicorn --factory":
        cli = "from data_gcp.cli.main import main; main()"
        argv = [sys.executable, "-c", cli, "serve", "retrieval", "--host", "127.0.0.1", "--port", "0"]
    with serve(APP, _env(tmp_path, folder), argv) as svc:
        assert svc.url, "\n".join(svc.lines)
        before = len(svc.lines)
        for _ in range(3):
            assert svc.post("/predict", RECO).status_code == 200
        svc.wait_for(lambda: sum("/predict" in line for line in svc.lines[before:]) >= 3, 5)
        time.sleep(0.5)  # any second line of the last request
        lines = [line for line in svc.lines[before:] if "/predict" in line]
        ours = [line for line in lines if '"path": "/predict"' in line]
        assert len(ours) == 3 and len(lines) == 3, f"{len(lines)} access lines for 3 requests: {lines}"
