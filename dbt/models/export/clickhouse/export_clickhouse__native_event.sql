-- The pro portal's app events on offers (ClickHouse `intermediate.native_event`, one partition per
-- event day): consultations and favourites, by offer and venue. No user id: the portal counts.
-- Incremental by day: a run rewrites its days and the look-back before them (late events); the
-- export reads those partitions and rewrites them in ClickHouse.
{{ config(**incremental_by_day('partition_date', cluster_by=['event_name'])) }}

select
    e.event_date as partition_date,
    e.event_name,
    e.event_timestamp,
    e.offer_id,
    o.venue_id,
    e.origin,
    {{ as_int("case when e.event_name = 'ConsultVenue' then 1 else 0 end") }} as is_consult_venue,
    {{ as_int("case when e.event_name = 'ConsultOffer' then 1 else 0 end") }} as is_consult_offer,
    {{ as_int("case when e.event_name = 'HasAddedOfferToFavorites' then 1 else 0 end") }}
    as is_add_to_favorites
from {{ ref("int_firebase__event") }} as e
left join {{ ref("int_applicative__offer") }} as o on e.offer_id = o.offer_id
where
    {{ in_run_days('e.event_date') }}
    and e.event_name in ('ConsultOffer', 'ConsultVenue', 'HasAddedOfferToFavorites')
