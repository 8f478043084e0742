"""Table specs of the application database (columns as in the backend, snake_case).

Logical column types: `int`, `float`, `str`, `bool`, `ts` (timestamp without time zone, UTC),
`date`, `json` (JSON text). Each type maps to one Arrow type, one SQLite and one PostgreSQL type.

App events come from the analytics export: `event_timestamp` is when the event happened on the
device, `event_server_timestamp_offset` (microseconds) how long after that its upload arrived, as in
the GA4 / Firebase BigQuery export; the export adds late events to their day's partition up to 3
days later, so an incremental import re-reads the last `late_days` partitions before its watermark.

Incremental cursors: a table with `cursor_columns` is read incrementally (rows where any cursor
column is >= the last watermark) and merged on its primary key; a table without cursors is small or
changes without a timestamp (user roles change on birthdays, product popularity every day) and is
reloaded in full on every run. `booking` uses its four status dates as cursor (creation, used,
cancellation, reimbursement): every status change sets one of them, so no extra column is needed.
Tables marked `deletes` (offers and stocks pros delete, favourites users remove, school offers and
their stocks) lose rows in the app: their incremental import also compares keys and drops the gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

ARROW_TYPES: dict[str, pa.DataType] = {
    "int": pa.int64(),
    "float": pa.float64(),
    "str": pa.string(),
    "bool": pa.bool_(),
    "ts": pa.timestamp("us"),
    "date": pa.date32(),
    "json": pa.string(),
}
SQLITE_TYPES = {
    "int": "INTEGER",
    "float": "REAL",
    "str": "TEXT",
    "bool": "BOOLEAN",
    "ts": "TIMESTAMP",
    "date": "DATE",
    "json": "JSON",
}
POSTGRES_TYPES = {
    "int": "BIGINT",
    "float": "DOUBLE PRECISION",
    "str": "TEXT",
    "bool": "BOOLEAN",
    "ts": "TIMESTAMP",
    "date": "DATE",
    "json": "JSONB",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]


@dataclass(frozen=True)
class TableSpec:
    """One source table. `raw_name` is its logical name in the warehouse (`raw.<raw_name>`)."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    cursor_columns: tuple[str, ...] = ()
    raw_name: str = ""
    partition_column: str | None = None
    local_only: bool = False
    history: bool = False
    indexes: tuple[str, ...] = field(default=())
    append_key: str | None = None  # append-only table: new rows have a key >= the last one imported
    # BigQuery refuses a query on it without a filter on `partition_column` (the large event tables)
    require_partition_filter: bool = False
    late_days: int = 0  # partitioned table: rows may still arrive for this many days before the newest
    # Cursor-incremental table whose rows the app really deletes: a deletion leaves no changed row for
    # the cursor to find, so the import also reads the source's keys and drops the rows gone from it.
    deletes: bool = False
    # Cursor-merged table that grows by day (an append-only log): the warehouse partitions it by the
    # day of this timestamp column (BigQuery: PARTITION BY DATE(col)), so readers filtering it on
    # constant bounds read only those days; the import still merges it on its key.
    timestamp_partition: str | None = None

    @property
    def day_partition(self) -> str | None:
        """The column the warehouse partitions the raw table by day on (a date or a timestamp)."""
        return self.partition_column or self.timestamp_partition

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def raw_table(self) -> str:
        return f"raw.{self.raw_name or 'applicative_database_' + self.name}"

    @property
    def incremental(self) -> bool:
        return bool(self.cursor_columns) or self.partition_column is not None or self.append_key is not None

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")


def _cols(spec: str) -> tuple[Column, ...]:
    """`"a:int! b:str"` -> columns; `!` marks NOT NULL. Keeps the table list below readable."""
    out = []
    for item in spec.split():
        name, typ = item.split(":")
        out.append(Column(name, typ.rstrip("!"), nullable=not typ.endswith("!")))
    return tuple(out)


TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "user",
        _cols(
            "user_id:int! user_creation_date:ts! user_role:str! user_birth_date:date user_department_code:str "
            "user_address:str user_postal_code:str user_city:str user_is_active:bool! user_last_connection_date:ts "
            "user_has_enabled_marketing_email:bool user_has_enabled_marketing_push:bool"
        ),
        ("user_id",),
    ),
    TableSpec(
        "deposit",
        _cols(
            "deposit_id:int! user_id:int! deposit_amount:float! deposit_source:str deposit_type:str! "
            "deposit_creation_date:ts! deposit_update_date:ts deposit_expiration_date:ts"
        ),
        ("deposit_id",),
        ("deposit_creation_date", "deposit_update_date"),
        indexes=("user_id",),
    ),
    TableSpec(
        "recredit",
        _cols(
            "recredit_id:int! deposit_id:int! recredit_amount:float! recredit_type:str! recredit_creation_date:ts!"
        ),
        ("recredit_id",),
        ("recredit_creation_date",),
    ),
    TableSpec(
        "offerer",
        _cols(
            "offerer_id:int! offerer_name:str! offerer_siren:str offerer_is_active:bool! "
            "offerer_validation_status:str offerer_creation_date:ts! offerer_validation_date:ts"
        ),
        ("offerer_id",),
    ),
    TableSpec(
        "venue",
        _cols(
            "venue_id:int! venue_managing_offerer_id:int! venue_name:str! venue_public_name:str venue_siret:str "
            "venue_type_code:str! venue_is_permanent:bool venue_is_open_to_public:bool venue_is_virtual:bool! "
            "venue_latitude:float venue_longitude:float venue_postal_code:str venue_department_code:str "
            "venue_city:str venue_creation_date:ts"
        ),
        ("venue_id",),
        history=True,
    ),
    TableSpec(
        "product",
        _cols(
            "product_id:int! product_name:str! product_subcategory_id:str! product_ean:str "
            "product_extra_data:json product_last_30_days_booking:int"
        ),
        ("product_id",),
    ),
    TableSpec(
        "offer",
        _cols(
            "offer_id:int! offer_product_id:int venue_id:int! offer_subcategory_id:str! offer_name:str! "
            "offer_description:str offer_is_active:bool! offer_validation:str! offer_is_duo:bool! offer_ean:str "
            "offer_extra_data:json offer_creation_date:ts! offer_updated_date:ts! offer_publication_date:ts"
        ),
        ("offer_id",),
        ("offer_creation_date", "offer_updated_date"),
        history=True,
        indexes=("venue_id",),
        deletes=True,
    ),
    TableSpec(
        "stock",
        _cols(
            "stock_id:int! offer_id:int! stock_price:float! stock_quantity:int stock_beginning_date:ts "
            "stock_booking_limit_date:ts stock_creation_date:ts! stock_modified_date:ts! "
            "stock_is_soft_deleted:bool! price_category_id:int"
        ),
        ("stock_id",),
        ("stock_creation_date", "stock_modified_date"),
        history=True,
        indexes=("offer_id",),
        deletes=True,
    ),
    TableSpec(
        "booking",
        _cols(
            "booking_id:int! user_id:int! stock_id:int! deposit_id:int venue_id:int! offerer_id:int! "
            "booking_amount:float! booking_quantity:int! booking_status:str! booking_creation_date:ts! "
            "booking_used_date:ts booking_cancellation_date:ts booking_cancellation_reason:str "
            "booking_reimbursement_date:ts"
        ),
        ("booking_id",),
        (
            "booking_creation_date",
            "booking_used_date",
            "booking_cancellation_date",
            "booking_reimbursement_date",
        ),
        history=True,
        indexes=("user_id", "booking_status"),
    ),
    TableSpec(
        "favorite",
        _cols("favorite_id:int! user_id:int! offer_id:int! favorite_creation_date:ts!"),
        ("favorite_id",),
        ("favorite_creation_date",),
        deletes=True,
    ),
    TableSpec(
        "address",
        _cols(
            "address_id:int! address_ban_id:str address_insee_code:str address_street:str "
            "address_postal_code:str! address_city:str! address_latitude:float! address_longitude:float! "
            "address_department_code:str!"
        ),
        ("address_id",),
    ),
    TableSpec(
        "offerer_address",
        _cols(
            "offerer_address_id:int! offerer_address_label:str address_id:int! offerer_id:int! "
            "offerer_address_creation_date:ts"
        ),
        ("offerer_address_id",),
    ),
    TableSpec(
        "educational_institution",
        _cols(
            "educational_institution_id:int! institution_uai:str! institution_name:str! institution_type:str "
            "institution_city:str institution_department_code:str"
        ),
        ("educational_institution_id",),
    ),
    TableSpec(
        "collective_offer",
        _cols(
            "collective_offer_id:int! venue_id:int! collective_offer_name:str! collective_offer_students:str "
            "collective_offer_format:str collective_offer_is_active:bool! collective_offer_validation:str! "
            "educational_institution_id:int collective_offer_creation_date:ts! collective_offer_updated_date:ts!"
        ),
        ("collective_offer_id",),
        ("collective_offer_creation_date", "collective_offer_updated_date"),
        deletes=True,
    ),
    TableSpec(
        "collective_stock",
        _cols(
            "collective_stock_id:int! collective_offer_id:int! collective_stock_price:float! "
            "collective_stock_number_of_tickets:int! collective_stock_beginning_date:ts "
            "collective_stock_booking_limit_date:ts collective_stock_creation_date:ts! "
            "collective_stock_modification_date:ts!"
        ),
        ("collective_stock_id",),
        ("collective_stock_creation_date", "collective_stock_modification_date"),
        deletes=True,
    ),
    TableSpec(
        "collective_booking",
        _cols(
            "collective_booking_id:int! collective_stock_id:int! venue_id:int! offerer_id:int! "
            "educational_institution_id:int! educational_year_id:str! collective_booking_status:str! "
            "collective_booking_creation_date:ts! collective_booking_confirmation_date:ts "
            "collective_booking_used_date:ts collective_booking_cancellation_date:ts "
            "collective_booking_cancellation_reason:str collective_booking_reimbursement_date:ts"
        ),
        ("collective_booking_id",),
        (
            "collective_booking_creation_date",
            "collective_booking_confirmation_date",
            "collective_booking_used_date",
            "collective_booking_cancellation_date",
            "collective_booking_reimbursement_date",
        ),
    ),
    TableSpec(
        "reco_display_log",
        _cols(
            "call_id:str! user_id:int! offer_id:int! position:int! context:str! model_version:str displayed_at:ts!"
        ),
        ("call_id", "position"),
        ("displayed_at",),
        indexes=("displayed_at",),
        timestamp_partition="displayed_at",
    ),
    TableSpec(
        "app_event",
        _cols(
            "event_date:date! event_timestamp:ts! event_name:str! user_id:int user_pseudo_id:str! session_id:str! "
            "platform:str! app_version:str offer_id:int origin:str reco_call_id:str search_query:str "
            "venue_id:int duration_seconds:int event_server_timestamp_offset:int"
        ),
        (),
        raw_name="firebase_events",
        partition_column="event_date",
        require_partition_filter=True,
        late_days=3,  # the analytics export adds events up to 3 days after their day
        indexes=("event_date",),
    ),
    # --- addresses, editorial tags, artists, pro accounts, synchronisations, events, finance, Adage
    TableSpec(
        "artist",
        _cols("artist_id:str! artist_name:str! artist_description:str artist_creation_date:ts!"),
        ("artist_id",),
    ),
    TableSpec(
        "product_artist_link",
        _cols("product_artist_link_id:int! artist_id:str! product_id:int! artist_type:str!"),
        ("product_artist_link_id",),
    ),
    TableSpec(
        "educational_domain",
        _cols("educational_domain_id:int! educational_domain_name:str!"),
        ("educational_domain_id",),
    ),
    TableSpec(
        "collective_offer_domain",
        _cols("collective_offer_id:int! educational_domain_id:int!"),
        ("collective_offer_id", "educational_domain_id"),
    ),
    TableSpec(
        "fraudulent_booking_tag",
        _cols(
            "fraudulent_booking_tag_id:int! booking_id:int! fraudulent_booking_tag_author_id:int "
            "fraudulent_booking_tag_creation_date:ts!"
        ),
        ("fraudulent_booking_tag_id",),
    ),
    TableSpec(
        "criterion",
        _cols(
            "criterion_id:int! criterion_name:str! criterion_description:str criterion_beginning_date:ts "
            "criterion_ending_date:ts"
        ),
        ("criterion_id",),
    ),
    TableSpec(
        "criterion_category",
        _cols("criterion_category_id:int! criterion_category_label:str!"),
        ("criterion_category_id",),
    ),
    TableSpec(
        "criterion_category_mapping",
        _cols("criterion_id:int! criterion_category_id:int!"),
        ("criterion_id", "criterion_category_id"),
    ),
    TableSpec(
        "offer_criterion",
        _cols("offer_criterion_id:int! offer_id:int! criterion_id:int!"),
        ("offer_criterion_id",),
    ),
    TableSpec(
        "venue_criterion",
        _cols("venue_criterion_id:int! venue_id:int! criterion_id:int!"),
        ("venue_criterion_id",),
    ),
    TableSpec(
        "offerer_tag",
        _cols("offerer_tag_id:int! offerer_tag_name:str! offerer_tag_label:str offerer_tag_description:str"),
        ("offerer_tag_id",),
    ),
    TableSpec(
        "offerer_tag_category",
        _cols("offerer_tag_category_id:int! offerer_tag_category_name:str! offerer_tag_category_label:str"),
        ("offerer_tag_category_id",),
    ),
    TableSpec(
        "offerer_tag_category_mapping",
        _cols("offerer_tag_id:int! offerer_tag_category_id:int!"),
        ("offerer_tag_id", "offerer_tag_category_id"),
    ),
    TableSpec(
        "offerer_tag_mapping",
        _cols("offerer_tag_mapping_id:int! offerer_id:int! offerer_tag_id:int!"),
        ("offerer_tag_mapping_id",),
    ),
    TableSpec(
        "offer_reminder",
        _cols("offer_reminder_id:int! user_id:int! offer_id:int! offer_reminder_creation_date:ts!"),
        ("offer_reminder_id",),
    ),
    TableSpec(
        "special_event",
        _cols(
            "special_event_id:int! special_event_title:str! offerer_id:int venue_id:int typeform_id:str! "
            "special_event_creation_date:ts! special_event_date:date! special_event_end_date:date"
        ),
        ("special_event_id",),
    ),
    TableSpec(
        "special_event_response",
        _cols(
            "special_event_response_id:int! special_event_id:int! user_id:int! "
            "special_event_response_status:str! special_event_response_submitted_date:ts!"
        ),
        ("special_event_response_id",),
    ),
    TableSpec(
        "user_offerer",
        _cols(
            "user_offerer_id:int! user_id:int! offerer_id:int! user_offerer_validation_status:str! "
            "user_offerer_creation_date:ts!"
        ),
        ("user_offerer_id",),
    ),
    TableSpec(
        "provider",
        _cols(
            "provider_id:int! provider_name:str! provider_is_active:bool! provider_booking_external_url:str"
        ),
        ("provider_id",),
    ),
    TableSpec(
        "venue_provider",
        _cols(
            "venue_provider_id:int! venue_id:int! provider_id:int! venue_provider_is_active:bool! "
            "venue_provider_last_sync_date:ts venue_provider_creation_date:ts!"
        ),
        ("venue_provider_id",),
    ),
    TableSpec(
        "pricing",
        _cols(
            "pricing_id:int! booking_id:int collective_booking_id:int venue_id:int! pricing_status:str! "
            "pricing_amount:int! pricing_standard_rule:str! pricing_creation_date:ts! pricing_value_date:ts!"
        ),
        ("pricing_id",),
    ),
    TableSpec(
        "pricing_line",
        _cols("pricing_line_id:int! pricing_id:int! pricing_line_category:str! pricing_line_amount:int!"),
        ("pricing_line_id",),
    ),
    TableSpec(
        "cashflow_batch",
        _cols(
            "cashflow_batch_id:int! cashflow_batch_label:str! cashflow_batch_creation_date:ts! cashflow_batch_cutoff:ts!"
        ),
        ("cashflow_batch_id",),
    ),
    TableSpec(
        "cashflow",
        _cols(
            "cashflow_id:int! cashflow_batch_id:int! venue_id:int! cashflow_status:str! cashflow_amount:int! "
            "cashflow_creation_date:ts!"
        ),
        ("cashflow_id",),
    ),
    TableSpec(
        "cashflow_pricing",
        _cols("cashflow_id:int! pricing_id:int!"),
        ("cashflow_id", "pricing_id"),
    ),
    TableSpec(
        "invoice",
        _cols(
            "invoice_id:int! invoice_reference:str! offerer_id:int! invoice_amount:int! invoice_creation_date:ts!"
        ),
        ("invoice_id",),
    ),
    TableSpec(
        "invoice_cashflow",
        _cols("invoice_id:int! cashflow_id:int!"),
        ("invoice_id", "cashflow_id"),
    ),
    TableSpec(
        "adage_log",
        _cols(
            "event_date:date! event_timestamp:ts! event_name:str! user_id:str! uai:str user_role:str! "
            "session_id:str! source:str! origin:str collective_offer_id:int collective_stock_id:int "
            "collective_booking_id:int query_id:str total_results:int text_filter:str department_filter:str "
            "rank_clicked:int is_favorite:bool"
        ),
        (),
        raw_name="adage_logs",
        partition_column="event_date",
        indexes=("event_date",),
    ),
    TableSpec(
        "pro_app_event",
        _cols(
            "event_date:date! event_timestamp:ts! event_name:str! user_id:int user_pseudo_id:str! session_id:str! "
            "session_number:int! page_title:str page_location:str page_referrer:str origin:str offerer_id:int "
            "venue_id:int offer_id:int download_format:str traffic_source:str traffic_medium:str "
            "traffic_campaign:str user_device_category:str! user_web_browser:str"
        ),
        (),
        raw_name="firebase_pro_events",
        partition_column="event_date",
        indexes=("event_date",),
    ),
    TableSpec(
        "pro_log",
        _cols(
            "log_id:str! log_timestamp:ts! partition_date:date! message:str! analytics_source:str user_id:int "
            "offerer_id:int venue_id:int offer_id:int user_satisfaction:str user_comment:str"
        ),
        ("log_id",),
        raw_name="pcapi_pro_log",
        partition_column="partition_date",
        indexes=("partition_date",),
    ),
    TableSpec(
        "sandbox_truth_user_taste",
        _cols("user_id:int! topic_id:int! weight:float!"),
        ("user_id", "topic_id"),
        raw_name="sandbox_truth_user_taste",
        local_only=True,
        append_key="user_id",
    ),
    TableSpec(
        "sandbox_truth_offer_topic",
        _cols("offer_id:int! topic_id:int! weight:float!"),
        ("offer_id", "topic_id"),
        raw_name="sandbox_truth_offer_topic",
        local_only=True,
        append_key="offer_id",
    ),
    TableSpec(
        "sandbox_truth_offer_work",
        _cols("offer_id:int! work_id:str!"),
        ("offer_id",),
        raw_name="sandbox_truth_offer_work",
        local_only=True,
        append_key="offer_id",
    ),
)

# The app tables proper (everything the backend has; not the planted truth).
APP_TABLES: tuple[TableSpec, ...] = tuple(t for t in TABLES if not t.local_only)
_BY_NAME = {t.name: t for t in TABLES}


def table_spec(name: str) -> TableSpec:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown source table {name!r}: expected one of {', '.join(_BY_NAME)}") from None


def database_url(url: str) -> str:
    """A SQLAlchemy URL for the app database: plain `postgresql://` means psycopg 3 (the driver we ship)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def arrow_schema(spec: TableSpec) -> pa.Schema:
    return pa.schema([pa.field(c.name, c.arrow_type, nullable=c.nullable) for c in spec.columns])
