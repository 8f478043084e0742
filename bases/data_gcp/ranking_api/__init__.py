"""The ranking service (FastAPI): `POST /predict` scores candidates, `GET /isalive` says if a model is loaded."""

from data_gcp.ranking_api.app import MODEL_PATH_ENV, create_app

__all__ = ["MODEL_PATH_ENV", "create_app"]
