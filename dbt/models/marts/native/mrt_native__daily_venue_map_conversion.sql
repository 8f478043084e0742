-- The venue map per session: map openings, pins pressed (venue previews), venue pages opened from
-- the map, offers consulted from a venue found on the map, bookings that followed, and how long the
-- map was looked at.
-- Incremental by the session's day: a run reads its days' events and the day before (a session
-- that starts before midnight) and keeps the sessions that start on its days.
{{ config(**incremental_by_day("event_date")) }}

with
    sessions as (
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
            count(
                distinct case when event_name = 'ConsultOffer' then venue_id end
            ) as total_distinct_venue_consult_offer,
            count(case when event_name = 'ConsultOffer' then 1 end) as total_consult_offer,
            count(case when event_name = 'BookingConfirmation' then 1 end) as total_bookings,
            {{
                as_int(
                    "coalesce(sum(case when event_name = 'VenueMapSeenDuration' then duration_seconds end), 0)"
                )
            }}
            as total_venue_map_seen_duration_seconds
        from {{ ref("int_firebase__event") }}
        where origin = 'venueMap' and {{ in_run_days("event_date", extra_days=1) }}
        group by session_id
    )

select *
from sessions
where {{ in_run_days("event_date") }}
