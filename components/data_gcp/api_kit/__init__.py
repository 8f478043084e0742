"""Shared pieces of the HTTP services: the 422 problem schema, the OpenAPI document of parsed bodies."""

from data_gcp.api_kit.core import FieldProblem, ValidationProblem, document_request_schemas

__all__ = ["FieldProblem", "ValidationProblem", "document_request_schemas"]
