{#
  A day's row count far off its recent range (what Elementary's volume_anomalies does, without the
  package): each of the last `recent_days` complete days (before as_of_date) is compared with the
  mean of the `baseline_days` before them, a missing day counting 0. It fails when the day holds
  more than `max_ratio` times the mean or less than the mean divided by it, and differs from the
  mean by at least `min_change` rows (small tables vary a lot in relative terms). A lost day of
  imports, a replayed batch, a filter that drops a platform show up here while every row is valid.
#}
{% test volume_anomaly(
    model,
    date_column,
    recent_days=7,
    baseline_days=28,
    max_ratio=4,
    min_change=10
) %}
    {% set first_day = add_days(as_of_date(), -(recent_days + baseline_days)) %}
    {% set first_recent_day = add_days(as_of_date(), -recent_days) %}
    with
        daily as (
            select {{ as_date(date_column) }} as day, count(*) as row_count
            from {{ model }}
            where
                {{ as_date(date_column) }} >= {{ first_day }}
                and {{ as_date(date_column) }} < {{ as_of_date() }}
            group by 1
        ),

        days as ({{ day_range(first_day, add_days(as_of_date(), -1)) }}),

        counts as (
            select d.day, coalesce(c.row_count, 0) as row_count
            from days as d
            left join daily as c on d.day = c.day
        ),

        baseline as (
            select avg(row_count) as mean_count from counts where day < {{ first_recent_day }}
        )

    select c.day, c.row_count, b.mean_count
    from counts as c
    cross join baseline as b
    where
        c.day >= {{ first_recent_day }}
        and abs(c.row_count - b.mean_count) >= {{ min_change }}
        and (
            c.row_count > b.mean_count * {{ max_ratio }}
            or c.row_count * {{ max_ratio }} < b.mean_count
        )
{% endtest %}
