"""Fixes that make Airflow's in-process `dag.test()` work with this workspace's libraries.

1. Airflow's execution API declares `Field(discriminator=<function>)`; the installed pydantic only
   accepts a callable discriminator wrapped in `Discriminator(...)`, so building the API app fails
   ("needs a discriminator field"). We wrap bare callables the way pydantic documents.
2. `dag.test()` builds a new in-process execution API app for every task (several seconds each) and
   sends the first request before the app's lifespan has registered its services. We build it once,
   wait for the lifespan, and hand the same app to every task.

Both patches apply to this process only (the `data-gcp run` command) and are idempotent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_applied = False
_api: Any = None


def _patch_pydantic_callable_discriminator() -> None:
    import pydantic._internal._discriminated_union as du
    from pydantic import Discriminator

    original = du.apply_discriminator
    if getattr(original, "_data_gcp_patched", False):
        return

    def apply_discriminator(schema: Any, discriminator: Any, definitions: Any = None) -> Any:
        if callable(discriminator) and not isinstance(discriminator, str | Discriminator):
            discriminator = Discriminator(discriminator)
        return original(schema, discriminator, definitions)

    apply_discriminator._data_gcp_patched = True  # type: ignore[attr-defined]
    du.apply_discriminator = apply_discriminator


def shared_execution_api(wait_seconds: float = 60.0) -> Any:
    """The one in-process execution API of this process, its lifespan started."""
    global _api
    if _api is None:
        from airflow.api_fastapi.execution_api.app import InProcessExecutionAPI

        api = InProcessExecutionAPI()
        _ = api.transport  # starts the lifespan in the API's event loop thread
        deadline = time.monotonic() + wait_seconds
        while not hasattr(api.app.state, "svcs_registry"):
            if time.monotonic() > deadline:
                raise RuntimeError("Airflow's in-process execution API did not start (lifespan not run)")
            time.sleep(0.02)
        _api = api
    return _api


def apply_airflow_compat() -> None:
    """Apply both patches (call after `configure_airflow`, before `dag.test()`)."""
    global _applied
    if _applied:
        return
    _patch_pydantic_callable_discriminator()
    import airflow.sdk.execution_time.supervisor as supervisor

    supervisor.in_process_api_server = shared_execution_api
    _applied = True


@contextmanager
def no_asset_triggered_queue() -> Iterator[None]:
    """While `data-gcp run` runs the chain itself, the asset events of its runs queue no run for a
    scheduler (the one `data-gcp ui` starts): the chain runs the DAGs those events trigger itself, a
    queued run would process the same day a second time. The events are recorded as usual (the UI
    shows them)."""
    from airflow.assets.manager import AssetManager

    original = AssetManager.__dict__["_queue_dagruns"]

    def _queue_nothing(cls: Any, **_: Any) -> None:
        return None

    AssetManager._queue_dagruns = classmethod(_queue_nothing)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        AssetManager._queue_dagruns = original  # type: ignore[method-assign]


@contextmanager
def real_start_dates() -> Iterator[None]:
    """`dag.test()` creates its run with the logical date as start date (midnight, maybe months ago):
    the UI would show a running run started then. Within the block, a run is created with the moment
    it is created as its start."""
    import airflow.models.dagrun as dagrun_module
    from airflow.utils import timezone

    original = dagrun_module.get_or_create_dagrun

    def get_or_create_dagrun(**kwargs: Any) -> Any:
        return original(**{**kwargs, "start_date": timezone.utcnow()})

    dagrun_module.get_or_create_dagrun = get_or_create_dagrun  # type: ignore[assignment]
    try:
        yield
    finally:
        dagrun_module.get_or_create_dagrun = original  # type: ignore[assignment]
