"""The ranking service as the image runs it (a uvicorn process): no broken model file ends the
process; each is a 503 naming what is wrong, and a good model is served after the same checks."""

from __future__ import annotations

import json

import pytest

from data_gcp.manifest import write_manifest
from data_gcp.ranking import RankerModel

APP = "data_gcp.ranking_api.app:create_app"


def _remanifest(folder) -> None:
    """A manifest matching the files as they are now (what a faulty publisher would write)."""
    spec = json.loads((folder / "spec.json").read_text())
    features = spec["features"] if isinstance(spec, dict) and isinstance(spec.get("features"), dict) else {}
    names = [*features.get("numeric", []), *features.get("categorical", [])]
    write_manifest(
        folder, ["model.txt", "spec.json"], {"features": names, "num_feature": len(names), "num_class": 3}
    )


def _truncate(folder, share: float) -> None:
    model = folder / "model.txt"
    data = model.read_bytes()
    model.write_bytes(data[: int(len(data) * share)])


def _spec(folder, edit) -> None:
    doc = json.loads((folder / "spec.json").read_text())
    (folder / "spec.json").write_text(json.dumps(edit(doc)))


def _corrupt_a_tree(folder) -> None:
    """Every section still there, one tree's header gone: LightGBM's parser aborts (SIGABRT)."""
    model = folder / "model.txt"
    model.write_bytes(model.read_bytes().replace(b"Tree=1\n", b"", 1))


BREAKS = {
    "model.txt cut at 50%, manifest kept": (lambda f: _truncate(f, 0.5), False, "model.txt has"),
    "model.txt cut at 50%, manifest rewritten": (lambda f: _truncate(f, 0.5), True, "is incomplete"),
    "a tree lost, manifest rewritten": (_corrupt_a_tree, True, "signal 6"),
    "spec.json is []": (lambda f: (f / "spec.json").write_text("[]"), True, "not an object"),
}
SPEC_BREAKS = {
    "null": ("null", "not an object"),
    "features are a list": ('{"features": []}', "expected an object"),
    "vocabularies are a list": (None, "'vocabularies' must be an object"),
    "a vocabulary is a string": (None, "must be a list of strings"),
}


@pytest.mark.parametrize("case", list(BREAKS))
def test_a_broken_model_is_a_503_with_the_reason_and_the_process_stays_up(
    ranker: RankerModel, tmp_path, serve, case
) -> None:
    folder = ranker.save(tmp_path / "model")
    breaks, remanifest, reason = BREAKS[case]
    breaks(folder)
    if remanifest:
        _remanifest(folder)
    env = {
        "DATA_GCP_ENV": "local",
        "DATA_GCP_DATA_DIR": str(tmp_path / "data"),
        "DATA_GCP_RANKER_MODEL_PATH": str(folder),
    }
    with serve(APP, env) as svc:
        assert svc.url, f"the process ended with {svc.proc.poll()}:\n" + "\n".join(svc.lines[-20:])
        health = svc.get("/isalive")
        assert health.status_code == 503 and reason in health.json()["detail"], health.text
        assert svc.post("/predict", {"instances": [{"offer_id": "1"}]}).status_code == 503
        assert svc.proc.poll() is None


def test_a_good_model_is_served_after_the_checks(ranker: RankerModel, tmp_path, serve) -> None:
    folder = ranker.save(tmp_path / "model")
    env = {
        "DATA_GCP_ENV": "local",
        "DATA_GCP_DATA_DIR": str(tmp_path / "data"),
        "DATA_GCP_RANKER_MODEL_PATH": str(folder),
    }
    with serve(APP, env) as svc:
        health = svc.get("/isalive")
        assert health.status_code == 200 and health.json()["model_version"] == "svc-test", health.text
        answer = svc.post("/predict", {"instances": [{"offer_id": "1"}, {"offer_id": "2"}]})
        assert answer.status_code == 200 and len(answer.json()["predictions"]) == 2


@pytest.mark.parametrize("share", [0.05, 0.15, 0.35, 0.55, 0.65, 0.85, 0.95])
def test_a_model_cut_anywhere_is_refused_before_lightgbm_reads_it(
    ranker: RankerModel, tmp_path, share
) -> None:
    """Cut anywhere, it is refused by the manifest, or (manifest rewritten to match) by its missing
    sections: LightGBM loads some of these cuts silently with fewer trees, aborts or crashes on others."""
    from data_gcp.ranking import ModelNotFoundError

    folder = ranker.save(tmp_path / "model")
    _truncate(folder, share)
    with pytest.raises(ModelNotFoundError, match="model.txt has"):
        RankerModel.load(folder)
    _remanifest(folder)
    with pytest.raises(ModelNotFoundError, match="model.txt is incomplete"):
        RankerModel.load(folder)


@pytest.mark.parametrize("case", list(SPEC_BREAKS))
def test_a_spec_of_another_shape_is_refused_with_the_reason(ranker: RankerModel, tmp_path, case) -> None:
    from data_gcp.ranking import ModelNotFoundError

    folder = ranker.save(tmp_path / "model")
    text, reason = SPEC_BREAKS[case]
    if text is not None:
        (folder / "spec.json").write_text(text)
    elif case == "vocabularies are a list":
        _spec(folder, lambda d: {**d, "features": {**d["features"], "vocabularies": ["a"]}})
    else:
        _spec(
            folder,
            lambda d: {
                **d,
                "features": {**d["features"], "vocabularies": {d["features"]["categorical"][0]: "CINEMA"}},
            },
        )
    _remanifest(folder)
    with pytest.raises(ModelNotFoundError, match=reason):
        RankerModel.load(folder)
