-- The offers of events that can be booked now (a bookable stock left): the list partners and the
-- editorial team pick highlights from.
select
    offer_id,
    offer_name,
    offer_creation_date,
    offer_category_id,
    offer_subcategory_id,
    venue_id,
    venue_name,
    venue_type_code,
    venue_department_code,
    offer_bookable_min_price,
    next_stock_beginning_date,
    offer_is_event,
    offer_is_bookable
from {{ ref('mrt_global__offer') }}
where offer_is_event and offer_is_bookable
