-- Offer consultations of logged-in users, one row each, with how much each one discovered: a first
-- consultation of the item, of the subcategory, of the category (each 0 or 1; the discovery score is
-- their sum), and where it came from (macro origin: home, search, venue, venue map...).
{{ config(partition_by=bq_partition("consultation_date"), cluster_by=bq_cluster(["origin"])) }}

with
    consultations as (
        select
            event_id,
            event_date,
            event_timestamp,
            user_id,
            session_id,
            offer_id,
            item_id,
            offer_subcategory_id,
            offer_category_id,
            venue_id,
            offerer_id,
            origin
        from {{ ref("mrt_native__event") }}
        where event_name = 'ConsultOffer' and user_id is not null and item_id is not null
    ),

    ranked as (
        select
            c.*,
            row_number() over (
                partition by user_id, item_id order by event_timestamp, event_id
            ) as item_rank,
            row_number() over (
                partition by user_id, offer_subcategory_id order by event_timestamp, event_id
            ) as subcategory_rank,
            row_number() over (
                partition by user_id, offer_category_id order by event_timestamp, event_id
            ) as category_rank
        from consultations as c
    )

select
    event_id as consultation_id,
    event_date as consultation_date,
    event_timestamp as consultation_timestamp,
    user_id,
    session_id,
    offer_id,
    item_id,
    offer_subcategory_id,
    offer_category_id,
    venue_id,
    offerer_id,
    origin,
    case
        when origin = 'home'
        then 'home'
        when origin = 'search'
        then 'search'
        when origin = 'venue'
        then 'venue'
        when origin = 'venueMap'
        then 'venue_map'
        when origin = 'similar_offers'
        then 'similar_offer'
        when origin = 'deeplink'
        then 'deeplink'
        else 'other'
    end as consultation_macro_origin,
    case when item_rank = 1 then 1 else 0 end as item_discovery_score,
    case when subcategory_rank = 1 then 1 else 0 end as subcategory_discovery_score,
    case when category_rank = 1 then 1 else 0 end as category_discovery_score,
    case when item_rank = 1 then 1 else 0 end
    + case when subcategory_rank = 1 then 1 else 0 end
    + case when category_rank = 1 then 1 else 0 end as discovery_score
from ranked
