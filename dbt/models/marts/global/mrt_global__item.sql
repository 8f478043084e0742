-- One row per item: the offers of one work grouped by product (an offer without product is its
-- own item).
select
    o.item_id,
    max(o.offer_product_id) as product_id,
    coalesce(max(p.product_name), min(o.offer_name)) as item_name,
    min(o.offer_category_id) as category_id,
    min(o.offer_subcategory_id) as subcategory_id,
    min(o.search_group_name) as search_group_name,
    max(p.product_ean) as product_ean,
    coalesce(max(p.product_author), max(o.offer_author)) as item_author,
    coalesce(max(p.product_performer), max(o.offer_performer)) as item_performer,
    count(*) as offer_count,
    count(case when o.offer_is_bookable then 1 end) as bookable_offer_count,
    count(distinct o.venue_id) as venue_count,
    {{ as_int('sum(o.booking_count)') }} as booking_count,
    sum(o.booking_amount) as booking_amount,
    {{ as_int('sum(o.favorite_count)') }} as favorite_count,
    min(o.offer_bookable_min_price) as bookable_min_price,
    min(o.offer_creation_date) as first_offer_creation_date,
    max(o.last_booking_at) as last_booking_at
from {{ ref('mrt_global__offer') }} as o
left join {{ ref('int_applicative__product') }} as p on o.offer_product_id = p.product_id
group by o.item_id
