"""Where each environment deploys: GCP project, region, registry, service account, Composer.

Why a table in code: the names are not secrets and change rarely; a reviewer reads them here, and
CI overrides any of them through the usual settings (`DATA_GCP_PROJECT_ID`, ...) when it deploys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from data_gcp.config import ConfigError, Env, Settings

DEPLOY_ENVS = (Env.dev, Env.stg, Env.prod)


@dataclass(frozen=True)
class DeployTarget:
    env: Env
    project_id: str
    region: str
    artifact_registry: str  # <region>-docker.pkg.dev/<project>/<repository>
    service_account: str
    composer_environment: str
    composer_bucket: str

    @property
    def registry_host(self) -> str:
        return self.artifact_registry.split("/", 1)[0]


def _default(env: Env, project_id: str) -> DeployTarget:
    region = "europe-west1"
    return DeployTarget(
        env=env,
        project_id=project_id,
        region=region,
        artifact_registry=f"{region}-docker.pkg.dev/{project_id}/data-gcp",
        service_account=f"data-gcp-{env.value}@{project_id}.iam.gserviceaccount.com",
        composer_environment=f"data-composer-{env.value}",
        composer_bucket=f"{region}-data-composer-{env.value}-bucket",
    )


DEFAULT_TARGETS: dict[Env, DeployTarget] = {
    Env.dev: _default(Env.dev, "passculture-data-dev"),
    Env.stg: _default(Env.stg, "passculture-data-stg"),
    Env.prod: _default(Env.prod, "passculture-data-prod"),
}

OVERRIDE_VARS = {
    "composer_environment": "DATA_GCP_COMPOSER_ENVIRONMENT",
    "composer_bucket": "DATA_GCP_COMPOSER_BUCKET",
}


def parse_env(value: str | Env) -> Env:
    try:
        env = Env(value)
    except ValueError:
        env = None
    if env not in DEPLOY_ENVS:
        raise ConfigError(f"cannot deploy to env {value!r}: expected one of dev, stg, prod")
    return env


def deploy_target(
    env: str | Env, settings: Settings | None = None, overrides: Mapping[str, str] | None = None
) -> DeployTarget:
    """The target of `env`: the default table, overridden by `settings` when they describe that env.

    `overrides` maps the variables of OVERRIDE_VARS (Composer names, not in Settings) to values.
    """
    env = parse_env(env)
    target = DEFAULT_TARGETS[env]
    if settings is not None and settings.env == env:
        changes: dict[str, str] = {}
        if settings.project_id and settings.project_id != target.project_id:
            changes.update(
                project_id=settings.project_id,
                artifact_registry=f"{settings.region}-docker.pkg.dev/{settings.project_id}/data-gcp",
                service_account=f"data-gcp-{env.value}@{settings.project_id}.iam.gserviceaccount.com",
            )
        changes["region"] = settings.region
        if settings.artifact_registry:
            changes["artifact_registry"] = settings.artifact_registry
        if settings.service_account:
            changes["service_account"] = settings.service_account
        target = replace(target, **changes)
    for field, var in OVERRIDE_VARS.items():
        if overrides and overrides.get(var):
            target = replace(target, **{field: overrides[var]})
    return target
