{#
  `source_or_empty(source_name, table_name, columns)`: the connector's raw table, read as a source.
  Every declared raw table exists from the first run, empty until its producer has rows
  (data_gcp.table_catalog: the connectors and the app import create theirs, and `data-gcp dbt ...`
  creates any still missing locally), so the model reads it on both engines, the same way.
  columns: the (name, type) pairs the model reads, in dbt's portable types (string, bigint, date,
  timestamp, float): the model's own statement of what it expects from the producer's TableSpec.
#}
{% macro source_or_empty(source_name, table_name, columns) -%}
    {{ source(source_name, table_name) }}
{%- endmacro %}
