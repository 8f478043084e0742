{#
  Connector raw tables exist only once their connector has run (`data-gcp etl run <system>`).
  `source_or_empty(source_name, table_name, columns)` reads the source when it exists, else an empty
  relation with the same columns, so a build on a warehouse without that connector's data still
  passes (and the lineage to the source is kept either way).
  columns: list of (name, type) pairs using dbt's portable types (string, bigint, date, timestamp, float).
#}
{% macro source_or_empty(source_name, table_name, columns) -%}
    {%- set rel = source(source_name, table_name) -%}
    {#- On BigQuery the connectors run before dbt, so the table is read as is: no introspection query,
        which keeps `dbt compile --target prod --no-introspect` working without a connection. -#}
    {%- set local = target.type == 'duckdb' -%}
    {%- set found = execute and local and adapter.get_relation(database=rel.database, schema=rel.schema, identifier=rel.identifier) is not none -%}
    {%- if found or not execute or not local -%} {{ rel }}
    {%- else -%}
        (
            select
                {%- for name, type in columns %}
                    cast(null as {{ connector_type(type) }}) as {{ name }}{{ "," if not loop.last }}
                {%- endfor %}
            where 1 = 0
        )
    {%- endif -%}
{%- endmacro %}

{% macro connector_type(type) -%}
    {%- if type == 'string' -%} {{ dbt.type_string() }}
    {%- elif type == 'bigint' -%} {{ dbt.type_bigint() }}
    {%- elif type == 'float' -%} {{ 'float64' if target.type == 'bigquery' else 'double' }}
    {%- elif type == 'timestamp' -%} {{ dbt.type_timestamp() }}
    {%- else -%} {{ type }}
    {%- endif -%}
{%- endmacro %}
