"""A trained ranker: LightGBM booster + feature spec, saved as two files, loaded from a folder or the bucket.

Layout (a folder, or a bucket prefix `models/ranker/<run_id>/`):
- `model.txt`: LightGBM's text format (readable, stable across LightGBM versions);
- `spec.json`: feature names in model order, categorical vocabularies, run id and training metrics.
`models/ranker/latest` is a one-line object holding the newest run id: it is written last, so a
service never loads a half-written run.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from data_gcp.config import DataGcpError
from data_gcp.ranking.features import FeatureSpec
from data_gcp.storage import Storage, StorageError

MODEL_FILE = "model.txt"
SPEC_FILE = "spec.json"
BUCKET_PREFIX = "models/ranker"
LATEST_KEY = f"{BUCKET_PREFIX}/latest"


class ModelNotFoundError(DataGcpError):
    """No ranker model where one was asked for; the message says where it looked and how to make one."""


@dataclass
class RankerModel:
    """What serving needs: score = P(consulted) + P(booked) for each row, in one `predict` call."""

    booster: Any  # lightgbm.Booster
    spec: FeatureSpec
    run_id: str = "local"
    metadata: dict[str, Any] = field(default_factory=dict)
    num_threads: int = 1

    def predict_proba(self, matrix: np.ndarray) -> np.ndarray:
        """Class probabilities (n, 3) for an already encoded matrix."""
        if matrix.shape[0] == 0:
            return np.empty((0, 3))
        proba = self.booster.predict(matrix, num_threads=self.num_threads)
        return np.asarray(proba).reshape(matrix.shape[0], -1)

    def score_matrix(self, matrix: np.ndarray) -> np.ndarray:
        proba = self.predict_proba(matrix)
        return proba[:, 1] + proba[:, 2] if proba.size else np.empty(0)

    def score_rows(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Scores of row dicts (feature name -> value; absent or None = missing)."""
        return self.score_matrix(self.spec.matrix_from_rows(rows))

    def score_table(self, table: Any) -> np.ndarray:
        """Scores of columnar data (Arrow table, pandas frame, dict of columns)."""
        return self.score_matrix(self.spec.matrix(table))

    def feature_importance(self) -> dict[str, float]:
        """Total gain per feature, largest first (what the team reads next to the log-loss)."""
        gains = self.booster.feature_importance(importance_type="gain")
        pairs = sorted(zip(self.spec.names, (float(g) for g in gains), strict=True), key=lambda p: -p[1])
        return dict(pairs)

    # --- persistence -------------------------------------------------------------------------
    def save(self, folder: Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(folder / MODEL_FILE))
        doc = {"run_id": self.run_id, "features": self.spec.to_dict(), "metadata": self.metadata}
        (folder / SPEC_FILE).write_text(json.dumps(doc, indent=2, sort_keys=True, default=str))
        return folder

    @classmethod
    def load(cls, folder: Path | str, num_threads: int = 1) -> RankerModel:
        import lightgbm as lgb

        folder = Path(folder)
        model_file, spec_file = folder / MODEL_FILE, folder / SPEC_FILE
        if not model_file.is_file() or not spec_file.is_file():
            raise ModelNotFoundError(
                f"no ranker model in {folder} (expected {MODEL_FILE} and {SPEC_FILE}): "
                "train one with `data-gcp ml train ranker`"
            )
        try:
            doc = json.loads(spec_file.read_text())
            spec = FeatureSpec.from_dict(doc["features"])
            booster = lgb.Booster(model_file=str(model_file))
        except (ValueError, KeyError, lgb.basic.LightGBMError) as exc:
            raise ModelNotFoundError(f"unreadable ranker model in {folder}: {exc}") from None
        if booster.num_feature() != len(spec.names):
            raise ModelNotFoundError(
                f"ranker model in {folder} has {booster.num_feature()} features but its spec lists "
                f"{len(spec.names)}: retrain it"
            )
        return cls(booster, spec, str(doc.get("run_id", "local")), dict(doc.get("metadata", {})), num_threads)

    def publish(self, storage: Storage) -> str:
        """Upload to `models/ranker/<run_id>/`, then point `models/ranker/latest` at it; returns the prefix."""
        prefix = f"{BUCKET_PREFIX}/{self.run_id}"
        with tempfile.TemporaryDirectory(prefix="ranker-") as tmp:
            self.save(Path(tmp))
            for name in (MODEL_FILE, SPEC_FILE):
                storage.put_file(Path(tmp) / name, f"{prefix}/{name}")
        storage.put_bytes(LATEST_KEY, self.run_id.encode())
        return prefix

    @classmethod
    def from_storage(cls, storage: Storage, run_id: str | None = None, num_threads: int = 1) -> RankerModel:
        """Download a run (default: the one `models/ranker/latest` names) and load it."""
        try:
            run_id = run_id or storage.get_bytes(LATEST_KEY).decode().strip()
        except StorageError:
            raise ModelNotFoundError(
                f"no ranker model published at {storage.uri(LATEST_KEY)}: run `data-gcp ml train ranker`"
            ) from None
        prefix = f"{BUCKET_PREFIX}/{run_id}"
        with tempfile.TemporaryDirectory(prefix="ranker-") as tmp:
            try:
                for name in (MODEL_FILE, SPEC_FILE):
                    storage.get_file(f"{prefix}/{name}", Path(tmp) / name)
            except StorageError as exc:
                raise ModelNotFoundError(f"ranker run {run_id} is incomplete in the bucket: {exc}") from None
            return cls.load(Path(tmp), num_threads=num_threads)


def load_ranker(
    path: str | Path | None = None, storage: Storage | None = None, num_threads: int = 1
) -> RankerModel:
    """The model a service should use: a local folder when `path` is given, else the bucket's latest run."""
    if path:
        return RankerModel.load(Path(path), num_threads=num_threads)
    if storage is None:
        from data_gcp.storage import get_storage

        storage = get_storage()
    return RankerModel.from_storage(storage, num_threads=num_threads)
