-- The pro portal's individual bookings (ClickHouse `intermediate.booking`, one partition per export
-- day): what each venue sold, by offer, status and deposit type. Cancelled bookings are left out.
select
    venue_id,
    offerer_id,
    offer_id,
    {{ as_date("booking_creation_date") }} as creation_date,
    {{ as_date("booking_used_date") }} as used_date,
    booking_status,
    deposit_type,
    {{ as_int("booking_quantity") }} as booking_quantity,
    {{ as_float("booking_intermediary_amount") }} as booking_amount
from {{ ref("mrt_global__booking") }}
where offerer_id is not null and booking_status != 'CANCELLED'
