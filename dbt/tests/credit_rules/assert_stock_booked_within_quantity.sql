-- The backend refuses a booking beyond a stock's quantity: the non-cancelled bookings of a stock
-- with a quantity (null = unlimited) book at most that quantity.
select stock_id, offer_id, stock_quantity, stock_booked_quantity
from {{ ref("int_applicative__stock") }}
where stock_quantity is not null and stock_booked_quantity > stock_quantity
