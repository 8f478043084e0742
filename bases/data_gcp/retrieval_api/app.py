"""The retrieval HTTP service (FastAPI): `POST /predict`, `GET /isalive`, port 8080 on Cloud Run.

The base only validates requests and formats answers; `data_gcp.retrieval` decides everything.
The service is loaded in the lifespan (model + index from the bucket, or a local run folder given by
DATA_GCP_RETRIEVAL_MODEL_PATH), and reached by the handlers through a dependency.

Never down for a bad model: a missing or unreadable run (or no catalogue at all) leaves the process
up, `/isalive` answering 503 with the reason, and a background task (`data_gcp.retrieval.reload`)
reloading after DATA_GCP_RETRIEVAL_RELOAD_SECONDS (60, doubling after each failed attempt up to an
hour) until a healthy service replaces the degraded one. `/isalive` is ok only when a real query
through each engine succeeds and few answers fell back for an error. Each load's index copy is
removed when that service is swapped out or at shutdown (SIGTERM), copies left by killed processes
at start.
Errors are encoded as ASCII JSON (any input, lone surrogates included, is escaped, never a 500); one
structured access line per request is logged (uvicorn's own access log is turned off).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from data_gcp.api_kit import ValidationProblem, document_request_schemas
from data_gcp.log import get_logger, setup_logging
from data_gcp.retrieval import (
    FallbackWindow,
    FilterError,
    IndexParams,
    Query,
    RetrievalService,
    load_service,
    reload_until_healthy,
)
from data_gcp.retrieval_api.schemas import (
    HealthResponse,
    PredictRequest,
    PredictResponse,
    request_schemas,
)

log = get_logger(__name__)
access_log = get_logger("data_gcp.retrieval_api.access")

Loader = Callable[[], RetrievalService]
RELOAD_ENV = "DATA_GCP_RETRIEVAL_RELOAD_SECONDS"
MAX_ERROR_RATE_ENV = "DATA_GCP_RETRIEVAL_MAX_ERROR_RATE"  # share of answers falling back for an error
MAX_BODY = 1 << 20  # 1 MiB: a request is one instance of at most 1,000 ids and a filter


def default_loader() -> RetrievalService:
    path = os.environ.get("DATA_GCP_RETRIEVAL_MODEL_PATH")
    age = os.environ.get("DATA_GCP_RETRIEVAL_MAX_CATALOG_AGE_HOURS")
    service = load_service(
        model_dir=Path(path) if path else None,
        run_id=os.environ.get("DATA_GCP_RETRIEVAL_RUN_ID") or None,
        catalog_source=os.environ.get("DATA_GCP_RETRIEVAL_CATALOG", "auto"),
        params=IndexParams(nprobes=int(os.environ["DATA_GCP_RETRIEVAL_NPROBES"]))
        if os.environ.get("DATA_GCP_RETRIEVAL_NPROBES")
        else None,
        **({"max_catalog_age_hours": float(age)} if age else {}),
    )
    if rate := os.environ.get(MAX_ERROR_RATE_ENV):
        service.fallbacks = FallbackWindow(max_error_rate=float(rate))
    return service


def get_service(request: Request) -> RetrievalService | None:
    return request.app.state.service


ServiceDep = Annotated[RetrievalService | None, Depends(get_service)]


def error_response(status: int, detail: Any) -> Response:
    """An error as JSON with every non-ASCII character escaped: encodes any input, lone surrogates too."""
    return Response(
        json.dumps({"detail": detail}, ensure_ascii=True, default=str),
        status_code=status,
        media_type="application/json",
    )


def _problems(errors: list[Any]) -> list[dict[str, Any]]:
    """Pydantic errors without the echoed input (it can be large, or not encodable)."""
    return [
        {
            "loc": [str(p) if not isinstance(p, int) else p for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    return error_response(422, _problems(list(exc.errors())))


def _one_access_line() -> None:
    """This app writes one structured access line per request: uvicorn's own would double it, and
    without a handler (plain `uvicorn`, as the image runs it) ours would not be written at all.

    Called again in the lifespan: uvicorn configures logging (`dictConfig`, which re-enables its
    access logger) after an app built before `uvicorn.run`, and before the lifespan.
    """
    if not logging.getLogger().handlers:
        setup_logging()
    logging.getLogger("uvicorn.access").disabled = True


def create_app(service: RetrievalService | None = None, loader: Loader | None = None) -> FastAPI:
    """The app; give `service` to serve an already loaded one (tests, benchmarks)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _one_access_line()
        load = loader or default_loader
        if app.state.service is None:
            try:
                app.state.service = await asyncio.to_thread(load)
            except Exception as exc:  # noqa: BLE001 - keep serving /isalive (503 + reason), never crash-loop
                app.state.startup_error = f"{type(exc).__name__}: {exc}"
                log.error("retrieval service has nothing to serve: %s", exc)
        reload = None
        if service is None:  # a service given by the caller is not ours to replace
            every = float(os.environ.get(RELOAD_ENV) or 60)
            reload = asyncio.create_task(reload_until_healthy(app.state, load, every))
        try:
            yield
        finally:
            if reload is not None:
                reload.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reload
            if app.state.service is not None and service is None:
                app.state.service.close()

    app = FastAPI(
        title="data-gcp retrieval",
        version="1.0",
        description="Candidate retrieval for the recommendation: two-tower vectors in a LanceDB index.",
        lifespan=lifespan,
    )
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    # set before the lifespan runs, so a client that skips lifespan events still sees the service
    app.state.service = service
    app.state.startup_error = None
    _one_access_line()

    @app.middleware("http")
    async def access(request: Request, call_next: Callable[[Request], Any]) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        access_log.info(
            "%s",
            json.dumps(
                {
                    "method": request.method,
                    "path": request.url.path,
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - start) * 1000, 2),
                },
                ensure_ascii=True,
            ),
        )
        return response

    @app.get(
        "/isalive",
        response_model=HealthResponse,
        responses={
            503: {"model": HealthResponse, "description": "no model loaded, or degraded (see problems)"}
        },
    )
    async def isalive(request: Request, svc: ServiceDep) -> Any:
        if svc is None:
            body = HealthResponse(
                status="unavailable", problems=[request.app.state.startup_error or "not loaded"]
            )
            return error_body(body.model_dump(), 503)
        await svc.acheck()  # a real query through each engine, at most every few s
        body = HealthResponse(**svc.status())
        return body if svc.ready else error_body(body.model_dump(), 503)

    def error_body(content: dict[str, Any], status: int) -> Response:
        return Response(
            json.dumps(content, ensure_ascii=True, default=str), status, media_type="application/json"
        )

    @app.post(
        "/predict",
        response_model=PredictResponse,
        responses={
            413: {"description": "body larger than 1 MiB"},
            422: {"model": ValidationProblem, "description": "invalid request: each wrong field and why"},
            503: {"description": "no catalogue loaded"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictRequest"}}},
            }
        },
    )
    async def predict(request: Request, svc: ServiceDep) -> Response:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return error_response(413, f"body larger than {MAX_BODY} bytes")
        # parsed and validated in one pass by pydantic's strict JSON reader: a body that is not UTF-8,
        # too deep, or holds a lone surrogate is a 422 with the reason, never a 400 without one
        try:
            body = PredictRequest.model_validate_json(raw)
        except ValidationError as exc:
            return error_response(422, _problems([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]))
        if svc is None:
            return error_response(503, "retrieval service has no catalogue loaded")
        instance = body.instances[0]
        items = list(instance.items or [])
        if instance.offer_id is not None and instance.model_type == "similar_offer":
            items.append(instance.offer_id)
        query = Query(
            model_type=instance.model_type,
            user_id=instance.user_id,
            items=items,
            excluded_items=instance.excluded_items or [],
            size=instance.size,
            params=instance.params,
            call_id=instance.call_id,
            debug=instance.debug,
        )
        try:
            answer = await svc.aretrieve(query)
        except FilterError as exc:
            return error_response(
                422, [{"loc": ["body", "instances", 0, "params"], "msg": str(exc), "type": "value_error"}]
            )
        # Written straight to JSON: the rows are built by the service in the documented shape, and
        # re-validating hundreds of them through the response model doubled the cost of a call.
        out: dict[str, Any] = {
            "predictions": answer.predictions,
            "model_type": answer.model_type,
            "fallback": answer.fallback,
            "model_version": answer.model_version,
            "call_id": answer.call_id,
        }
        if instance.debug:
            out["notes"] = instance.notes()
        return Response(orjson.dumps(out, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json")

    document_request_schemas(app, request_schemas)
    return app
