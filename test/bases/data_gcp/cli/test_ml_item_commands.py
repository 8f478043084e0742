"""`data-gcp ml embed|cluster|link` on the planted sandbox: each writes its table and says what it did."""

from __future__ import annotations

from typer.testing import CliRunner

from data_gcp.cli.main import app
from data_gcp.config import reset_settings
from data_gcp.warehouse import get_warehouse


def test_embed_cluster_link_commands(planted_settings, monkeypatch) -> None:
    monkeypatch.setenv("DATA_GCP_DATA_DIR", str(planted_settings.data_dir))
    reset_settings()
    runner = CliRunner()
    res = runner.invoke(app, ["ml", "embed"])
    assert res.exit_code == 0, res.output
    assert "0 embedded" in res.output  # the session fixture embedded everything already
    res = runner.invoke(app, ["ml", "cluster", "--default-count", "4", "--books", "4", "--min-size", "3"])
    assert res.exit_code != 0 and "--per-group" in res.output  # a count of one group needs groups
    res = runner.invoke(
        app, ["ml", "cluster", "--per-group", "--default-count", "4", "--books", "4", "--min-size", "3"]
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["ml", "link"])
    assert res.exit_code == 0, res.output
    assert "items before linkage" in res.output
    wh = get_warehouse(planted_settings)
    for table in ("ml.item_cluster", "ml.offer_item_link"):
        assert wh.row_count(table) > 0
    linked = wh.query(
        f"select count(distinct item_id) as n from {wh.physical('ml.offer_item_link')}"
    ).to_pylist()[0]["n"]
    assert linked < wh.row_count("ml.item_embedding")  # some offers were linked to another item
