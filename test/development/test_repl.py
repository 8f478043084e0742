import pyarrow as pa

from development.repl import sql, tables, wh


def test_repl_helpers_use_the_current_warehouse(settings):
    wh().load("raw.demo", pa.table({"id": [1, 2, 3]}), "replace")
    assert tables("raw") == ["demo"]
    assert sql("select sum(id) as s from raw.demo").to_pylist() == [{"s": 6}]
