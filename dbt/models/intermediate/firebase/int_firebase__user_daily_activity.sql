-- One row per (user, day) with an event: what the user did that day.
-- Incremental by day (macros/incremental.sql).
{{ config(**incremental_by_day('event_date', cluster_by=['user_id'])) }}

select
    user_id,
    event_date,
    count(*) as event_count,
    count(distinct session_id) as session_count,
    count(case when event_name = 'ConsultOffer' then 1 end) as consult_offer_count,
    count(case when event_name = 'HasAddedOfferToFavorites' then 1 end) as add_favorite_count,
    count(case when event_name = 'BookingConfirmation' then 1 end) as booking_confirmation_count,
    count(case when event_name = 'Search' then 1 end) as search_count
from {{ ref('int_firebase__event') }}
where user_id is not null and {{ in_run_days('event_date') }}
group by user_id, event_date
