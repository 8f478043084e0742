{#
  The tables the monitoring marts watch: (source, table, timestamp column, days after which the
  table is late, day-partition column or none). A table partitioned by day is read only over the
  recent partitions the marts need (BigQuery refuses a full scan of `firebase_events`); filter it
  with `partition_since`. The app's activity tables and event logs grow every day; referentials do not and
  are left out (their freshness is `null` in the sources).
#}
{% macro monitored_tables() -%}
    {{ return([
        ('raw', 'applicative_database_user', 'user_creation_date', 2, none),
        ('raw', 'applicative_database_deposit', 'deposit_creation_date', 2, none),
        ('raw', 'applicative_database_offer', 'offer_creation_date', 2, none),
        ('raw', 'applicative_database_stock', 'stock_creation_date', 2, none),
        ('raw', 'applicative_database_booking', 'booking_creation_date', 2, none),
        ('raw', 'applicative_database_favorite', 'favorite_creation_date', 2, none),
        ('raw', 'applicative_database_reco_display_log', 'displayed_at', 1, 'displayed_at'),
        ('raw', 'firebase_events', 'event_timestamp', 1, 'event_date'),
        ('raw', 'adage_logs', 'event_timestamp', 3, 'event_date'),
    ]) }}
{%- endmacro %}

{#
  Predicate: the partition column `partition` of a monitored table is on or after the date
  expression `day`. A table partitioned by the day of its timestamp column (`partition` is
  `timestamp_column`: the display log) is compared with a timestamp, since BigQuery compares no
  TIMESTAMP with a DATE and prunes only on the column itself; the others with the date.
#}
{% macro partition_since(partition, timestamp_column, day) -%}
    {%- if partition == timestamp_column -%} {{ partition }} >= {{ as_ts(day) }}
    {%- else -%} {{ partition }} >= {{ day }}
    {%- endif -%}
{%- endmacro %}
