-- The backend's log of pro actions, one row per log line: offers created, reviews submitted from
-- the
-- portal, structures searched. Exhaustive (it does not depend on cookie consent), for the few
-- actions
-- product and fraud teams must count exactly.
-- Incremental by day (macros/incremental.sql).
{{ config(**incremental_by_day("partition_date")) }}

select
    cast(log_id as {{ dbt.type_string() }}) as log_id,
    {{ as_ts("log_timestamp") }} as log_timestamp,
    {{ as_date("partition_date") }} as partition_date,
    cast(message as {{ dbt.type_string() }}) as message,
    cast(analytics_source as {{ dbt.type_string() }}) as analytics_source,
    {{ as_id("user_id") }} as user_id,
    {{ as_id("offerer_id") }} as offerer_id,
    {{ as_id("venue_id") }} as venue_id,
    {{ as_id("offer_id") }} as offer_id,
    cast(user_satisfaction as {{ dbt.type_string() }}) as user_satisfaction,
    cast(user_comment as {{ dbt.type_string() }}) as user_comment
from {{ source("raw", "pcapi_pro_log") }}
where {{ in_run_days("partition_date") }}
