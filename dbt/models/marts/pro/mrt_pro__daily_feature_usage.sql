-- Pro portal features used per day: for each feature (offer creation, bookings, ticket office,
-- finance...), its events, the visits, pro users and structures that used it, and its share of the
-- day's visits.
{{ config(**incremental_by_day("event_date")) }}

with
    daily as (
        select event_date, count(distinct unique_session_id) as day_visits
        from {{ ref("int_firebase__pro_event") }}
        where {{ in_run_days("event_date") }}
        group by event_date
    ),

    usage as (
        select
            event_date,
            feature,
            count(*) as total_events,
            count(distinct unique_session_id) as total_visits,
            count(distinct user_id) as total_users,
            count(distinct offerer_id) as total_offerers
        from {{ ref("int_firebase__pro_event") }}
        where feature is not null and {{ in_run_days("event_date") }}
        group by event_date, feature
    )

select
    {{ composite_key(["u.event_date", "u.feature"]) }} as feature_day_id,
    u.event_date,
    u.feature,
    u.total_events,
    u.total_visits,
    u.total_users,
    u.total_offerers,
    {{ safe_divide("u.total_visits", "d.day_visits") }} as visit_share
from usage as u
inner join daily as d on u.event_date = d.event_date
