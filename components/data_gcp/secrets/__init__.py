"""Secrets by name: Secret Manager in the cloud, `.env.local` / environment locally."""

from data_gcp.secrets.core import (
    MissingSecretError,
    env_var_name,
    get_secret,
    has_secret,
    secret_names_set,
)

__all__ = ["MissingSecretError", "env_var_name", "get_secret", "has_secret", "secret_names_set"]
