"""BigQuery's type rules on single queries: each rule catches its planted fault, and what BigQuery
accepts (numeric mixes, DATE with DATETIME, string literals as dates, untyped NULLs) passes."""

import pytest

from data_gcp.sql_typecheck import check_sql

TABLES = {
    "p.raw.users": {"user_id": "STRING", "n": "INT64", "amount": "FLOAT64", "d": "DATE", "ts": "TIMESTAMP"},
    "p.raw.addresses": {"user_id": "INT64", "dt": "DATETIME", "label": "STRING"},
}


def problems(sql: str) -> list[str]:
    return [p.message for p in check_sql(sql, TABLES)]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "select u.n from p.raw.users as u join p.raw.addresses as a on u.user_id = a.user_id",
            "compares STRING with INT64",
        ),
        ("select n from p.raw.users where user_id in (select user_id from p.raw.addresses)", "IN compares"),
        ("select n from p.raw.users where user_id in (1, 2)", "IN compares STRING with INT64"),
        ("select coalesce(user_id, n) from p.raw.users", "COALESCE mixes STRING and INT64"),
        ("select case when n > 0 then d else ts end from p.raw.users", "CASE mixes DATE and TIMESTAMP"),
        ("select user_id from p.raw.users union all select user_id from p.raw.addresses", "UNION column 1"),
        ("select concat('u-', n) from p.raw.users", "string function or || on INT64"),
        ("select user_id + 1 from p.raw.users", "arithmetic on STRING"),
        ("select sum(user_id) from p.raw.users", "SUM of STRING"),
        ("select n from p.raw.users where ts >= d", "compares TIMESTAMP with DATE"),
        ("select n from p.raw.users where n = '1'", "compares INT64 with STRING"),
    ],
)
def test_each_rule_catches_its_planted_fault(sql: str, message: str) -> None:
    found = problems(sql)
    assert any(message in p for p in found), found


@pytest.mark.parametrize(
    "sql",
    [
        "select u.n from p.raw.users as u join p.raw.addresses as a on u.user_id = cast(a.user_id as string)",
        "select coalesce(n, amount, 0) from p.raw.users where n between 1 and 2.5",
        "select n from p.raw.users where d >= '2024-01-01' and ts < '2025-01-01 00:00:00'",
        "select u.d = a.dt from p.raw.users as u cross join p.raw.addresses as a",
        "select null as x from p.raw.users union all select label from p.raw.addresses",
        "select if(n > 0, null, user_id) from p.raw.users",
        "select concat(user_id, '-', cast(n as string)) from p.raw.users",
    ],
)
def test_what_bigquery_accepts_passes(sql: str) -> None:
    assert problems(sql) == []


def test_unknown_types_are_not_guessed() -> None:
    # a table the schema does not hold: its columns have no type, so nothing is reported
    assert problems("select x.a from p.raw.unknown as x join p.raw.users as u on x.a = u.n") == []


def _scans(sql: str) -> list[str]:
    """Full scans of `p.raw.events` (partitioned by event_date, require_partition_filter) in `sql`."""
    import sqlglot
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.schema import MappingSchema

    from data_gcp.sql_typecheck import partition_filter_problems

    schema = MappingSchema(dialect="bigquery", normalize=False)
    schema.add_table("p.raw.events", {"event_date": "DATE", "user_id": "STRING"}, dialect="bigquery")
    schema.add_table("p.raw.users", TABLES["p.raw.users"], dialect="bigquery")
    tree = qualify(
        sqlglot.parse_one(sql, read="bigquery"),
        schema=schema,
        dialect="bigquery",
        validate_qualify_columns=False,
        quote_identifiers=False,
    )
    return [p.message for p in partition_filter_problems(tree, "m", {("p", "raw", "events"): "event_date"})]


@pytest.mark.parametrize(
    "sql",
    [
        "select user_id from p.raw.events",  # the planted full scan
        "select e.user_id from p.raw.events as e join p.raw.users as u on e.user_id = u.user_id where u.d > '2026-01-01'",
        "with x as (select user_id from p.raw.events) select * from x where user_id = 'a'",
        "select n from p.raw.users where user_id in (select user_id from p.raw.events)",
    ],
)
def test_a_read_of_a_partition_filtered_table_without_its_filter_is_a_full_scan(sql: str) -> None:
    assert _scans(sql) == [
        "full scan of raw.events: it requires a filter on event_date "
        "(require_partition_filter; use in_run_days() or a date range)"
    ]


@pytest.mark.parametrize(
    "sql",
    [
        "select user_id from p.raw.events where event_date >= '2026-01-01'",
        "select e.user_id from p.raw.users as u join p.raw.events as e on e.user_id = u.user_id "
        "and e.event_date between u.d and '2026-02-01'",
        "with x as (select user_id from p.raw.events where event_date = '2026-01-01') select * from x",
        "select n from p.raw.users where user_id in (select user_id from p.raw.events where event_date > d)",
    ],
)
def test_a_read_filtering_the_partition_column_passes(sql: str) -> None:
    assert _scans(sql) == []
