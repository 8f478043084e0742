"""Self-contained HTML reports of a training run (inline SVG charts, no script, no CDN).

A job writes `report.html` next to the run's artifacts in the bucket; `data-gcp ui` links it.
"""

from data_gcp.model_report.charts import bar_chart, line_chart
from data_gcp.model_report.core import (
    REPORT_FILE,
    calibration_bins,
    ranker_report,
    two_tower_report,
)

__all__ = [
    "REPORT_FILE",
    "bar_chart",
    "calibration_bins",
    "line_chart",
    "ranker_report",
    "two_tower_report",
]
