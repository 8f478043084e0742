-- What the recommendation API displayed, one row per (call, offer) (a repeated log line is kept
-- once).
-- Incremental by day (macros/incremental.sql): a run reads the log lines of its days (the raw
-- log is partitioned by the day of displayed_at: the filter compares that column with constants)
-- and writes them; its readers then read only the days they need (partition filters on
-- display_date).
{{ config(**incremental_by_day('display_date', cluster_by=['user_id'])) }}

with
    displays as (
        select
            cast(call_id as {{ dbt.type_string() }}) as call_id,
            {{ as_id('user_id') }} as user_id,
            {{ as_id('offer_id') }} as offer_id,
            {{ as_int('position') }} as position,
            cast(context as {{ dbt.type_string() }}) as context,
            cast(model_version as {{ dbt.type_string() }}) as model_version,
            {{ as_ts('displayed_at') }} as displayed_at
        from {{ source('raw', 'applicative_database_reco_display_log') }}
        where {{ in_run_days_ts('displayed_at') }}
    )

select
    call_id,
    user_id,
    offer_id,
    position,
    context,
    model_version,
    displayed_at,
    {{ as_date('displayed_at') }} as display_date
from
    (
        select
            displays.*,
            row_number() over (partition by call_id, offer_id order by displayed_at, position) as rn
        from displays
    ) as ranked
where rn = 1
