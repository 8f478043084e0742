{#
  Helpers of the volume and distribution tests (tests/generic/volume_anomaly.sql,
  null_share_anomaly.sql): one row per day from `start_date` to `end_date` (DATE expressions), so
  that a day with no rows at all counts as 0 instead of vanishing.
#}
{% macro day_range(start_date, end_date) -%}
    {{ return(adapter.dispatch('day_range', 'data_gcp')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__day_range(start_date, end_date) -%}
    select cast(generate_series as date) as day
    from generate_series({{ start_date }}, {{ end_date }}, interval 1 day)
{%- endmacro %}

{% macro bigquery__day_range(start_date, end_date) -%}
    select day from unnest(generate_date_array({{ start_date }}, {{ end_date }})) as day
{%- endmacro %}
