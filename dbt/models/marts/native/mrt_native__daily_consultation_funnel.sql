-- Offer consultations per day and origin (home, search, venue, similar offers, deeplink) and what
-- followed: favourites and bookings of the same offer in the same session from the same origin.
{{ config(**incremental_by_day("event_date")) }}

with
    per_offer_session as (
        select
            event_date,
            origin,
            session_id,
            offer_id,
            max(case when funnel_step = 'consult' then 1 else 0 end) as consulted,
            max(case when funnel_step = 'favorite' then 1 else 0 end) as favorited,
            max(case when funnel_step = 'booking' then 1 else 0 end) as booked,
            count(case when funnel_step = 'consult' then 1 end) as consult_count
        from {{ ref("int_firebase__offer_funnel_event") }}
        where funnel_step <> 'search' and {{ in_run_days("event_date") }}
        group by event_date, origin, session_id, offer_id
    )

select
    {{ composite_key(["event_date", "origin"]) }} as consultation_funnel_day_id,
    event_date,
    origin,
    {{ as_int("sum(consult_count)") }} as consult_count,
    {{ as_int("sum(consulted)") }} as consulted_offer_session_count,
    {{ as_int("sum(consulted * favorited)") }} as consult_favorite_count,
    {{ as_int("sum(consulted * booked)") }} as consult_booking_count,
    count(distinct case when consulted = 1 then session_id end) as consulting_session_count,
    {{ safe_divide("sum(consulted * booked)", "sum(consulted)") }} as consult_to_booking_rate
from per_offer_session
group by event_date, origin
