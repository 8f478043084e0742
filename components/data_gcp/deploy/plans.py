"""Deploy plans: the exact commands that deploy a project to an environment, built by pure functions.

Why plans as data: `--dry-run` prints them, tests check them for every project and env, and the real
run executes the very same list. Plans hold names only; secrets stay in Secret Manager and are
referenced with `--set-secrets VAR=<secret>-<env>:latest`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from data_gcp.brick_graph import Project
from data_gcp.config import NO_TELEMETRY_ENV, DataGcpError
from data_gcp.deploy.targets import DeployTarget

TARGET_KINDS = ("composer", "cloud-run-job", "cloud-run-service")
_SECRET_LIKE = re.compile(r"(PASSWORD|TOKEN|SECRET|API_KEY|_KEY$|DATABASE_URL|CREDENTIAL)", re.IGNORECASE)


class DeployError(DataGcpError):
    """A deploy could not be planned or a step failed; names the project, env and step."""


@dataclass(frozen=True)
class Step:
    """One command of a plan (argv, never a shell string), with why it runs."""

    argv: tuple[str, ...]
    why: str
    env: Mapping[str, str] = field(default_factory=dict)

    def shell(self) -> str:
        prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(self.env.items()))
        return (prefix + " " if prefix else "") + shlex.join(self.argv)


@dataclass(frozen=True)
class Plan:
    project: str
    env: str
    steps: tuple[Step, ...]

    def render(self) -> str:
        lines = [f"# deploy {self.project} to {self.env}: {len(self.steps)} step(s)"]
        for i, step in enumerate(self.steps, 1):
            lines.append(f"# {i}. {step.why}")
            lines.append(step.shell())
        return "\n".join(lines)


def _settings_for(project: Project, env: str) -> dict[str, Any]:
    """`[tool.data-gcp.deploy]` merged with its per-env table (e.g. `[tool.data-gcp.deploy.prod]`)."""
    base = {k: v for k, v in project.deploy.items() if k not in ("dev", "stg", "prod")}
    base.update(project.deploy.get(env, {}))
    kind = base.get("target")
    if kind not in TARGET_KINDS:
        raise DeployError(
            f"{project.path / 'pyproject.toml'}: [tool.data-gcp.deploy] target is {kind!r}; "
            f"expected one of {', '.join(TARGET_KINDS)}"
        )
    return base


def export_argv(project: Project, output_file: str | None = None) -> tuple[str, ...]:
    """`uv export` of the project's pinned third-party requirements, exactly what its image installs.

    Requirements the target provides itself (`exclude-dependencies`: Composer's own Airflow) are pruned
    with everything only they need, so the export never pins or downgrades them.
    """
    prune = [arg for name in project.exclude_dependencies for arg in ("--prune", name)]
    output = ["--output-file", output_file] if output_file else []
    return (
        "uv", "export", "--package", project.package, "--frozen", "--no-dev", "--no-hashes",
        "--no-emit-workspace", "--no-header", "--no-annotate", *prune, *output,
    )  # fmt: skip


def build_argv(project: Project, out_dir: str) -> tuple[str, ...]:
    """`uv build` of the project's wheel (only its bricks), exactly what its image installs `--no-deps`."""
    return ("uv", "build", "--package", project.package, "--wheel", "--out-dir", out_dir)


def _build_steps(project: Project, out_dir: str) -> list[Step]:
    return [
        Step(
            build_argv(project, out_dir),
            f"build the {project.package} wheel (only its bricks; version 0.1.0+g<commit>)",
        ),
        Step(
            export_argv(project, f"{out_dir}/requirements.txt"),
            "pin its third-party requirements from the one lock",
        ),
    ]


def _runtime_env(target: DeployTarget, settings: Mapping[str, Any]) -> dict[str, str]:
    env = {
        "DATA_GCP_ENV": target.env.value,
        "DATA_GCP_PROJECT_ID": target.project_id,
        "DATA_GCP_REGION": target.region,
    }
    for key, value in settings.get("env", {}).items():
        if _SECRET_LIKE.search(key):
            raise DeployError(
                f"env var {key} looks like a secret: declare it under [tool.data-gcp.deploy.secrets] "
                "(a Secret Manager reference) instead of [tool.data-gcp.deploy.env]"
            )
        env[key] = str(value)
    return env


def _secrets_flag(target: DeployTarget, settings: Mapping[str, Any]) -> list[str]:
    secrets = settings.get("secrets", {})
    if not secrets:
        return []
    refs = ",".join(f"{var}={name}-{target.env.value}:latest" for var, name in sorted(secrets.items()))
    return ["--set-secrets", refs]


def _env_flag(env: Mapping[str, str]) -> list[str]:
    return ["--set-env-vars", ",".join(f"{k}={v}" for k, v in env.items())]


def image_name(project: Project, target: DeployTarget) -> str:
    return f"{target.artifact_registry}/{project.name.replace('_', '-')}"


def composer_plan(project: Project, target: DeployTarget, settings: Mapping[str, Any]) -> list[Step]:
    out = f"dist/{project.name}"
    bucket = f"gs://{target.composer_bucket}"
    environment = target.composer_environment
    wheel = project.wheel_name  # its version is read from git: once per plan
    wheel_in_bucket = f"{bucket}/plugins/wheels/{wheel}"
    wheel_on_workers = f"/home/airflow/gcs/plugins/wheels/{wheel}"
    gproject = ("--project", target.project_id)
    return [
        *_build_steps(project, out),
        Step(
            ("uv", "run", "--frozen", "data-gcp", "dbt", "parse", "--target", target.env.value),
            "precompile the dbt manifest for this env",
            env={"DATA_GCP_ENV": target.env.value, "DATA_GCP_PROJECT_ID": target.project_id},
        ),
        Step(("gcloud", "storage", "cp", f"{out}/{wheel}", wheel_in_bucket, *gproject),
             "upload the wheel next to the DAGs (plugins/ is mounted on every worker)"),
        Step(("sh", "-c", f"printf '%s\\n' {wheel_on_workers} >> {out}/requirements.txt"),
             "add the wheel itself to the environment's requirements"),
        Step(
            ("gcloud", "composer", "environments", "update", environment, "--location", target.region,
             *gproject, "--update-pypi-packages-from-file", f"{out}/requirements.txt"),
            "install the pinned requirements and the wheel as the environment's package",
        ),
        Step(
            ("gcloud", "composer", "environments", "update", environment, "--location", target.region,
             *gproject, "--update-env-variables",
             ",".join(f"{k}={v}" for k, v in {**_runtime_env(target, settings),
                                               "DATA_GCP_WORKSPACE_ROOT": "/home/airflow/gcs/data",
                                               **NO_TELEMETRY_ENV}.items())),
            "point the bricks at this env and at the dbt project synced under data/; no telemetry",
        ),  # fmt: skip
        Step(
            ("gcloud", "storage", "rsync", "dbt", f"{bucket}/data/dbt", "--recursive",
             "--delete-unmatched-destination-objects",
             "--exclude", r"^(target|logs|dbt_packages)/|(^|/)__pycache__/|^\.user\.yml$", *gproject),
            "sync the dbt project",
        ),
        Step(("gcloud", "storage", "cp", "dbt/target/manifest.json", f"{bucket}/data/dbt/target/manifest.json",
              *gproject), "upload the precompiled manifest"),
        Step(
            ("gcloud", "storage", "rsync", "orchestration/dags", f"{bucket}/dags", "--recursive",
             "--delete-unmatched-destination-objects", "--exclude", r"(^|/)__pycache__/", *gproject),
            "sync the DAG files last, once the bricks they import are installed",
        ),
    ]  # fmt: skip


def _job_step(name: str, image: str, tag: str, target: DeployTarget, job: Mapping[str, Any]) -> Step:
    tasks = job.get("tasks", 1)
    if isinstance(tasks, bool) or not isinstance(tasks, int) or tasks < 1:
        raise DeployError(
            f"Cloud Run job {name}: tasks = {tasks!r} in [tool.data-gcp.deploy.jobs.{name}]; "
            "it must be an integer >= 1 (the tasks of an execution started without an override)"
        )
    return Step(
        ("gcloud", "run", "jobs", "deploy", name,
         "--image", f"{image}:{tag}", "--region", target.region, "--project", target.project_id,
         "--service-account", target.service_account,
         "--memory", str(job.get("memory", "2Gi")), "--cpu", str(job.get("cpu", "1")),
         "--task-timeout", str(job.get("task-timeout", "3600s")),
         # tasks of an execution started without an override (a DAG task overrides it per run)
         "--tasks", str(tasks),
         "--max-retries", str(job.get("max-retries", 0)),
         *_env_flag(_runtime_env(target, job)), *_secrets_flag(target, job)),
        f"deploy the Cloud Run job {name} (DAG tasks run it with their own args)",
    )  # fmt: skip


def _service_step(name: str, image: str, tag: str, target: DeployTarget, svc: Mapping[str, Any]) -> Step:
    return Step(
        ("gcloud", "run", "deploy", name,
         "--image", f"{image}:{tag}", "--region", target.region, "--project", target.project_id,
         "--service-account", target.service_account,
         "--memory", str(svc.get("memory", "2Gi")), "--cpu", str(svc.get("cpu", "1")),
         "--port", str(svc.get("port", 8080)),
         "--min-instances", str(svc.get("min-instances", 0)),
         "--max-instances", str(svc.get("max-instances", 10)),
         "--concurrency", str(svc.get("concurrency", 80)),
         "--no-allow-unauthenticated",
         *_env_flag(_runtime_env(target, svc)), *_secrets_flag(target, svc)),
        f"deploy the Cloud Run service {name}",
    )  # fmt: skip


def cloud_run_plan(
    project: Project, target: DeployTarget, settings: Mapping[str, Any], tag: str
) -> list[Step]:
    """Build the image once, push it, then deploy each job (or the service) of the project.

    Job names are those the DAGs run (`DagSpec.job`: etl-job, import-job, ...); each env is its own
    GCP project, so names carry no env suffix.
    """
    out = f"dist/{project.name}"
    image = image_name(project, target)
    steps = [
        *_build_steps(project, out),
        Step(
            (
                "docker",
                "build",
                "--file",
                f"projects/{project.name}/Dockerfile",
                "--tag",
                f"{image}:{tag}",
                "--tag",
                f"{image}:{target.env.value}",
                ".",
            ),
            "build the image (context: the workspace, filtered by the Dockerfile's .dockerignore)",
        ),  # fmt: skip
        Step(
            ("gcloud", "auth", "configure-docker", target.registry_host, "--quiet"),
            "let docker push to Artifact Registry",
        ),  # fmt: skip
        Step(("docker", "push", "--all-tags", image), "push the image"),
    ]
    if settings["target"] == "cloud-run-job":
        jobs = settings.get("jobs", {})
        if not jobs:
            raise DeployError(f"{project.name}: [tool.data-gcp.deploy.jobs] lists no job to deploy")
        for name, job in sorted(jobs.items()):
            merged = {**job, **job.get(target.env.value, {})}
            steps.append(_job_step(name, image, tag, target, merged))
    else:
        steps.append(
            _service_step(settings.get("name", project.name.replace("_", "-")), image, tag, target, settings)
        )
    return steps


def build_plan(project: Project, target: DeployTarget, tag: str) -> Plan:
    """The plan deploying `project` to `target` (pure: same inputs, same commands)."""
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag):
        raise DeployError(f"invalid image tag {tag!r}: letters, digits, '_', '.', '-' only")
    settings = _settings_for(project, target.env.value)
    if settings["target"] == "composer":
        steps = composer_plan(project, target, settings)
    else:
        steps = cloud_run_plan(project, target, settings, tag)
    return Plan(project=project.name, env=target.env.value, steps=tuple(steps))
