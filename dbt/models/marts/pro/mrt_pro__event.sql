-- Every tracked pro portal event (pages seen, clicks), one row each, with the structure's name and
-- the portal feature it belongs to. Tracking depends on the visitor's cookie consent: for
-- exhaustive
-- counts of a few actions, see mrt_pro__log.
-- Incremental by day (macros/incremental.sql).
{{ config(**incremental_by_day("event_date", cluster_by=["event_name"])) }}

with
    events as (
        select
            e.*,
            row_number() over (
                partition by e.unique_session_id, e.event_timestamp, e.event_name, e.page_location
                order by e.offer_id
            ) as event_rank
        from {{ ref("int_firebase__pro_event") }} as e
        where {{ in_run_days("e.event_date") }}
    )

select
    {{ composite_key(["e.unique_session_id", "e.event_timestamp", "e.event_name", "e.page_location", "e.event_rank"]) }}
    as event_id,
    e.event_date,
    e.event_timestamp,
    e.event_name,
    e.page_name,
    e.page_location,
    e.page_referrer,
    e.feature,
    e.user_id,
    e.user_pseudo_id,
    e.session_id,
    e.unique_session_id,
    e.session_number,
    e.offerer_id,
    o.offerer_name,
    e.venue_id,
    e.offer_id,
    e.download_format,
    e.traffic_source,
    e.traffic_medium,
    e.traffic_campaign,
    e.user_device_category,
    e.user_web_browser
from events as e
left join {{ ref("int_applicative__offerer") }} as o on e.offerer_id = o.offerer_id
