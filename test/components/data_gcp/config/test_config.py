from pathlib import Path

import pytest

from data_gcp.config import ConfigError, Env, get_settings, reset_settings
from data_gcp.config.core import load_settings


def test_local_defaults(settings, isolated_env: Path):
    assert settings.env is Env.local
    assert settings.dataset("raw") == "raw"
    assert settings.duckdb_path == isolated_env / "warehouse.duckdb"
    assert settings.source_url.startswith("sqlite:///") and settings.source_url.endswith("app.sqlite")
    assert settings.bucket_name == "data-bucket-local"


def test_cloud_suffixes_datasets(monkeypatch):
    monkeypatch.setenv("DATA_GCP_ENV", "prod")
    monkeypatch.setenv("DATA_GCP_PROJECT_ID", "passculture-data-prod")
    reset_settings()
    s = get_settings()
    assert s.is_cloud
    assert [s.dataset(d) for d in ("raw", "clean", "analytics", "ml", "seed", "tmp")] == [
        "raw_prod",
        "clean_prod",
        "analytics_prod",
        "ml_prod",
        "seed_prod",
        "tmp_prod",
    ]
    assert s.bucket_name == "data-bucket-prod"


def test_cloud_without_project_names_the_variable(monkeypatch):
    monkeypatch.setenv("DATA_GCP_ENV", "stg")
    with pytest.raises(ConfigError, match="DATA_GCP_PROJECT_ID"):
        load_settings()


def test_unknown_env_names_the_variable(monkeypatch):
    monkeypatch.setenv("DATA_GCP_ENV", "staging")
    with pytest.raises(ConfigError, match="DATA_GCP_ENV"):
        load_settings()


def test_unknown_dataset_is_refused(settings):
    with pytest.raises(ConfigError, match="unknown dataset"):
        settings.dataset("rawz")


def test_env_local_file_is_read(tmp_path, monkeypatch):
    (tmp_path / "workspace.toml").write_text("")
    (tmp_path / ".env.local").write_text("DATA_GCP_BUCKET=my-bucket\nDATA_GCP_REGION=europe-west9\n")
    monkeypatch.setenv("DATA_GCP_WORKSPACE_ROOT", str(tmp_path))
    s = load_settings()
    assert s.bucket_name == "my-bucket"
    assert s.region == "europe-west9"


def test_environment_wins_over_env_file(tmp_path, monkeypatch):
    (tmp_path / ".env.local").write_text("DATA_GCP_BUCKET=from-file\n")
    monkeypatch.setenv("DATA_GCP_WORKSPACE_ROOT", str(tmp_path))
    monkeypatch.setenv("DATA_GCP_BUCKET", "from-env")
    assert load_settings().bucket_name == "from-env"
