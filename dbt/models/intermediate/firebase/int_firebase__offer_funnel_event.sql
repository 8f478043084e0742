-- The steps of the offer funnel (search, consultation, favourite, booking), one row per event,
-- with the origin the app reported (where the user found the offer).
-- A view on DuckDB (a filter of the events view: its readers scan it for less than writing a copy
-- costs), a partitioned table on BigQuery.
{{
    config(
        materialized="table" if target.type == "bigquery" else "view",
        partition_by=bq_partition("event_date"),
    )
}}

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
where event_name in ('Search', 'ConsultOffer', 'HasAddedOfferToFavorites', 'BookingConfirmation')
