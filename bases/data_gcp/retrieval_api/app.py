"""The retrieval HTTP service (FastAPI): `POST /predict`, `GET /isalive`, port 8080 on Cloud Run.

The base only validates requests and formats answers; `data_gcp.retrieval` decides everything.
The service is loaded in the lifespan (model + index from the bucket, or a local run folder given by
DATA_GCP_RETRIEVAL_MODEL_PATH), and reached by the handlers through a dependency.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from data_gcp.log import get_logger
from data_gcp.retrieval import (
    FilterError,
    IndexParams,
    Query,
    RetrievalService,
    RetrievalUnavailable,
    load_service,
)
from data_gcp.retrieval_api.schemas import HealthResponse, PredictRequest, PredictResponse

log = get_logger(__name__)

Loader = Callable[[], RetrievalService]


def default_loader() -> RetrievalService:
    path = os.environ.get("DATA_GCP_RETRIEVAL_MODEL_PATH")
    return load_service(
        model_dir=Path(path) if path else None,
        run_id=os.environ.get("DATA_GCP_RETRIEVAL_RUN_ID") or None,
        catalog_source=os.environ.get("DATA_GCP_RETRIEVAL_CATALOG", "auto"),
        params=IndexParams(nprobes=int(os.environ["DATA_GCP_RETRIEVAL_NPROBES"]))
        if os.environ.get("DATA_GCP_RETRIEVAL_NPROBES")
        else None,
    )


def get_service(request: Request) -> RetrievalService | None:
    return request.app.state.service


ServiceDep = Annotated[RetrievalService | None, Depends(get_service)]


def create_app(service: RetrievalService | None = None, loader: Loader | None = None) -> FastAPI:
    """The app; give `service` to serve an already loaded one (tests, benchmarks)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.service is None:
            try:
                app.state.service = (loader or default_loader)()
            except RetrievalUnavailable as exc:
                # keep serving /isalive (503 with the reason) instead of crash-looping
                app.state.startup_error = str(exc)
                log.error("retrieval service has nothing to serve: %s", exc)
        yield

    app = FastAPI(
        title="data-gcp retrieval",
        version="1.0",
        description="Candidate retrieval for the recommendation: two-tower vectors in a LanceDB index.",
        lifespan=lifespan,
    )
    # set before the lifespan runs, so a client that skips lifespan events still sees the service
    app.state.service = service
    app.state.startup_error = None

    @app.get(
        "/isalive",
        response_model=HealthResponse,
        responses={503: {"model": HealthResponse, "description": "no model loaded"}},
    )
    def isalive(request: Request, svc: ServiceDep) -> Any:
        if svc is None:
            body = HealthResponse(
                status="unavailable", problems=[request.app.state.startup_error or "not loaded"]
            )
            return JSONResponse(body.model_dump(), status_code=503)
        body = HealthResponse(**svc.status())
        return body if svc.ready else JSONResponse(body.model_dump(), status_code=503)

    @app.post(
        "/predict",
        response_model=PredictResponse,
        responses={
            422: {"description": "invalid request (the detail names the field and the reason)"},
            503: {"description": "no catalogue loaded"},
        },
    )
    async def predict(body: PredictRequest, svc: ServiceDep) -> Response:
        if svc is None:
            raise HTTPException(status_code=503, detail="retrieval service has no catalogue loaded")
        instance = body.instances[0]
        query = Query(
            model_type=instance.model_type,
            user_id=instance.user_id,
            items=instance.items or [],
            excluded_items=instance.excluded_items or [],
            size=instance.size,
            params=instance.params,
            call_id=instance.call_id,
            debug=instance.debug,
        )
        try:
            answer = await svc.aretrieve(query)
        except FilterError as exc:
            raise HTTPException(
                status_code=422,
                detail=[{"loc": ["body", "instances", 0, "params"], "msg": str(exc), "type": "value_error"}],
            ) from None
        # Written straight to JSON: the rows are built by the service in the documented shape, and
        # re-validating hundreds of them through the response model doubled the cost of a call.
        return Response(
            orjson.dumps(
                {
                    "predictions": answer.predictions,
                    "model_type": answer.model_type,
                    "fallback": answer.fallback,
                    "model_version": answer.model_version,
                    "call_id": answer.call_id,
                },
                option=orjson.OPT_SERIALIZE_NUMPY,
            ),
            media_type="application/json",
        )

    return app
