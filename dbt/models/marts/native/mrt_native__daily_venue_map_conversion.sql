-- The venue map per session: map openings, pins pressed (venue previews), venue pages opened from
-- the map, offers consulted from a venue found on the map, bookings that followed, and how long the
-- map was looked at.
{{ config(partition_by=bq_partition("event_date")) }}

select
    session_id,
    min(event_date) as event_date,
    any_value(user_id) as user_id,
    any_value(user_pseudo_id) as user_pseudo_id,
    any_value(platform) as platform,
    any_value(app_version) as app_version,
    count(case when event_name = 'ConsultVenueMap' then 1 end) as total_venue_map_consult,
    count(case when event_name = 'PinMapPressed' then 1 end) as total_venue_map_preview,
    count(case when event_name = 'ConsultVenue' then 1 end) as total_consult_venue,
    count(distinct case when event_name = 'ConsultOffer' then venue_id end) as total_distinct_venue_consult_offer,
    count(case when event_name = 'ConsultOffer' then 1 end) as total_consult_offer,
    count(case when event_name = 'BookingConfirmation' then 1 end) as total_bookings,
    coalesce(
        sum(case when event_name = 'VenueMapSeenDuration' then duration_seconds end), 0
    ) as total_venue_map_seen_duration_seconds
from {{ ref("int_firebase__event") }}
where origin = 'venueMap'
group by session_id
