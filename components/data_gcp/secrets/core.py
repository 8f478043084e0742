"""Secret lookup. Every value read is registered with the log redactor before it is returned.

Locally a secret `brevo-api-key-native` is the variable `BREVO_API_KEY_NATIVE` (environment first,
then `.env.local` at the workspace root). In the cloud it is
`projects/<project>/secrets/<name>-<env>/versions/latest` in Secret Manager.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from data_gcp.config import DataGcpError, Settings, get_settings, workspace_root
from data_gcp.log import register_sensitive

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class MissingSecretError(DataGcpError):
    """Names the secret and where it was looked for; never a value."""

    exit_code = 2


def env_var_name(name: str) -> str:
    return name.upper().replace("-", "_")


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise DataGcpError(f"invalid secret name {name!r}: use lower-case letters, digits, '-' and '_'")


def _read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def _local_lookup(name: str) -> tuple[str | None, str]:
    var = env_var_name(name)
    env_file = workspace_root() / ".env.local"
    if os.environ.get(var):
        return os.environ[var], f"environment variable {var}"
    value = _read_env_file(env_file).get(var)
    return value or None, f"environment variable {var} or {env_file}"


def _secret_manager_lookup(name: str, settings: Settings) -> tuple[str | None, str]:
    path = f"projects/{settings.project_id}/secrets/{name}-{settings.env.value}/versions/latest"
    from google.api_core import exceptions as gexc
    from google.cloud import secretmanager

    client = secretmanager.SecretManagerServiceClient()
    try:
        response = client.access_secret_version(request={"name": path})
    except (gexc.NotFound, gexc.PermissionDenied) as err:
        raise MissingSecretError(
            f"secret {name!r} not readable at Secret Manager {path} ({type(err).__name__})"
        ) from None
    return response.payload.data.decode("utf-8"), f"Secret Manager {path}"


def get_secret(name: str, settings: Settings | None = None) -> str:
    """The secret's value; raises MissingSecretError naming the secret and the place looked at."""
    _check_name(name)
    settings = settings or get_settings()
    if settings.is_cloud:
        value, where = _secret_manager_lookup(name, settings)
    else:
        value, where = _local_lookup(name)
    if not value:
        raise MissingSecretError(f"secret {name!r} is not set (looked in {where})")
    register_sensitive(value)
    return value


def has_secret(name: str, settings: Settings | None = None) -> bool:
    """Whether a local secret is set, without reading it into the redactor (cloud: not checked, True)."""
    settings = settings or get_settings()
    if settings.is_cloud:
        return True
    value, _ = _local_lookup(name)
    return bool(value)


def secret_names_set(candidates: list[str]) -> list[str]:
    """Which of these secret names are set locally (names only, for `data-gcp env`)."""
    return [name for name in candidates if has_secret(name)]
