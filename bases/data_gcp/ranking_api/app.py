"""FastAPI app of the ranking service: `POST /predict`, `GET /isalive` (Cloud Run, port 8080).

The model is loaded once at startup (lifespan): from `DATA_GCP_RANKER_MODEL_PATH` (a local folder)
when set, else from the bucket's `models/ranker/latest`, verified first (`RankerModel.load`: the
manifest, the spec, a parse and a prediction in a child process, so a malformed model never aborts
this one). A service without a model still starts and answers 503 on `/isalive` and `/predict`, so
Cloud Run keeps the previous revision serving; whatever the load raised, the process stays up.
`/isalive` is 200 only when a test prediction through the loaded model succeeds.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from data_gcp.api_kit import ValidationProblem, document_request_schemas
from data_gcp.config import DataGcpError
from data_gcp.log import get_logger
from data_gcp.ranking import FeatureError, RankerModel, load_ranker
from data_gcp.ranking_api.schemas import (
    DECLARED_FEATURES,
    Health,
    PredictRequest,
    PredictResponse,
    Problem,
    request_schemas,
)

MODEL_PATH_ENV = "DATA_GCP_RANKER_MODEL_PATH"
THREADS_ENV = "DATA_GCP_RANKER_NUM_THREADS"

log = get_logger(__name__)

_503 = {503: {"model": Health, "description": "no model loaded"}}


def _check_servable(model: RankerModel) -> RankerModel:
    undeclared = sorted(set(model.spec.names) - DECLARED_FEATURES)
    if undeclared:
        raise DataGcpError(
            f"ranker {model.run_id} needs feature(s) {', '.join(undeclared)} that the API does not accept: "
            "deploy a service built with the same data_gcp.ranking feature list"
        )
    return model


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming each wrong field, without echoing inputs: they can be large (5,000 rows) or not
    JSON-encodable (Infinity), and FastAPI's default handler would then fail with a 500."""
    detail = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)


def create_app(model: RankerModel | None = None, model_path: str | None = None) -> FastAPI:
    """The service; `model` (tests, benchmarks) skips loading, `model_path` overrides the env var."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.model is None:
            path = model_path or os.environ.get(MODEL_PATH_ENV) or None
            try:
                threads = int(os.environ.get(THREADS_ENV, "1"))
                app.state.model = _check_servable(load_ranker(path, num_threads=threads))
                log.info("ranker %s loaded", app.state.model.run_id)
            except Exception as exc:  # noqa: BLE001 - any load failure is a 503 with why, never an exit
                app.state.load_error = (
                    str(exc) if isinstance(exc, DataGcpError) else f"{type(exc).__name__}: {exc}"
                )
                log.error("ranking service started without a model: %s", app.state.load_error)
        yield

    app = FastAPI(
        title="ranking",
        version="1.0",
        description="Scores recommendation candidates with the LightGBM ranker (P(consulted) + P(booked)).",
        lifespan=lifespan,
    )
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.state.model = _check_servable(model) if model is not None else None
    app.state.load_error = None

    def no_model() -> JSONResponse:
        detail = app.state.load_error or "model not loaded"
        return JSONResponse(Health(status="unavailable", detail=detail).model_dump(), status_code=503)

    @app.get("/isalive", response_model=Health, responses=_503)
    async def isalive() -> Health | JSONResponse:
        """200 when a model is loaded and a test prediction through it succeeds, 503 otherwise (with why)."""
        current: RankerModel | None = app.state.model
        if current is None:
            return no_model()
        if problem := current.check():
            body = Health(status="degraded", model_version=current.run_id, detail=problem)
            return JSONResponse(body.model_dump(), status_code=503)
        return Health(status="ok", model_version=current.run_id)

    @app.post(
        "/predict",
        response_model=PredictResponse,
        responses={
            **_503,
            400: {"model": Problem, "description": "unreadable request"},
            422: {"model": ValidationProblem, "description": "invalid body: each wrong field and why"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictRequest"}}},
            }
        },
    )
    async def predict(request: Request) -> PredictResponse | JSONResponse:
        """Score each candidate; answer them sorted by score, best first."""
        current: RankerModel | None = app.state.model
        if current is None:
            return no_model()
        # Parsed and validated in one pass by pydantic's JSON parser: on 500 rows this is about half
        # the cost of FastAPI's json.loads + validation, and this route's budget is a few ms.
        try:
            body = PredictRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
        rows = body.instances
        try:
            scores = current.score_rows(rows)
        except FeatureError as exc:  # the schema should have caught it; still the caller's data
            return JSONResponse(
                {"detail": [{"loc": ["body", "instances"], "msg": str(exc), "type": "feature"}]}, 422
            )
        order = np.argsort(-scores, kind="stable")  # ties keep the caller's (retrieval) order
        predictions = [
            {"offer_id": rows[i]["offer_id"], "score": s}
            for i, s in zip(order.tolist(), scores[order].tolist(), strict=True)
        ]
        log.debug("call %s: ranked %d candidates", body.call_id, len(rows))
        return JSONResponse({"predictions": predictions, "model_version": current.run_id})

    document_request_schemas(app, request_schemas)
    return app
