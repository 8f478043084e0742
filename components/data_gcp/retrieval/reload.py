"""The background reload: replace a missing, degraded or failing service by a freshly loaded one.

Why here and not in the HTTP base: when to reload, when to swap and what to remove afterwards are
decisions about the service; the base only holds the current one (`state.service`) and reports
`state.startup_error`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from data_gcp.log import get_logger
from data_gcp.retrieval.health import CHECK_EVERY_SECONDS
from data_gcp.retrieval.service import RetrievalService

log = get_logger(__name__)

Loader = Callable[[], RetrievalService]
MAX_RELOAD_SECONDS = 3600.0
# a swapped-out service is closed (its index copy removed) after requests already holding it finish
RETIRE_AFTER_SECONDS = 30.0


async def retire(service: RetrievalService, after: float = RETIRE_AFTER_SECONDS) -> None:
    """Close a swapped-out service once the requests that started on it are done."""
    try:
        await asyncio.sleep(after)
    finally:
        service.close()


async def reload_until_healthy(state: Any, loader: Loader, every: float) -> None:
    """Check the current service every `every` seconds (a real query through each engine); while it
    is missing or degraded, load another and swap in the first healthy one.

    Each failed attempt doubles the wait (up to an hour): a reload builds a whole index, which must
    not take the instance's CPU every minute while a cause outside it (a stale table) persists.
    Each load owns its index folder, so the live service is untouched while its replacement is
    built, and a replacement that is not better is closed without touching the live one.
    """
    delay = every
    retiring: set[asyncio.Task[None]] = set()
    try:
        while True:
            await asyncio.sleep(delay)
            current: RetrievalService | None = state.service
            if current is not None:
                await current.acheck(min(every, CHECK_EVERY_SECONDS))
                if current.ready:
                    delay = every
                    continue
            try:
                fresh = await asyncio.to_thread(loader)
            except Exception as exc:  # noqa: BLE001 - still nothing to serve: say why, try again later
                state.startup_error = f"{type(exc).__name__}: {exc}"
                log.warning("retrieval reload failed: %s", state.startup_error)
                delay = min(delay * 2, MAX_RELOAD_SECONDS)
                continue
            if current is None or fresh.ready:
                state.service, state.startup_error = fresh, None
                log.info("retrieval service reloaded: %s", fresh.status()["status"])
                if current is not None:
                    task = asyncio.create_task(retire(current))
                    retiring.add(task)
                    task.add_done_callback(retiring.discard)
                delay = every
            else:
                log.warning("retrieval reload still degraded: %s", "; ".join(fresh.all_problems()))
                fresh.close()
                delay = min(delay * 2, MAX_RELOAD_SECONDS)
    finally:
        for task in list(retiring):
            task.cancel()  # `retire` closes its service when cancelled
        if retiring:
            await asyncio.gather(*retiring, return_exceptions=True)
