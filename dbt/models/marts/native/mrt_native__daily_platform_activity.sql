-- App usage per day and platform (ios, android, web): sessions, devices, signed-in users and what
-- the sessions did.
{{ config(**incremental_by_day("session_date")) }}

select
    {{ composite_key(["session_date", "platform"]) }} as platform_day_id,
    session_date,
    platform,
    count(*) as session_count,
    count(distinct user_pseudo_id) as device_count,
    count(distinct user_id) as signed_in_user_count,
    count(case when search_count > 0 then 1 end) as searching_session_count,
    count(case when consult_offer_count > 0 then 1 end) as consulting_session_count,
    count(case when booking_count > 0 then 1 end) as booking_session_count,
    {{ as_int("sum(event_count)") }} as event_count,
    avg(
        {{ as_float(dbt.datediff("session_started_at", "session_ended_at", "second")) }}
    ) as avg_session_duration_seconds
from {{ ref("int_firebase__session") }}
where {{ in_run_days("session_date") }}
group by session_date, platform
