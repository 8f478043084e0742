-- Pro portal visits (analytics sessions), one row each: who, which structure, when and how long,
-- pages seen, and which features the visit used (offer creation, bookings, ticket office,
-- finance...), as event counts per feature.
-- Incremental by the visit's day: a run reads its days' events and the day before (a visit that
-- starts before midnight) and keeps the visits that start on its days.
{{ config(**incremental_by_day("first_event_date")) }}

with
    visits as (
        select
            unique_session_id,
            any_value(session_id) as session_id,
            any_value(user_id) as user_id,
            any_value(user_pseudo_id) as user_pseudo_id,
            any_value(session_number) as session_number,
            any_value(offerer_id) as offerer_id,
            any_value(venue_id) as venue_id,
            min(event_date) as first_event_date,
            min(event_timestamp) as first_event_timestamp,
            max(event_timestamp) as last_event_timestamp,
            {{ dbt.datediff("min(event_timestamp)", "max(event_timestamp)", "second") }}
            as visit_duration_seconds,
            count(*) as total_events,
            count(case when event_name = 'page_view' then 1 end) as total_page_views,
            count(distinct feature) as total_features_used,
            count(case when feature = 'offer_creation' then 1 end) as total_offer_creation_events,
            count(case when feature = 'offer_edition' then 1 end) as total_offer_edition_events,
            count(
                case when feature = 'offer_consultation' then 1 end
            ) as total_offer_consultation_events,
            count(
                case when feature = 'booking_management' then 1 end
            ) as total_booking_management_events,
            count(
                case when feature = 'booking_download' then 1 end
            ) as total_booking_download_events,
            count(case when feature = 'ticket_office' then 1 end) as total_ticket_office_events,
            count(case when feature = 'finance' then 1 end) as total_finance_events,
            count(case when feature = 'statistics' then 1 end) as total_statistics_events
        from {{ ref("int_firebase__pro_event") }}
        where {{ in_run_days("event_date", extra_days=1) }}
        group by unique_session_id
    )

select *
from visits
where {{ in_run_days("first_event_date") }}
