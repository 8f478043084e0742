{#
  Incremental models by day. A model whose sources grow by day (app events, sessions, funnels, daily
  KPIs) rewrites only the days a run touches instead of its whole history:

      {{ config(**incremental_by_day('event_date', cluster_by=['user_id'])) }}
      select ... from {{ ref('int_firebase__event') }}
      where {{ in_run_days('event_date') }}

  `incremental_by_day` is the whole configuration: on BigQuery an `insert_overwrite` model partitioned
  by that date column (every partition the query returns replaces the table's partition; the others
  are kept), clustered by `cluster_by`, with `require_partition_filter` when asked; on DuckDB
  `delete+insert` keyed on the same column, which gives the same rows (the days the query returns are
  deleted, then inserted).

  The days a run touches (`run_days_start` .. `run_days_end`) come from the run's processing days, the
  vars `first_day` / `last_day` (ISO dates; or DBT_FIRST_DAY / DBT_LAST_DAY, see `run_setting`) that
  the dbt DAG, `data-gcp run` and
  `data-gcp dbt backfill` pass, widened by the look-back `lookback_days` (default 3: app events
  arrive up to 3 days late), so late rows of the days before are picked up. Never `current_date`. An
  incremental run without those vars (a hand `dbt build`) re-processes the look-back window ending
  at the newest day already in the model. A first build or `--full-refresh` reads every day up to
  `last_day` (all days without it): `in_run_days` then compares the column with constants too, which
  keeps BigQuery's `require_partition_filter` satisfied and the static check
  (`data_gcp.sql_typecheck.partition_filter_problems`) able to see the filter.

  `extra_days` widens the read side for a model whose rows of a day need input of the days before
  (a session starting the day before its events): read `in_run_days(col, extra_days=1)`, keep
  `in_run_days(out_col)`.

  A monthly model (`granularity='month'`, its field the month's first day) reads
  `in_run_months(col)`: whole months, from the month of the run's first day (look-back included).
#}
{% macro incremental_by_day(field, cluster_by=none, require_partition_filter=false, granularity='day') -%}
    {%- set cfg = {
        'materialized': 'incremental',
        'partition_by': bq_partition(field, granularity=granularity),
        'cluster_by': bq_cluster(cluster_by) if cluster_by else none,
        'on_schema_change': 'append_new_columns',
        'meta': {'incremental_day': field},
    } -%}
    {%- if target.type == 'bigquery' -%}
        {%- do cfg.update({'incremental_strategy': 'insert_overwrite'}) -%}
        {%- if require_partition_filter -%}
            {%- do cfg.update({'require_partition_filter': true}) -%}
        {%- endif -%}
    {%- else -%}
        {%- do cfg.update({'incremental_strategy': 'delete+insert', 'unique_key': field}) -%}
    {%- endif -%}
    {{ return(cfg) }}
{%- endmacro %}

{#
  A run's day settings: the environment variable DBT_<NAME> when set (how data_gcp.dbt_runner passes
  them: a changed env var re-parses only the files that read it, where changed `--vars` make dbt
  re-parse the whole project, seconds per invocation), else the var `<name>`.
#}
{% macro run_setting(name) -%}
    {%- set from_env = env_var('DBT_' ~ name | upper, '') -%}
    {{ return(from_env if from_env != '' else var(name, none)) }}
{%- endmacro %}

{#
  dbt's is_incremental(), except in an offline compile (`--no-introspect`: the BigQuery SQL that
  `data-gcp typecheck` checks), where no relation can be looked up: the full build's SQL then.
#}
{% macro incremental_run() -%} {{ return(flags.INTROSPECT and is_incremental()) }} {%- endmacro %}

{# The look-back window in days (var `lookback_days`, project default 3), checked. #}
{% macro lookback_days() -%}
    {%- set days = run_setting('lookback_days') | int -%}
    {%- if days < 0 -%}
        {{ exceptions.raise_compiler_error("var lookback_days must be >= 0, got " ~ var('lookback_days')) }}
    {%- endif -%}
    {{ return(days) }}
{%- endmacro %}

{% macro _run_day_var(name) -%}
    {%- set raw = run_setting(name) -%}
    {%- if raw is none or raw == '' -%} {{ return(none) }} {%- endif -%}
    {%- set day = modules.datetime.date.fromisoformat(raw | string) if raw is string else raw -%}
    {{ return(day) }}
{%- endmacro %}

{% macro _date_literal(day) -%} cast('{{ day.isoformat() }}' as date) {%- endmacro %}

{# The last day a run touches (var last_day), or none: no upper bound. #}
{% macro run_days_end() -%}
    {%- set last = _run_day_var('last_day') -%}
    {%- set first = _run_day_var('first_day') -%}
    {%- if first is not none and last is not none and first > last -%}
        {{ exceptions.raise_compiler_error("var first_day (" ~ first ~ ") is after last_day (" ~ last ~ ")") }}
    {%- endif -%}
    {{ return(last) }}
{%- endmacro %}

{#
  The first day an incremental run touches: first_day (else last_day) minus the look-back (and
  `extra_days`); without either var, the look-back before the newest day already in this model.
  None when the model is built in full.
#}
{% macro run_days_start(extra_days=0) -%}
    {%- if not incremental_run() -%} {{ return(none) }} {%- endif -%}
    {%- set first = _run_day_var('first_day') or _run_day_var('last_day') -%}
    {%- if first is none -%}
        {%- set field = config.get('meta', {}).get('incremental_day') -%}
        {%- if not execute or not field -%} {{ return(none) }} {%- endif -%}
        {%- set newest = run_query('select max(' ~ field ~ ') from ' ~ this ~ ' where ' ~ field ~ " >= cast('1970-01-01' as date)").columns[0].values()[0] -%}
        {%- if newest is none -%} {{ return(none) }} {%- endif -%}
        {%- set first = newest if newest is not string else modules.datetime.date.fromisoformat(newest[:10]) -%}
    {%- endif -%}
    {{ return(first - modules.datetime.timedelta(days=lookback_days() + extra_days)) }}
{%- endmacro %}

{#
  Predicate: `column` is one of the days this run touches (the whole history up to last_day in a
  full build). Always a comparison with constants, so BigQuery prunes partitions with it.
#}
{% macro in_run_days(column, extra_days=0) -%}
    {{ _days_between(column, run_days_start(extra_days), run_days_end()) }}
{%- endmacro %}

{#
  Predicate: the timestamp `column` falls on one of the days this run touches, as a half-open range
  of timestamp constants (`>=` its first day's midnight, `<` the midnight after its last day). For a
  raw table partitioned by the day of a timestamp column (BigQuery prunes on comparisons of the
  column itself with constants, not on a cast of it).
#}
{% macro in_run_days_ts(column, extra_days=0) -%}
    {%- set start = run_days_start(extra_days) -%}
    {%- set end = run_days_end() -%}
    (
        {{ column }}
        >= cast('{{ start.isoformat() if start is not none else "1970-01-01" }}' as timestamp)
        {%- if end is not none %}
            and {{ column }}
            < cast('{{ (end + modules.datetime.timedelta(days=1)).isoformat() }}' as timestamp)
        {%- endif %}
    )
{%- endmacro %}

{#
  Predicate: `column` (a date) is in one of the months this run touches, from the first day of the
  month of its first day (look-back included) to the last day of the month of its last day: a
  monthly model rebuilds whole months (a backfill of a day in the middle of a month reads the days
  after it too, which the month's rows count).
#}
{% macro in_run_months(column) -%}
    {%- set start = run_days_start() -%}
    {%- set end = run_days_end() -%}
    {%- if end is not none -%}
        {%- set next_month = end.replace(day=28) + modules.datetime.timedelta(days=4) -%}
        {%- set end = next_month - modules.datetime.timedelta(days=next_month.day) -%}
    {%- endif -%}
    {{ _days_between(column, start.replace(day=1) if start is not none else none, end) }}
{%- endmacro %}

{% macro _days_between(column, start, end) -%}
    (
        {{ column }}
        >= {{ _date_literal(start) if start is not none else "cast('1970-01-01' as date)" }}
        {%- if end is not none %} and {{ column }} <= {{ _date_literal(end) }}{% endif %}
    )
{%- endmacro %}

{#
  The booking days an incremental run rebuilds (a query with one column, `day`). A booking changes
  after the day it was made (cancelled, used, reimbursed), which moves the counts of its creation
  day and, through the user's booking rank, those of the user's other bookings: the run rebuilds the
  creation days of every booking of the users with a booking made, cancelled, used or reimbursed on
  the days it touches. A full build: every booking day.
  (A user's department is read as it is at build time: a move changes older days only at a full
  refresh.)
#}
{% macro booking_days_to_rebuild(bookings) -%}
    select distinct b.booking_creation_date as day
    from {{ bookings }} as b
    where
        {{ in_run_days('b.booking_creation_date', extra_days=0) if not incremental_run() else 'true' }}
        {%- if incremental_run() %}
            {%- set end = run_days_end() %}
            {%- if end is not none %}
                and b.booking_creation_date <= {{ _date_literal(end) }}
            {% endif %}
            and b.user_id in (
                select changed.user_id
                from {{ bookings }} as changed
                where
                    {{ in_run_days('changed.booking_creation_date') }}
                    or {{ in_run_days(as_date('changed.booking_cancellation_date')) }}
                    or {{ in_run_days(as_date('changed.booking_used_date')) }}
                    or {{ in_run_days(as_date('changed.booking_reimbursement_date')) }}
            )
        {%- endif %}
{%- endmacro %}
