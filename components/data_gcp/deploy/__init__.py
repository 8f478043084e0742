"""Deploy a project to dev, stg or prod: Composer (DAGs, dbt, wheel) or Cloud Run (image, job/service)."""

from data_gcp.deploy.plans import DeployError, Plan, Step, build_argv, build_plan, export_argv, image_name
from data_gcp.deploy.runner import commit_tag, image_tag, missing_tools, run_plan
from data_gcp.deploy.targets import (
    DEFAULT_TARGETS,
    DEPLOY_ENVS,
    OVERRIDE_VARS,
    DeployTarget,
    deploy_target,
    parse_env,
)

__all__ = [
    "DEFAULT_TARGETS",
    "DEPLOY_ENVS",
    "OVERRIDE_VARS",
    "DeployError",
    "DeployTarget",
    "Plan",
    "Step",
    "build_argv",
    "build_plan",
    "commit_tag",
    "image_tag",
    "missing_tools",
    "deploy_target",
    "export_argv",
    "image_name",
    "parse_env",
    "run_plan",
]
