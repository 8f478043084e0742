-- The steps of the offer funnel (search, consultation, favourite, booking), one row per event,
-- with the origin the app reported (where the user found the offer).
-- Incremental by day (macros/incremental.sql).
{{ config(**incremental_by_day("event_date")) }}

select
    event_date,
    event_timestamp,
    session_id,
    user_id,
    user_pseudo_id,
    platform,
    coalesce(origin, 'unknown') as origin,
    offer_id,
    case
        when event_name = 'Search'
        then 'search'
        when event_name = 'ConsultOffer'
        then 'consult'
        when event_name = 'HasAddedOfferToFavorites'
        then 'favorite'
        else 'booking'
    end as funnel_step
from {{ ref("int_firebase__event") }}
where
    event_name in ('Search', 'ConsultOffer', 'HasAddedOfferToFavorites', 'BookingConfirmation')
    and {{ in_run_days("event_date") }}
