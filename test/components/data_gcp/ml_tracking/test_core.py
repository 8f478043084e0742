from pathlib import Path

from data_gcp.ml_tracking import track_run


def test_a_run_is_logged_with_params_metrics_and_files(settings, tmp_path: Path) -> None:
    artifact = tmp_path / "spec.json"
    artifact.write_text("{}")
    run_id = track_run(
        "unit-test",
        run_name="r1",
        params={"learning_rate": 0.1},
        metrics={"log_loss": 0.5},
        artifacts=[artifact],
        tags={"run_id": "r1"},
        settings=settings,
        strict=True,
    )
    assert run_id
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=settings.tracking_uri)
    run = client.get_run(run_id)
    assert run.data.params == {"learning_rate": "0.1"}
    assert run.data.metrics == {"log_loss": 0.5}
    assert run.data.tags["run_id"] == "r1"
    assert [a.path for a in client.list_artifacts(run_id)] == ["spec.json"]
    assert settings.tracking_uri.startswith(settings.local_data_dir.as_uri())  # inside the test's folder


def test_tracking_failures_do_not_fail_the_job(settings, tmp_path: Path) -> None:
    missing = tmp_path / "does-not-exist.json"
    assert track_run("unit-test", run_name="r2", artifacts=[missing], settings=settings) is None
