-- App events with clean types and ids as strings (one row per event).
-- Incremental by day (macros/incremental.sql): a run rewrites the days it touches, late events
-- included; every reader filters event_date (require_partition_filter on BigQuery).
{{ config(**incremental_by_day('event_date', cluster_by=['event_name', 'user_id'], require_partition_filter=true)) }}

select
    {{ as_date('event_date') }} as event_date,
    {{ as_ts('event_timestamp') }} as event_timestamp,
    cast(event_name as {{ dbt.type_string() }}) as event_name,
    {{ as_id('user_id') }} as user_id,
    cast(user_pseudo_id as {{ dbt.type_string() }}) as user_pseudo_id,
    cast(session_id as {{ dbt.type_string() }}) as session_id,
    cast(platform as {{ dbt.type_string() }}) as platform,
    cast(app_version as {{ dbt.type_string() }}) as app_version,
    {{ as_id('offer_id') }} as offer_id,
    cast(origin as {{ dbt.type_string() }}) as origin,
    cast(reco_call_id as {{ dbt.type_string() }}) as reco_call_id,
    cast(search_query as {{ dbt.type_string() }}) as search_query,
    {{ as_id('venue_id') }} as venue_id,
    {{ as_int('duration_seconds') }} as duration_seconds
from {{ source('raw', 'firebase_events') }}
where {{ in_run_days('event_date') }}
