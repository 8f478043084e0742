{#
  A day's row count far off its recent range (what Elementary's volume_anomalies does, without the
  package): each of the last `recent_days` days of the data (ending at the newest day before
  as_of_date) is compared with the mean of the `baseline_days` before them, a missing day counting 0.
  It fails when the day holds more than `max_ratio` times the mean or less than the mean divided by
  it, and differs from the mean by at least `min_change` rows (small tables vary a lot in relative
  terms). A replayed batch, a lost day, a filter that drops a platform show up here while every row
  is valid; data that stopped arriving is the freshness check's.
#}
{% test volume_anomaly(
    model,
    date_column,
    recent_days=7,
    baseline_days=28,
    max_ratio=4,
    min_change=10
) %}
    {% set horizon = 400 %}
    with
        daily as (
            select {{ as_date(date_column) }} as day, count(*) as row_count
            from {{ model }}
            where
                {{ as_date(date_column) }} >= {{ add_days(as_of_date(), -horizon) }}
                and {{ as_date(date_column) }} < {{ as_of_date() }}
            group by 1
        ),

        bounds as (select max(day) as end_day from daily),

        days as ({{ day_range(add_days(as_of_date(), -horizon), add_days(as_of_date(), -1)) }}),

        counts as (
            select d.day, coalesce(c.row_count, 0) as row_count, b.end_day
            from days as d
            cross join bounds as b
            left join daily as c on d.day = c.day
            where
                d.day <= b.end_day
                and d.day > {{ add_days("b.end_day", -(recent_days + baseline_days)) }}
        ),

        baseline as (
            select avg(row_count) as mean_count
            from counts
            where day <= {{ add_days("end_day", -recent_days) }}
        )

    select c.day, c.row_count, b.mean_count
    from counts as c
    cross join baseline as b
    where
        c.day > {{ add_days("c.end_day", -recent_days) }}
        and abs(c.row_count - b.mean_count) >= {{ min_change }}
        and (
            c.row_count > b.mean_count * {{ max_ratio }}
            or c.row_count * {{ max_ratio }} < b.mean_count
        )
{% endtest %}
