"""Developer-only wiring: the sandbox's planted-taste oracle as a reference of `data-gcp ml train two-tower`.

Why a hook: the training command ships in the production job image, which must not import test
support; the developer CLI installs this provider, which reads the truth tables only where they exist.
"""

from __future__ import annotations

from typing import Any


def sandbox_oracle(warehouse: Any) -> dict[str, Any]:
    from data_gcp.planted_truth import sandbox_references

    return sandbox_references(warehouse)


def install() -> None:
    """Add the oracle to the ML job's reference providers (the developer CLI composes that base)."""
    from data_gcp import ml_job

    if sandbox_oracle not in ml_job.reference_providers:
        ml_job.reference_providers.append(sandbox_oracle)
