{#
  A column's share of nulls jumping (Elementary's column_anomalies on null_percent, without the
  package): on each of the last `recent_days` days of the data (ending at the newest day before
  as_of_date) with at least `min_rows` rows, the share of nulls of `column_name` may exceed its share
  over the `baseline_days` before by at most `max_increase` (0.2 = 20 points) plus three standard
  errors of a day's share (sqrt(p (1 - p) / n)): on a small day a few sessions of one kind move the
  share by more than 20 points with nothing broken, on a large one the margin vanishes. A producer that stops
  filling a column fails it while not_null, which a column with legitimate nulls cannot carry, stays
  silent.
#}
{% test null_share_anomaly(
    model,
    column_name,
    date_column,
    recent_days=7,
    baseline_days=28,
    max_increase=0.2,
    min_rows=20
) %}
    with
        daily as (
            select
                {{ as_date(date_column) }} as day,
                count(*) as row_count,
                avg(case when {{ column_name }} is null then 1.0 else 0.0 end) as null_share
            from {{ model }}
            where
                {{ as_date(date_column) }} >= {{ add_days(as_of_date(), -400) }}
                and {{ as_date(date_column) }} < {{ as_of_date() }}
            group by 1
        ),

        bounds as (select max(day) as end_day from daily),

        windowed as (
            select d.*, b.end_day
            from daily as d
            cross join bounds as b
            where d.day > {{ add_days("b.end_day", -(recent_days + baseline_days)) }}
        ),

        baseline as (
            select sum(null_share * row_count) / nullif(sum(row_count), 0) as baseline_share
            from windowed
            where day <= {{ add_days("end_day", -recent_days) }}
        )

    select w.day, w.row_count, w.null_share, b.baseline_share
    from windowed as w
    cross join baseline as b
    where
        w.day > {{ add_days("w.end_day", -recent_days) }}
        and w.row_count >= {{ min_rows }}
        and w.null_share
        > coalesce(b.baseline_share, 0)
        + {{ max_increase }}
        + 3
        * sqrt(coalesce(b.baseline_share, 0) * (1 - coalesce(b.baseline_share, 0)) / w.row_count)
{% endtest %}
