"""Every deploy plan of every project and env: real names, the right commands, no secret values."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest

from data_gcp.brick_graph import list_projects
from data_gcp.config import ConfigError, Env, get_settings, reset_settings, workspace_root
from data_gcp.deploy import DEFAULT_TARGETS, DeployError, Plan, build_plan, deploy_target

ROOT = workspace_root(Path(__file__).parent)
# the deployable projects: those with a `[tool.data-gcp.deploy]` target (`poly create project` makes
# one without; `data-gcp deploy` refuses it, naming the table to add)
PROJECTS = {name: p for name, p in list_projects(ROOT).items() if p.deploy.get("target")}
ENVS = ["dev", "stg", "prod"]
TAG = "0123456789ab"


def _argvs(plan: Plan) -> list[list[str]]:
    return [list(step.argv) for step in plan.steps]


def _flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_the_five_projects_exist() -> None:
    assert {"composer", "etl_job", "ml_job", "retrieval_endpoint", "ranking_endpoint"} <= set(PROJECTS)


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_plan_builds_then_deploys_with_the_env_names(name: str, env: str) -> None:
    project = PROJECTS[name]
    target = deploy_target(env)
    plan = build_plan(project, target, TAG)
    argvs = _argvs(plan)
    assert argvs[0][:4] == ["uv", "build", "--package", project.package]
    assert argvs[1][:2] == ["uv", "export"] and "--frozen" in argvs[1] and "--no-dev" in argvs[1]
    text = plan.render()
    assert target.project_id in text
    # never the names of another env
    for other, other_target in DEFAULT_TARGETS.items():
        if other.value != env and other_target.project_id != target.project_id:
            assert other_target.project_id not in text
    kind = project.deploy["target"]
    if kind == "composer":
        bucket = f"gs://{target.composer_bucket}"
        rsyncs = [a for a in argvs if a[:3] == ["gcloud", "storage", "rsync"]]
        assert {a[3] for a in rsyncs} == {"orchestration/dags", "dbt"}
        assert {a[4] for a in rsyncs} == {f"{bucket}/dags", f"{bucket}/data/dbt"}
        assert rsyncs[-1][3] == "orchestration/dags", "DAGs go last, once their bricks are installed"
        assert any(a[-2:] == [f"{bucket}/data/dbt/target/manifest.json", target.project_id] or
                   f"{bucket}/data/dbt/target/manifest.json" in a for a in argvs)  # fmt: skip
        update = [a for a in argvs if a[:4] == ["gcloud", "composer", "environments", "update"]]
        assert update and all(a[4] == target.composer_environment for a in update)
        assert any("--update-pypi-packages-from-file" in a for a in update)
        assert any(project.wheel_name in " ".join(a) for a in argvs[2:])
    else:
        image = f"{target.artifact_registry}/{name.replace('_', '-')}"
        build = next(a for a in argvs if a[:2] == ["docker", "build"])
        assert _flag(build, "--file") == f"projects/{name}/Dockerfile"
        assert f"{image}:{TAG}" in build
        assert ["docker", "push", "--all-tags", image] in argvs
        deploys = [
            a for a in argvs if a[:3] == ["gcloud", "run", "jobs"] or a[:3] == ["gcloud", "run", "deploy"]
        ]
        assert deploys
        for argv in deploys:
            assert _flag(argv, "--image") == f"{image}:{TAG}"
            assert _flag(argv, "--region") == target.region
            assert _flag(argv, "--project") == target.project_id
            assert _flag(argv, "--service-account") == target.service_account
            assert f"DATA_GCP_ENV={env}" in _flag(argv, "--set-env-vars")
            assert _flag(argv, "--memory").endswith("Gi")
        if kind == "cloud-run-service":
            assert _flag(deploys[0], "--port") == "8080"
            assert "--no-allow-unauthenticated" in deploys[0]


def test_dry_run_text_is_the_commands_it_runs() -> None:
    plan = build_plan(PROJECTS["etl_job"], deploy_target("stg"), TAG)
    lines = [line for line in plan.render().splitlines() if not line.startswith("#")]
    assert [shlex.split(line) for line in lines] == _argvs(plan)


def test_secrets_are_secret_manager_references_never_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_GCP_SOURCE_DATABASE_URL", "postgresql://u:hunter2@db/app")
    monkeypatch.setenv("BREVO_API_KEY_NATIVE", "sk-live-123")
    for name, project in PROJECTS.items():
        for env in ENVS:
            text = build_plan(project, deploy_target(env), TAG).render()
            assert "hunter2" not in text and "sk-live-123" not in text, name
    imports = build_plan(PROJECTS["etl_job"], deploy_target("prod"), TAG)
    job = next(a for a in _argvs(imports) if a[:5] == ["gcloud", "run", "jobs", "deploy", "import-job"])
    assert _flag(job, "--set-secrets") == "DATA_GCP_SOURCE_DATABASE_URL=source-database-url-prod:latest"


def test_secret_like_env_var_is_refused() -> None:
    project = PROJECTS["ranking_endpoint"]
    leaky = type(project)(**{**project.__dict__, "deploy": {**project.deploy, "env": {"API_TOKEN": "x"}}})
    with pytest.raises(DeployError, match="API_TOKEN looks like a secret"):
        build_plan(leaky, deploy_target("dev"), TAG)


def test_prod_keeps_a_warm_instance_and_dev_does_not() -> None:
    for env, expected in (("dev", "0"), ("prod", "1")):
        argv = _argvs(build_plan(PROJECTS["ranking_endpoint"], deploy_target(env), TAG))[-1]
        assert _flag(argv, "--min-instances") == expected


def test_settings_of_the_same_env_override_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_GCP_ENV", "prod")
    monkeypatch.setenv("DATA_GCP_PROJECT_ID", "other-prod")
    reset_settings()
    settings = get_settings()
    target = deploy_target("prod", settings, {"DATA_GCP_COMPOSER_BUCKET": "real-bucket"})
    assert target.project_id == "other-prod"
    assert target.artifact_registry == "europe-west1-docker.pkg.dev/other-prod/data-gcp"
    assert target.composer_bucket == "real-bucket"
    assert deploy_target("stg", settings) == DEFAULT_TARGETS[Env.stg]


def test_unknown_env_and_bad_tag_are_refused() -> None:
    with pytest.raises(ConfigError, match="expected one of dev, stg, prod"):
        deploy_target("local")
    with pytest.raises(DeployError, match="invalid image tag"):
        build_plan(PROJECTS["etl_job"], deploy_target("dev"), "a b")


def test_every_cloud_run_job_the_dags_run_is_deployed() -> None:
    from data_gcp import orchestration  # a broken import must fail the test, never skip it

    deployed = {
        a[4]
        for project in PROJECTS.values()
        for a in _argvs(build_plan(project, deploy_target("prod"), TAG))
        if a[:4] == ["gcloud", "run", "jobs", "deploy"]
    }
    wanted = {spec.job for spec in orchestration.schedule_table().values() if spec.job}  # dbt: workers
    assert wanted <= deployed, f"jobs run by DAGs but deployed by no project: {sorted(wanted - deployed)}"
    assert os.environ.get("DATA_GCP_ENV") == "local"


def test_a_missing_gcloud_or_docker_fails_before_any_build_step(tmp_path: Path) -> None:
    from data_gcp.deploy import Step, run_plan

    marker = tmp_path / "built"
    plan = Plan(
        "etl_job",
        "dev",
        (
            Step(("touch", str(marker)), "a local build step"),
            Step(("no-such-gcloud-xyz", "run", "jobs", "deploy"), "deploy"),
        ),
    )
    with pytest.raises(DeployError, match="needs no-such-gcloud-xyz, not found on PATH") as caught:
        run_plan(plan, tmp_path)
    assert not marker.exists(), "a build step ran before the missing tool was found"
    # the message names the missing program only, not tools that are there
    assert "docker" not in str(caught.value) and "gcloud:" not in str(caught.value), caught.value


def test_the_missing_tool_message_names_only_the_missing_tool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from data_gcp.deploy import Step, run_plan

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gcloud = bin_dir / "gcloud"
    gcloud.write_text("#!/bin/sh\nexit 0\n")
    gcloud.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))  # gcloud is there, docker is not
    plan = Plan(
        "etl_job", "dev", (Step(("docker", "build", "."), "build"), Step(("gcloud", "run"), "deploy"))
    )
    with pytest.raises(DeployError) as caught:
        run_plan(plan, tmp_path)
    message = str(caught.value)
    assert "needs docker, not found on PATH" in message and "https://docs.docker.com/get-docker/" in message
    assert "gcloud" not in message, message


def _git(root: Path, *args: str) -> None:
    import subprocess

    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=root, check=True, capture_output=True,
    )  # fmt: skip


def test_a_dirty_tree_is_refused_or_tagged_dirty_when_allowed(tmp_path: Path) -> None:
    from data_gcp.deploy import commit_tag

    (tmp_path / "a.py").write_text("x = 1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "base")
    clean = commit_tag(tmp_path)
    assert len(clean) == 12
    (tmp_path / "a.py").write_text("x = 2\n")
    with pytest.raises(DeployError, match=r"uncommitted changes \(a.py\).*--allow-dirty"):
        commit_tag(tmp_path)
    assert commit_tag(tmp_path, allow_dirty=True) == f"{clean}-dirty"
    _git(tmp_path, "checkout", "a.py")
    (tmp_path / "new.py").write_text("")  # untracked files would be built into the image too
    with pytest.raises(DeployError, match="new.py"):
        commit_tag(tmp_path)


def test_an_explicit_tag_never_bypasses_the_dirty_tree_refusal(tmp_path: Path) -> None:
    """CD always passes `--tag <sha>`: the tag names the image, it does not make the tree clean."""
    from data_gcp.deploy import image_tag

    (tmp_path / "a.py").write_text("x = 1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "base")
    assert image_tag(tmp_path, "abc123") == "abc123"
    (tmp_path / "a.py").write_text("x = 2\n")
    with pytest.raises(DeployError, match=r"uncommitted changes \(a.py\)"):
        image_tag(tmp_path, "abc123")
    assert image_tag(tmp_path, "abc123", allow_dirty=True) == "abc123-dirty"


def test_services_get_the_sized_concurrency_and_workers_of_their_project() -> None:
    """Cloud Run sends at most `concurrency` requests to an instance; uvicorn runs `WEB_CONCURRENCY` workers."""
    for name, concurrency in (("retrieval_endpoint", "16"), ("ranking_endpoint", "8")):
        argv = _argvs(build_plan(PROJECTS[name], deploy_target("prod"), TAG))[-1]
        assert _flag(argv, "--concurrency") == concurrency, name
        assert "WEB_CONCURRENCY=1" in _flag(argv, "--set-env-vars"), name


def test_cloud_run_jobs_are_deployed_with_their_task_count() -> None:
    """`--tasks` is the job's `tasks` (1 by default): an execution started by hand runs that many."""
    import dataclasses

    argv = _argvs(build_plan(PROJECTS["ml_job"], deploy_target("prod"), TAG))[-1]
    assert argv[:5] == ["gcloud", "run", "jobs", "deploy", "ml-job"]
    assert _flag(argv, "--tasks") == str(PROJECTS["ml_job"].deploy["jobs"]["ml-job"].get("tasks", 1))
    deploy = {"target": "cloud-run-job", "jobs": {"sharded-job": {"tasks": 4, "prod": {"tasks": 8}}}}
    project = dataclasses.replace(PROJECTS["ml_job"], deploy=deploy)
    for env, tasks in (("dev", "4"), ("prod", "8")):
        argv = _argvs(build_plan(project, deploy_target(env), TAG))[-1]
        assert _flag(argv, "--tasks") == tasks
    for bad in (0, "4", True):
        project = dataclasses.replace(PROJECTS["ml_job"], deploy={**deploy, "jobs": {"j": {"tasks": bad}}})
        with pytest.raises(DeployError, match="tasks"):
            build_plan(project, deploy_target("dev"), TAG)
