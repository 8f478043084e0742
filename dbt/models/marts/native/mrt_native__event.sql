-- Every app event (screens, searches, consultations, venue map, bookings), one row each, with the
-- offer's venue, structure and taxonomy. The analysts' entry point to the app's tracking: events of
-- visitors who accepted analytics cookies, logged-in or not.
-- Incremental by day (macros/incremental.sql).
{{ config(**incremental_by_day("event_date", cluster_by=["event_name"])) }}

with
    events as (
        select
            e.*,
            -- identical events of a session at the same second are told apart by their rank
            row_number() over (
                partition by e.session_id, e.event_timestamp, e.event_name, e.offer_id, e.venue_id
                order by e.origin, e.reco_call_id
            ) as event_rank
        from {{ ref("int_firebase__event") }} as e
        where {{ in_run_days("e.event_date") }}
    )

select
    {{ composite_key(["e.session_id", "e.event_timestamp", "e.event_name", "e.offer_id", "e.venue_id", "e.event_rank"]) }}
    as event_id,
    e.event_date,
    e.event_timestamp,
    e.event_name,
    e.user_id,
    e.user_pseudo_id,
    e.user_id is not null as user_is_logged_in,
    e.session_id,
    e.platform,
    e.app_version,
    e.origin,
    e.offer_id,
    o.offer_name,
    o.item_id,
    o.offer_subcategory_id,
    o.offer_category_id,
    coalesce(e.venue_id, o.venue_id) as venue_id,
    v.offerer_id,
    e.reco_call_id,
    e.search_query,
    e.duration_seconds
from events as e
left join {{ ref("int_applicative__offer") }} as o on e.offer_id = o.offer_id
left join {{ ref("int_applicative__venue") }} as v on coalesce(e.venue_id, o.venue_id) = v.venue_id
