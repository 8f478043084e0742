-- Offer consultations by known users, with what was consulted (item, taxonomy).
-- Incremental by day: a day keeps the offer's attributes of the run that wrote it.
{{ config(**incremental_by_day('event_date', cluster_by=['user_id'])) }}

select
    e.event_date,
    e.event_timestamp,
    e.user_id,
    e.user_pseudo_id,
    e.session_id,
    e.platform,
    e.origin,
    e.reco_call_id,
    e.offer_id,
    o.item_id,
    o.offer_name,
    o.offer_category_id,
    o.offer_subcategory_id,
    o.offer_bookable_min_price,
    o.offer_min_price
from {{ ref('int_firebase__event') }} as e
inner join {{ ref('int_applicative__offer') }} as o on e.offer_id = o.offer_id
where e.event_name = 'ConsultOffer' and e.user_id is not null and {{ in_run_days('e.event_date') }}
