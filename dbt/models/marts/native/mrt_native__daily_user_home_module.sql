-- What each session did with each kind of home module: one row per (session, module kind) with an
-- interaction, when it was first displayed and clicked, the clicks, and the favourites and bookings
-- of a clicked offer later in the session. Kinds: `recommendation` (the module a recommendation
-- call
-- fills) and `other` (the editorial playlists, whose displays the app does not log).
-- Incremental by the session's day: a run reads its days' interactions and the day before (a
-- session that starts before midnight) and keeps the sessions that start on its days.
{{ config(**incremental_by_day("event_date")) }}

with
    clicks as (
        select session_id, offer_id, home_module_type, min(event_timestamp) as clicked_at
        from {{ ref("int_firebase__home_interaction") }}
        where interaction_type = 'click' and {{ in_run_days("event_date", extra_days=1) }}
        group by session_id, offer_id, home_module_type
    ),

    after_click as (
        select
            c.session_id,
            c.home_module_type,
            count(
                distinct case when h.interaction_type = 'favorite' then h.offer_id end
            ) as favorite_count,
            count(
                distinct case when h.interaction_type = 'booking' then h.offer_id end
            ) as booking_count,
            min(
                case when h.interaction_type = 'booking' then h.event_timestamp end
            ) as booking_timestamp
        from clicks as c
        inner join
            {{ ref("int_firebase__home_interaction") }} as h
            on h.session_id = c.session_id
            and h.offer_id = c.offer_id
            and h.interaction_type in ('favorite', 'booking')
            and h.event_timestamp >= c.clicked_at
            and {{ in_run_days("h.event_date", extra_days=1) }}
        group by c.session_id, c.home_module_type
    ),

    per_session as (
        select
            session_id,
            home_module_type,
            min(event_date) as event_date,
            any_value(user_id) as user_id,
            any_value(user_pseudo_id) as user_pseudo_id,
            any_value(platform) as platform,
            any_value(reco_call_id) as reco_call_id,
            min(
                case when interaction_type = 'display' then event_timestamp end
            ) as module_displayed_timestamp,
            min(
                case when interaction_type = 'click' then event_timestamp end
            ) as module_clicked_timestamp,
            count(case when interaction_type = 'click' then 1 end) as click_count
        from {{ ref("int_firebase__home_interaction") }}
        where {{ in_run_days("event_date", extra_days=1) }}
        group by session_id, home_module_type
    )

select
    {{ composite_key(["p.session_id", "p.home_module_type"]) }} as user_home_module_id,
    p.event_date,
    p.session_id,
    p.user_id,
    p.user_pseudo_id,
    p.platform,
    p.home_module_type,
    p.reco_call_id,
    p.module_displayed_timestamp,
    p.module_clicked_timestamp,
    p.click_count,
    coalesce(a.favorite_count, 0) as favorite_after_click_count,
    coalesce(a.booking_count, 0) as booking_after_click_count,
    a.booking_timestamp
from per_session as p
left join
    after_click as a on p.session_id = a.session_id and p.home_module_type = a.home_module_type
where {{ in_run_days("p.event_date") }}
