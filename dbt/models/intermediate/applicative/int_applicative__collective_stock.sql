-- Collective stocks: the price of a school outing for a whole class and its date.
select
    {{ as_id("collective_stock_id") }} as collective_stock_id,
    {{ as_id("collective_offer_id") }} as collective_offer_id,
    {{ as_float("collective_stock_price") }} as collective_stock_price,
    {{ as_int("collective_stock_number_of_tickets") }} as collective_stock_number_of_tickets,
    {{ as_ts("collective_stock_beginning_date") }} as collective_stock_beginning_date,
    {{ as_ts("collective_stock_booking_limit_date") }} as collective_stock_booking_limit_date,
    {{ as_ts("collective_stock_creation_date") }} as collective_stock_creation_date,
    {{ as_ts("collective_stock_modification_date") }} as collective_stock_modification_date
from {{ source("raw", "applicative_database_collective_stock") }}
