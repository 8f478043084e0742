-- One row per app session: who, when, on which platform, and how far it went (search, consult,
-- favourite, booking). The funnels and the home module performance aggregate these.
-- Incremental by session day: a run reads its days' events and the day before (a session that
-- starts before midnight), and keeps the sessions that start on its days.
{{ config(**incremental_by_day("session_date", cluster_by=["platform"])) }}

with
    sessions as (

        select
            session_id,
            -- any_value (first non-null) rather than min/max: a session has one device and
            -- platform, and
            -- comparing strings over millions of events costs most of this model
            any_value(user_pseudo_id) as user_pseudo_id,
            any_value(user_id) as user_id,
            any_value(platform) as platform,
            min(event_date) as session_date,
            min(event_timestamp) as session_started_at,
            max(event_timestamp) as session_ended_at,
            count(*) as event_count,
            count(case when event_name = 'Search' then 1 end) as search_count,
            count(case when event_name = 'ConsultOffer' then 1 end) as consult_offer_count,
            count(
                case when event_name = 'HasAddedOfferToFavorites' then 1 end
            ) as add_favorite_count,
            count(case when event_name = 'BookingConfirmation' then 1 end) as booking_count,
            count(
                case when event_name = 'ModuleDisplayedOnHomePage' then 1 end
            ) as home_module_display_count
        from {{ ref("int_firebase__event") }}
        where session_id is not null and {{ in_run_days("event_date", extra_days=1) }}
        group by session_id
    )

select *
from sessions
where {{ in_run_days("session_date") }}
