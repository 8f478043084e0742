-- What the recommendation API displayed, one row per (call, offer) (a repeated log line is kept
-- once).
-- A view on DuckDB (its one reader, ml_reco__ranking_training, dedups once; writing ~2.7M rows
-- costs more),
-- a partitioned table on BigQuery.
{{ config(
    materialized='table' if target.type == 'bigquery' else 'view',
    partition_by=bq_partition('display_date'),
) }}

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
