{# Small cross-database helpers where DuckDB and BigQuery differ (no dbt hub packages here). #}
{# Id columns are strings in every model (as in production); raw ids may land as integers locally. #}
{% macro as_id(expr) -%} cast({{ expr }} as {{ dbt.type_string() }}) {%- endmacro %}

{# The item id contract: 'product-<product_id>' when the offer has a product, else 'offer-<offer_id>'. #}
{% macro item_id(product_id, offer_id) -%}
    (
        case
            when {{ product_id }} is not null
            then {{ dbt.concat(["'product-'", as_id(product_id)]) }}
            else {{ dbt.concat(["'offer-'", as_id(offer_id)]) }}
        end
    )
{%- endmacro %}

{% macro as_ts(expr) -%} cast({{ expr }} as {{ dbt.type_timestamp() }}) {%- endmacro %}

{% macro as_date(expr) -%} cast({{ expr }} as date) {%- endmacro %}

{% macro as_float(expr) -%} cast({{ expr }} as {{ float_type() }}) {%- endmacro %}

{% macro as_int(expr) -%} cast({{ expr }} as {{ dbt.type_bigint() }}) {%- endmacro %}

{# Booleans may land as 0/1 integers (SQLite) or true booleans (PostgreSQL); both cast alike. #}
{% macro as_bool(expr) -%} cast({{ expr }} as {{ dbt.type_boolean() }}) {%- endmacro %}

{# Exact age in whole years at a date (birthday reached or not). #}
{% macro age_at(birth_date, at_date) -%}
    (
        {{ dbt.datediff(birth_date, at_date, 'year') }} - case
            when
                extract(month from {{ at_date }}) * 100 + extract(day from {{ at_date }})
                < extract(month from {{ birth_date }}) * 100 + extract(day from {{ birth_date }})
            then 1
            else 0
        end
    )
{%- endmacro %}

{# The date the models treat as "today": var as_of_date (YYYY-MM-DD) when given, else current_date. #}
{% macro as_of_date() -%}
    {%- if var('as_of_date', none) -%} cast('{{ var("as_of_date") }}' as date)
    {%- else -%} current_date
    {%- endif -%}
{%- endmacro %}

{# One string field of a JSON text column ('$.author'). #}
{% macro json_string(column, key) -%}
    {{ return(adapter.dispatch('json_string', 'data_gcp')(column, key)) }}
{%- endmacro %}

{% macro default__json_string(column, key) -%}
    json_extract_string({{ column }}, '$.{{ key }}')
{%- endmacro %}

{% macro bigquery__json_string(column, key) -%}
    json_value({{ column }}, '$.{{ key }}')
{%- endmacro %}

{# Division that yields null (not an error) on a zero denominator. #}
{% macro safe_divide(num, den) -%}
    {{ return(adapter.dispatch('safe_divide', 'data_gcp')(num, den)) }}
{%- endmacro %}

{% macro default__safe_divide(num, den) -%}
    (
        case
            when ({{ den }}) = 0 then null else cast({{ num }} as {{ float_type() }}) / ({{ den }})
        end
    )
{%- endmacro %}

{% macro bigquery__safe_divide(num, den) -%} safe_divide({{ num }}, {{ den }}) {%- endmacro %}

{# Float type name for model contracts (yml data_type): float64 on BigQuery, double on DuckDB. #}
{% macro float_type() -%} {{ 'float64' if target.type == 'bigquery' else 'double' }} {%- endmacro %}

{#
  BigQuery physical layout, applied only on BigQuery targets (DuckDB gets none, so nothing to ignore):
  {{ config(partition_by=bq_partition('event_date'), cluster_by=bq_cluster(['user_id'])) }}
#}
{% macro bq_partition(field, data_type='date', granularity='day') -%}
    {%- if target.type == 'bigquery' -%}
        {{ return({'field': field, 'data_type': data_type, 'granularity': granularity}) }}
    {%- else -%} {{ return(none) }}
    {%- endif -%}
{%- endmacro %}

{% macro bq_cluster(columns) -%}
    {%- if target.type == 'bigquery' -%} {{ return(columns) }}
    {%- else -%} {{ return(none) }}
    {%- endif -%}
{%- endmacro %}

{# ISO day of week, 1 = Monday .. 7 = Sunday. #}
{% macro day_of_week(ts) -%}
    {{ return(adapter.dispatch('day_of_week', 'data_gcp')(ts)) }}
{%- endmacro %}

{% macro default__day_of_week(ts) -%}
    cast(isodow({{ ts }}) as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro bigquery__day_of_week(ts) -%}
    cast(mod(extract(dayofweek from {{ ts }}) + 5, 7) + 1 as int64)
{%- endmacro %}

{#
  Type-preserving date arithmetic. dbt.dateadd returns a DATETIME on BigQuery, which cannot be compared
  with a TIMESTAMP there; these keep a DATE a DATE and a TIMESTAMP a TIMESTAMP on both engines.
#}
{% macro add_days(date_expr, days) -%}
    {{ return(adapter.dispatch('add_days', 'data_gcp')(date_expr, days)) }}
{%- endmacro %}

{% macro default__add_days(date_expr, days) -%}
    cast({{ date_expr }} + cast({{ days }} as integer) as date)
{%- endmacro %}

{% macro bigquery__add_days(date_expr, days) -%}
    date_add({{ date_expr }}, interval {{ days }} day)
{%- endmacro %}

{% macro timestamp_add_days(ts_expr, days) -%}
    {{ return(adapter.dispatch('timestamp_add_days', 'data_gcp')(ts_expr, days)) }}
{%- endmacro %}

{% macro default__timestamp_add_days(ts_expr, days) -%}
    ({{ ts_expr }} + to_days(cast({{ days }} as integer)))
{%- endmacro %}

{% macro bigquery__timestamp_add_days(ts_expr, days) -%}
    timestamp_add({{ ts_expr }}, interval {{ days }} day)
{%- endmacro %}
