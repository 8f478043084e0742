"""HTTP base of the retrieval service (FastAPI app factory)."""

from data_gcp.retrieval_api.app import create_app, default_loader, get_service

__all__ = ["create_app", "default_loader", "get_service"]
