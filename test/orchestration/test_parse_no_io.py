"""Parsing the DAGs does no network I/O and reads no secret (the DAG processor parses every few seconds)."""

from __future__ import annotations

import socket


class _Blocked(AssertionError):
    pass


def test_dagbag_loads_with_sockets_and_secrets_blocked(load_dagbag, monkeypatch):
    attempts: list[str] = []

    def no_network(*args, **kwargs):  # noqa: ANN002, ANN003
        attempts.append(f"socket {args[:1]}")
        raise _Blocked("network access while parsing DAGs")

    def no_secret(name, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        attempts.append(f"secret {name}")
        raise _Blocked(f"secret {name!r} read while parsing DAGs")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    import data_gcp.secrets as secrets_pkg
    import data_gcp.secrets.core as secrets_core

    monkeypatch.setattr(secrets_core, "get_secret", no_secret)
    monkeypatch.setattr(secrets_pkg, "get_secret", no_secret)
    monkeypatch.setattr(secrets_core, "_secret_manager_lookup", no_secret)

    bag = load_dagbag()
    assert bag.import_errors == {}
    assert bag.dags
    assert attempts == []


def test_the_guard_catches_a_dag_that_does_io(monkeypatch, tmp_path):
    """The guard itself works: a DAG file that opens a socket at parse time fails to import."""
    from airflow.dag_processing.dagbag import DagBag

    def no_network(*args, **kwargs):  # noqa: ANN002, ANN003
        raise _Blocked("network access while parsing DAGs")

    monkeypatch.setattr(socket, "create_connection", no_network)
    (tmp_path / "bad_dag.py").write_text(
        "import socket\nfrom airflow.sdk import DAG\n"
        "socket.create_connection(('example.com', 80))\n"
        "DAG('bad')\n"
    )
    bag = DagBag(dag_folder=str(tmp_path), safe_mode=False)
    assert bag.import_errors, "a parse-time socket should have been blocked"
    assert "network access" in next(iter(bag.import_errors.values()))
