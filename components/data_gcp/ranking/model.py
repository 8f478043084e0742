"""A trained ranker: LightGBM booster + feature spec, saved as two files, loaded from a folder or the bucket.

Layout (a folder, or a bucket prefix `models/ranker/<run_id>/`):
- `model.txt`: LightGBM's text format (readable, stable across LightGBM versions);
- `spec.json`: feature names in model order, categorical vocabularies, run id and training metrics;
- `manifest.json`: both files' size and SHA-256, the feature names and class count (`data_gcp.manifest`).
`models/ranker/latest` is a one-line object holding the newest run id: it is written last, so a
service never loads a half-written run.

Loading is defensive because LightGBM's text parser aborts the process (SIGABRT) on some truncated
files instead of raising: the manifest is checked first (a truncated or replaced file never reaches
LightGBM), then the model is parsed and scored once in a child process, and only a model that
survived there is loaded by the server's own process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from data_gcp.config import DataGcpError
from data_gcp.manifest import MANIFEST_FILE, ManifestError, read_manifest, write_manifest
from data_gcp.ranking.features import FeatureError, FeatureSpec
from data_gcp.storage import Storage, StorageError

MODEL_FILE = "model.txt"
SPEC_FILE = "spec.json"
BUCKET_PREFIX = "models/ranker"
LATEST_KEY = f"{BUCKET_PREFIX}/latest"
NUM_CLASSES = 3  # seen / consulted / booked
PROBE_TIMEOUT_SECONDS = 120.0
# Run in a child process: parse the model and score one row of missing values. An abort there
# (LightGBM's parser on a cut file) costs the child, not the server.
_PROBE = """
import sys, numpy as np, lightgbm as lgb
booster = lgb.Booster(model_file=sys.argv[1])
proba = booster.predict(np.full((1, booster.num_feature()), np.nan), num_threads=1)
print(booster.num_feature(), np.asarray(proba).size)
"""


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

    def check(self) -> str | None:
        """Score one row of missing values, as a request would: None when the answer is a finite
        probability sum in [0, 2], else why not."""
        try:
            scores = self.score_rows([{}])
        except Exception as exc:  # noqa: BLE001 - the reason goes to /isalive
            return f"ranker {self.run_id}: a test prediction failed: {type(exc).__name__}: {exc}"
        if scores.shape != (1,) or not np.isfinite(scores).all() or not 0 <= scores[0] <= 2 + 1e-9:
            return f"ranker {self.run_id}: a test prediction gave {scores.tolist()}, not a score in [0, 2]"
        return None

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
        write_manifest(
            folder,
            [MODEL_FILE, SPEC_FILE],
            {"features": self.spec.names, "num_feature": len(self.spec.names), "num_class": NUM_CLASSES},
        )
        return folder

    @classmethod
    def load(cls, folder: Path | str, num_threads: int = 1) -> RankerModel:
        """The model of a folder, verified (manifest, spec, a parse and a prediction in a child process)
        before LightGBM reads it here; raises ModelNotFoundError saying what is wrong."""
        import lightgbm as lgb

        folder = Path(folder)
        model_file, spec_file = folder / MODEL_FILE, folder / SPEC_FILE
        if not model_file.is_file() or not spec_file.is_file():
            raise ModelNotFoundError(
                f"no ranker model in {folder} (expected {MODEL_FILE} and {SPEC_FILE}): "
                "train one with `data-gcp ml train ranker`"
            )
        try:
            manifest = read_manifest(folder, verify=[MODEL_FILE, SPEC_FILE])
            doc = json.loads(spec_file.read_text())
            if not isinstance(doc, dict):
                raise FeatureError(f"{SPEC_FILE} holds {type(doc).__name__}, not an object")
            spec = FeatureSpec.from_dict(doc.get("features"))
            if manifest.shape("features") != spec.names:
                raise FeatureError(f"{SPEC_FILE} lists other features than {MANIFEST_FILE} records")
        except (ManifestError, FeatureError, ValueError) as exc:
            raise ModelNotFoundError(f"unreadable ranker model in {folder}: {exc}") from None
        _check_sections(model_file)
        _probe_in_child(model_file, len(spec.names))
        try:
            booster = lgb.Booster(model_file=str(model_file))
        except lgb.basic.LightGBMError as exc:
            raise ModelNotFoundError(f"unreadable ranker model in {folder}: {exc}") from None
        if booster.num_feature() != len(spec.names):
            raise ModelNotFoundError(
                f"ranker model in {folder} has {booster.num_feature()} features but its spec lists "
                f"{len(spec.names)}: retrain it"
            )
        metadata = doc.get("metadata")
        model = cls(
            booster,
            spec,
            str(doc.get("run_id", "local")),
            dict(metadata) if isinstance(metadata, dict) else {},
            num_threads,
        )
        if problem := model.check():
            raise ModelNotFoundError(f"{problem} (model in {folder}): retrain it")
        return model

    def publish(self, storage: Storage) -> str:
        """Upload to `models/ranker/<run_id>/`, then point `models/ranker/latest` at it; returns the prefix."""
        prefix = f"{BUCKET_PREFIX}/{self.run_id}"
        with tempfile.TemporaryDirectory(prefix="ranker-") as tmp:
            self.save(Path(tmp))
            for name in (MODEL_FILE, SPEC_FILE, MANIFEST_FILE):
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
                for name in (MODEL_FILE, SPEC_FILE, MANIFEST_FILE):
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


# sections `Booster.save_model` always writes, the last ones last: a file cut before them is refused
# here (LightGBM would load some cuts silently with fewer trees, and abort or crash on others)
MODEL_SECTIONS = (b"\nend of trees", b"\nend of parameters")


def _check_sections(model_file: Path) -> None:
    data = model_file.read_bytes()
    missing = [s.decode().strip() for s in MODEL_SECTIONS if s not in data]
    if missing:
        raise ModelNotFoundError(
            f"ranker model {model_file} is incomplete (no {' / '.join(repr(m) for m in missing)}): "
            "publish the run again or retrain it"
        )


def _probe_in_child(model_file: Path, features: int) -> None:
    """Parse and score the model in a child process; raise ModelNotFoundError when the child dies
    (LightGBM aborts on some malformed files) or disagrees on the feature count."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, str(model_file)],
            capture_output=True,  # bytes: a broken model can make LightGBM print anything
            timeout=PROBE_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ModelNotFoundError(
            f"ranker model {model_file} did not load within {PROBE_TIMEOUT_SECONDS:.0f} s in a child process"
        ) from None
    stdout, stderr = (out.decode("utf-8", "replace") for out in (done.stdout, done.stderr))
    if done.returncode != 0:
        how = f"signal {-done.returncode}" if done.returncode < 0 else f"exit code {done.returncode}"
        last = (stderr.strip().splitlines() or [""])[-1][:300]
        raise ModelNotFoundError(
            f"ranker model {model_file} could not be loaded by LightGBM (the check process ended with "
            f"{how}: {last}): publish the run again or retrain it"
        )
    got = stdout.split()
    if len(got) != 2 or got[0] != str(features):
        raise ModelNotFoundError(
            f"ranker model {model_file}: LightGBM reads {got[0] if got else '?'} features, its spec "
            f"lists {features}: retrain it"
        )
