-- Are a table's daily volumes off? One row per watched raw table and day of the last 28 days
-- before the run: the rows of that day (by the table's timestamp column, a missing day counting
-- 0), the mean of the 28 days before it, and whether the day is an anomaly: more than 4 times the
-- mean or less than a quarter of it, and at least 10 rows away from it (the rule of the
-- `volume_anomaly` test, as a table dashboards and alerts read).
{% set horizon = 56 %}
with
    days as ({{ day_range(add_days(as_of_date(), -horizon), add_days(as_of_date(), -1)) }}),

    daily as (
        {% for src, tbl, col, max_days, partition in monitored_tables() %}
            select
                '{{ src }}.{{ tbl }}' as table_name,
                {{ as_date(col) }} as day,
                count(*) as row_count
            from {{ source(src, tbl) }}
            where
                {{ as_date(col) }} >= {{ add_days(as_of_date(), -horizon) }}
                {% if partition %}
                    and {{ partition_since(partition, col, add_days(as_of_date(), -horizon - 3)) }}
                {% endif %}
            group by 1, 2
            {% if not loop.last %}
                union all
            {% endif %}
        {% endfor %}
    ),

    tables as (
        {% for src, tbl, col, max_days, partition in monitored_tables() %}
            select '{{ src }}.{{ tbl }}' as table_name
            {% if not loop.last %}
                union all
            {% endif %}
        {% endfor %}
    ),

    filled as (
        select t.table_name, d.day, coalesce(c.row_count, 0) as row_count
        from tables as t
        cross join days as d
        left join daily as c on t.table_name = c.table_name and d.day = c.day
    ),

    compared as (
        select
            table_name,
            day,
            row_count,
            avg(row_count) over (
                partition by table_name order by day rows between 28 preceding and 1 preceding
            ) as baseline_mean_count
        from filled
    )

select
    {{ composite_key(['table_name', 'day']) }} as table_day_id,
    table_name,
    day,
    row_count,
    baseline_mean_count,
    {{ safe_divide(as_float('row_count'), 'baseline_mean_count') }} as volume_ratio,
    coalesce(
        abs(row_count - baseline_mean_count) >= 10
        and (row_count > baseline_mean_count * 4 or row_count * 4 < baseline_mean_count),
        false
    ) as volume_is_anomalous
from compared
where day > {{ add_days(as_of_date(), -29) }}
