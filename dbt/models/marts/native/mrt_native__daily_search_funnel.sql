-- The search funnel per day and platform: sessions that searched, then consulted an offer found
-- by search, added one to favourites, booked one.
{{ config(**incremental_by_day("event_date")) }}

with
    per_session as (
        select
            event_date,
            platform,
            session_id,
            max(case when funnel_step = 'search' then 1 else 0 end) as searched,
            max(
                case when funnel_step = 'consult' and origin = 'search' then 1 else 0 end
            ) as consulted,
            max(
                case when funnel_step = 'favorite' and origin = 'search' then 1 else 0 end
            ) as favorited,
            max(
                case when funnel_step = 'booking' and origin = 'search' then 1 else 0 end
            ) as booked,
            count(case when funnel_step = 'search' then 1 end) as search_count
        from {{ ref("int_firebase__offer_funnel_event") }}
        where {{ in_run_days("event_date") }}
        group by event_date, platform, session_id
    )

select
    {{ composite_key(["event_date", "platform"]) }} as search_funnel_day_id,
    event_date,
    platform,
    {{ as_int("sum(search_count)") }} as search_count,
    {{ as_int("sum(searched)") }} as searching_session_count,
    {{ as_int("sum(searched * consulted)") }} as search_consult_session_count,
    {{ as_int("sum(searched * favorited)") }} as search_favorite_session_count,
    {{ as_int("sum(searched * booked)") }} as search_booking_session_count,
    {{ safe_divide("sum(searched * consulted)", "sum(searched)") }} as search_to_consult_rate,
    {{ safe_divide("sum(searched * booked)", "sum(searched)") }} as search_to_booking_rate
from per_session
group by event_date, platform
