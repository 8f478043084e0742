-- School side: an institution's deposit of a school year has spent exactly its non-cancelled
-- collective bookings of that year, and every collective booking is paid from a known deposit.
with
    booked as (
        select educational_deposit_id, sum(collective_booking_amount) as amount
        from {{ ref("mrt_global__collective_booking") }}
        where not collective_booking_is_cancelled
        group by educational_deposit_id
    )

select d.educational_deposit_id, d.educational_deposit_spent_amount, b.amount
from {{ ref("mrt_global__educational_deposit") }} as d
full outer join booked as b on d.educational_deposit_id = b.educational_deposit_id
where
    d.educational_deposit_id is null
    or abs(d.educational_deposit_spent_amount - coalesce(b.amount, 0)) > 0.005
