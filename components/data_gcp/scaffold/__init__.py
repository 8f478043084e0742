"""Scaffolds for new connectors, ML jobs and services (`data-gcp new ...`), on top of `poly create`."""

from data_gcp.scaffold.core import KINDS, ScaffoldError, ScaffoldResult, check_name, scaffold

__all__ = ["KINDS", "ScaffoldError", "ScaffoldResult", "check_name", "scaffold"]
