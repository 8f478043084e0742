-- Offer consultations of logged-in users, one row each, with how much each one discovered: a first
-- consultation of the item, of the subcategory, of the category (each 0 or 1; the discovery score
-- is
-- their sum), and where it came from (macro origin: home, search, venue, venue map...).
-- Incremental by day: a run ranks its days' consultations among themselves and against what each
-- user had consulted before those days, read from this model's earlier days (a first is first over
-- the user's whole history).
{{ config(**incremental_by_day("consultation_date", cluster_by=["origin"])) }}

{%- set start = run_days_start() %}

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
        where
            event_name = 'ConsultOffer'
            and user_id is not null
            and item_id is not null
            and {{ in_run_days("event_date") }}
    ),

    -- What each user consulted before the run's days: this model's own earlier rows (the same
    -- consultations as the events', a third of their rows); none in a full build.
    earlier as (
        select distinct user_id, item_id, offer_subcategory_id, offer_category_id
        from
        {% if start is not none -%} {{ this }} where consultation_date < {{ _date_literal(start) }}
        {%- else -%} {{ ref("mrt_native__event") }} where false
        {%- endif %}
    ),

    ranked as (
        select
            c.*,
            row_number() over (
                partition by c.user_id, c.item_id order by c.event_timestamp, c.event_id
            ) as item_rank,
            row_number() over (
                partition by c.user_id, c.offer_subcategory_id
                order by c.event_timestamp, c.event_id
            ) as subcategory_rank,
            row_number() over (
                partition by c.user_id, c.offer_category_id order by c.event_timestamp, c.event_id
            ) as category_rank
        from consultations as c
    ),

    scored as (
        select
            r.*,
            {{ first_in_history("item_id", "item_rank") }} as item_discovery_score,
            {{ first_in_history("offer_subcategory_id", "subcategory_rank") }}
            as subcategory_discovery_score,
            {{ first_in_history("offer_category_id", "category_rank") }} as category_discovery_score
        from ranked as r
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
    item_discovery_score,
    subcategory_discovery_score,
    category_discovery_score,
    item_discovery_score + subcategory_discovery_score + category_discovery_score as discovery_score
from scored
