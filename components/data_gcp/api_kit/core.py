"""What both FastAPI services share: the 422 problem schema and the OpenAPI document of a body the
route parses itself.

Why a component: the retrieval and ranking APIs are separate deployables (one base each) that answer
errors the same way and document their request bodies the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(BaseModel):
    """422: each wrong field with where it is (`loc`) and what is wrong (`msg`)."""

    detail: list[FieldProblem]


def document_request_schemas(app: FastAPI, schemas: Callable[[], dict[str, Any]]) -> None:
    """Add `schemas()` to the app's OpenAPI components: a route that parses its body itself (strict JSON)
    gets no schema from FastAPI, yet the document must say exactly what is accepted."""

    def openapi() -> dict:
        if app.openapi_schema is None:
            doc = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            doc.setdefault("components", {}).setdefault("schemas", {}).update(schemas())
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
