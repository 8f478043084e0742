-- Is each table of the platform up to date? One row per watched raw table: its newest row, its
-- size (for a table partitioned by day: its rows of the last 28 days), how many days old the
-- newest row is on the day of the run, and whether that is late.
{% for src, tbl, col, max_days, partition in monitored_tables() %}
    select
        '{{ src }}.{{ tbl }}' as table_name,
        '{{ col }}' as timestamp_column,
        {{ max_days }} as max_age_days,
        count(*) as row_count,
        max({{ as_ts(col) }}) as last_row_at,
        {{ dbt.datediff(as_date('max(' ~ col ~ ')'), as_of_date(), 'day') }} as days_since_last_row,
        coalesce(
            {{ dbt.datediff(as_date('max(' ~ col ~ ')'), as_of_date(), 'day') }} > {{ max_days }},
            true
        ) as table_is_late
    from {{ source(src, tbl) }}
    {% if partition %}
        where {{ partition_since(partition, col, add_days(as_of_date(), -28)) }}
    {% endif %}
    {% if not loop.last %}
        union all
    {% endif %}
{% endfor %}
