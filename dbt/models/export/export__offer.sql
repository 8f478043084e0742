-- The ministry's offer export.
select
    offer_id,
    offer_humanized_id,
    item_id,
    venue_id,
    offerer_id,
    offer_name,
    offer_category_id,
    offer_subcategory_id,
    offer_is_event,
    offer_is_digital,
    offer_is_duo,
    offer_is_bookable,
    offer_validation,
    offer_creation_date,
    offer_bookable_min_price,
    booking_count,
    booking_amount
from {{ ref("mrt_global__offer") }}
