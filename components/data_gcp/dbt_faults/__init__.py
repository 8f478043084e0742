"""The planted-fault catalogue of the dbt data tests, and its runner (`data-gcp dbt faults`).

Why: a data test proves something only if some realistic fault makes it fail. Each fault of the
catalogue breaks one thing in a copy of the raw layer (a duplicate key, an orphan, an overspent
deposit, a cancelled booking without a date, a lost day of events...) and names the tests that must
catch it; the runner scores the catch per class of fault and lists the tests that no fault makes
fail. Test support: it belongs to no deployable.
"""

from data_gcp.dbt_faults.catalogue import CATALOGUE, CLASSES, Fault
from data_gcp.dbt_faults.core import (
    BASE_SCALE,
    KEPT_WITHOUT_FAULT,
    CatalogueReport,
    FaultResult,
    FaultRunError,
    data_test_names,
    load_raw_layer,
    markdown_table,
    plan_batches,
    plant,
    prepare_base,
    run_catalogue,
)

__all__ = [
    "BASE_SCALE",
    "CATALOGUE",
    "CLASSES",
    "KEPT_WITHOUT_FAULT",
    "CatalogueReport",
    "Fault",
    "FaultResult",
    "FaultRunError",
    "data_test_names",
    "load_raw_layer",
    "markdown_table",
    "plan_batches",
    "plant",
    "prepare_base",
    "run_catalogue",
]
