import logging

import pytest

from data_gcp.log import RedactingFilter
from data_gcp.secrets import MissingSecretError, env_var_name, get_secret, has_secret


def test_env_var_name():
    assert env_var_name("brevo-api-key-native") == "BREVO_API_KEY_NATIVE"


def test_reads_environment_first(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_GCP_WORKSPACE_ROOT", str(tmp_path))
    (tmp_path / ".env.local").write_text("MY_TOKEN=from-file-value\n")
    monkeypatch.setenv("MY_TOKEN", "from-env-value")
    assert get_secret("my-token") == "from-env-value"


def test_reads_env_local_file(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_GCP_WORKSPACE_ROOT", str(tmp_path))
    (tmp_path / ".env.local").write_text("# comment\nexport OTHER_TOKEN='quoted-secret-42'\n")
    monkeypatch.delenv("OTHER_TOKEN", raising=False)
    assert get_secret("other-token") == "quoted-secret-42"
    assert has_secret("other-token")


def test_missing_secret_names_it_and_where(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_GCP_WORKSPACE_ROOT", str(tmp_path))
    monkeypatch.delenv("NOPE_TOKEN", raising=False)
    with pytest.raises(MissingSecretError) as exc:
        get_secret("nope-token")
    assert "nope-token" in str(exc.value) and "NOPE_TOKEN" in str(exc.value)
    assert not has_secret("nope-token")


def test_invalid_name_refused():
    with pytest.raises(Exception, match="invalid secret name"):
        get_secret("../etc/passwd")


def test_value_read_is_redacted_in_logs(monkeypatch, caplog):
    monkeypatch.setenv("LEAKY_TOKEN", "s3cr3t-value-xyz")
    value = get_secret("leaky-token")
    logger = logging.getLogger("test.secrets.redaction")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="test.secrets.redaction"):
        logger.info("calling https://api.example/?key=%s", value)
        try:
            raise RuntimeError(f"boom with {value}")
        except RuntimeError:
            logger.exception("failed")
    assert "s3cr3t-value-xyz" not in caplog.text
    assert "***" in caplog.text


def test_cloud_path_uses_secret_manager_name(monkeypatch):
    """The Secret Manager path is `projects/<p>/secrets/<name>-<env>/versions/latest` (GCP mocked)."""
    from google.cloud import secretmanager

    from data_gcp.config.core import load_settings

    seen = {}

    class FakeClient:
        def access_secret_version(self, request):
            seen["name"] = request["name"]

            class Payload:
                data = b"cloud-secret-value"

            class Response:
                payload = Payload()

            return Response()

    monkeypatch.setattr(secretmanager, "SecretManagerServiceClient", FakeClient)
    settings = load_settings(env="prod", project_id="pc-data-prod")
    assert get_secret("brevo-api-key-pro", settings) == "cloud-secret-value"
    assert seen["name"] == "projects/pc-data-prod/secrets/brevo-api-key-pro-prod/versions/latest"
