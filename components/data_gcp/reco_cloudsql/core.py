"""Write the recommendation tables the app reads back into its PostgreSQL database (Cloud SQL).

The app's recommendation endpoints read `<table>_mv` materialized views in their own database, not
the warehouse. Each night the rows of the dbt models `export.export_reco__<table>` are copied into
`<schema>.<table>` tagged with the day (`import_date`), then every view is refreshed to the newest
day, all in one transaction: the app sees the old day or the new one, never half of it.

Idempotent per day: writing a day first deletes that day's rows, so a re-run replaces them; the last
`keep_days` days are kept (a bad night can be rolled back by re-running an earlier day's views).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv

from data_gcp.config import DataGcpError, Settings, get_settings
from data_gcp.log import get_logger

log = get_logger(__name__)

RECO_DATABASE_URL_SECRET = "reco-database-url"
LOCAL_RECO_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
KEEP_DAYS = 3
CONNECT_TIMEOUT_S = 5


class RecoExportError(DataGcpError):
    """The recommendation tables could not be written (database, model or schema problem)."""


class RecoDatabaseUnreachable(RecoExportError):
    """No PostgreSQL answers at the configured address (refused, unknown host, timeout)."""


@dataclass(frozen=True)
class RecoTable:
    """One table the app reads: its columns (name, PostgreSQL type) and the dbt model filling it."""

    name: str
    description: str
    columns: tuple[tuple[str, str], ...]

    @property
    def model(self) -> str:
        return f"export.export_reco__{self.name}"

    @property
    def view(self) -> str:
        return f"{self.name}_mv"

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]


RECO_TABLES: tuple[RecoTable, ...] = (
    RecoTable(
        "enriched_user",
        "each user's credit and activity, read to pick the recommendation model and filter by credit",
        (
            ("user_id", "varchar"),
            ("user_deposit_creation_date", "timestamp"),
            ("user_birth_date", "timestamp"),
            ("user_deposit_initial_amount", "real"),
            ("user_theoretical_remaining_credit", "real"),
            ("booking_cnt", "integer"),
            ("consult_offer", "integer"),
            ("has_added_offer_to_favorites", "integer"),
        ),
    ),
    RecoTable(
        "recommendable_offers_raw",
        "the offers the app may recommend now, with what its filters and scores read",
        (
            ("item_id", "varchar"),
            ("offer_id", "varchar"),
            ("offer_creation_date", "timestamp"),
            ("stock_beginning_date", "timestamp"),
            ("booking_number", "integer"),
            ("venue_id", "varchar"),
            ("venue_latitude", "numeric"),
            ("venue_longitude", "numeric"),
            ("default_max_distance", "integer"),
            ("unique_id", "varchar"),
            ("category", "varchar"),
            ("subcategory_id", "varchar"),
            ("stock_price", "numeric"),
            ("is_underage_recommendable", "boolean"),
            ("is_geolocated", "boolean"),
        ),
    ),
    RecoTable(
        "non_recommendable_items_data",
        "items each user already booked: never recommended to them again",
        (("user_id", "varchar"), ("item_id", "varchar")),
    ),
    RecoTable(
        "iris_france",
        "IRIS areas (code, centroid and contour as WKT): the app places a user's position in an IRIS",
        (("id", "varchar"), ("iris_code", "varchar"), ("centroid", "text"), ("shape", "text")),
    ),
)


@dataclass(frozen=True)
class WrittenRecoTable:
    table: str
    rows: int
    days_kept: int


def database_url(settings: Settings) -> str:
    """The database to write to: the setting, else in the cloud the secret, else the local PostgreSQL."""
    if settings.reco_database_url:
        return settings.reco_database_url
    if settings.is_cloud:
        from data_gcp.secrets import MissingSecretError, get_secret

        try:
            return get_secret(RECO_DATABASE_URL_SECRET, settings)
        except MissingSecretError as exc:
            raise RecoExportError(
                f"{exc}: set it to the Cloud SQL database of the recommendation API "
                "(postgresql://user:password@host:5432/db) or set DATA_GCP_RECO_DATABASE_URL"
            ) from None
    return LOCAL_RECO_DATABASE_URL


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    userinfo, host = rest.rsplit("@", 1)
    return f"{scheme}://{userinfo.split(':', 1)[0]}@{host}"


def connect(url: str) -> Any:
    """A psycopg connection, or RecoDatabaseUnreachable saying where and what to do."""
    import psycopg

    try:
        return psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        reason = first.rsplit("failed: ", 1)[-1].strip()  # "Connection refused", "timeout expired", ...
        raise RecoDatabaseUnreachable(
            f"cannot connect to the recommendation database {safe_url(url)}: {reason}. Start PostgreSQL "
            "there (locally: `pg_ctlcluster 15 main start` or `service postgresql start`), or point "
            "DATA_GCP_RECO_DATABASE_URL at a running one"
        ) from None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _existing_columns(cur: Any, schema: str, table: str) -> list[str]:
    cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "ORDER BY ordinal_position",
        (schema, table),
    )
    return [r[0] for r in cur.fetchall()]


def _ensure_table(cur: Any, schema: str, spec: RecoTable) -> None:
    """Create the table and its view; a table whose columns changed is recreated (with a warning)."""
    wanted = [*spec.column_names, "import_date"]
    have = _existing_columns(cur, schema, spec.name)
    target = f"{_q(schema)}.{_q(spec.name)}"
    if have and have != wanted:
        log.warning(
            "reco_cloudsql: %s.%s has columns %s, the export writes %s: recreated (its earlier days are lost)",
            schema,
            spec.name,
            have,
            wanted,
        )
        cur.execute(f"DROP TABLE {target} CASCADE")
        have = []
    if not have:
        cols = ", ".join(f"{_q(c)} {t}" for c, t in spec.columns)
        cur.execute(f"CREATE TABLE {target} ({cols}, import_date date NOT NULL)")
        cur.execute(f"CREATE INDEX ON {target} (import_date)")
    columns = ", ".join(_q(c) for c in spec.column_names)
    cur.execute(
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {_q(schema)}.{_q(spec.view)} AS SELECT {columns} "
        f"FROM {target} WHERE import_date = (SELECT max(import_date) FROM {target}) WITH NO DATA"
    )


def _csv(data: pa.Table, day: dt.date) -> bytes:
    data = data.append_column("import_date", pa.array([day] * data.num_rows, pa.date32()))
    buffer = io.BytesIO()
    pcsv.write_csv(data, buffer, pcsv.WriteOptions(include_header=False))
    return buffer.getvalue()


def write_tables(
    conn: Any, schema: str, tables: dict[RecoTable, pa.Table], day: dt.date, keep_days: int = KEEP_DAYS
) -> list[WrittenRecoTable]:
    """Replace `day` in every table, keep its newest `keep_days` days, refresh the views: one transaction."""
    if keep_days < 1:
        raise RecoExportError(f"keep_days must be at least 1 (got {keep_days})")
    written = []
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(schema)}")
        for spec, data in tables.items():
            missing = sorted(set(spec.column_names) - set(data.column_names))
            if missing:
                raise RecoExportError(f"{spec.model} lacks the columns {missing}: rebuild it with dbt")
            data = data.select(spec.column_names)
            _ensure_table(cur, schema, spec)
            target = f"{_q(schema)}.{_q(spec.name)}"
            cur.execute(f"DELETE FROM {target} WHERE import_date = %s", (day,))
            columns = ", ".join(_q(c) for c in [*spec.column_names, "import_date"])
            with cur.copy(f"COPY {target} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(_csv(data, day))
            cur.execute(
                f"DELETE FROM {target} WHERE import_date NOT IN (SELECT DISTINCT import_date FROM {target} "
                f"ORDER BY import_date DESC LIMIT %s)",
                (keep_days,),
            )
            cur.execute(f"SELECT count(DISTINCT import_date) FROM {target}")
            days_kept = int(cur.fetchone()[0])
            cur.execute(f"REFRESH MATERIALIZED VIEW {_q(schema)}.{_q(spec.view)}")
            written.append(WrittenRecoTable(spec.name, data.num_rows, days_kept))
    return written


def export_reco_tables(
    day: dt.date | None = None,
    settings: Settings | None = None,
    warehouse: object | None = None,
    url: str | None = None,
    schema: str | None = None,
    keep_days: int = KEEP_DAYS,
    skip_unreachable: bool = False,
) -> list[WrittenRecoTable]:
    """Read every `export.export_reco__*` model and write it for `day` (default: today).

    `skip_unreachable`: when no database answers, log a warning and write nothing (a laptop without
    PostgreSQL runs the local chain); never in the cloud, where the app reads these tables."""
    from data_gcp.warehouse import get_warehouse

    settings = settings or get_settings()
    day = day or dt.date.today()
    wh = warehouse or get_warehouse(settings)
    tables: dict[RecoTable, pa.Table] = {}
    for spec in RECO_TABLES:
        if not wh.table_exists(spec.model):
            raise RecoExportError(
                f"{spec.model} does not exist: build the dbt export models first "
                f"(`data-gcp dbt build --select export_reco__{spec.name}`)"
            )
        tables[spec] = wh.query(f"select * from {wh.physical(spec.model)}")
    target_url = url or database_url(settings)
    try:
        conn = connect(target_url)
    except RecoDatabaseUnreachable as exc:
        if not skip_unreachable or settings.is_cloud:
            raise
        log.warning("skipped: %s (locally the recommendation export is skipped without PostgreSQL)", exc)
        return []
    try:
        written = write_tables(conn, schema or settings.reco_database_schema, tables, day, keep_days)
    finally:
        conn.close()
    for w in written:
        log.info("reco_cloudsql %s: %s rows for %s (%s days kept)", w.table, w.rows, day, w.days_kept)
    return written
