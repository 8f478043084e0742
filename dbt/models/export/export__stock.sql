-- The ministry's stock export.
select
    stock_id,
    offer_id,
    venue_id,
    stock_price,
    stock_quantity,
    stock_booked_quantity,
    stock_beginning_date,
    stock_booking_limit_date,
    stock_is_soft_deleted,
    stock_is_bookable,
    booking_count,
    booking_amount
from {{ ref("mrt_global__stock") }}
