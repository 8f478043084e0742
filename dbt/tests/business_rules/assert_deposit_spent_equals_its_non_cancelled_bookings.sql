-- Individual side: a deposit's spent amount is the sum of its non-cancelled bookings (price x
-- quantity), as the bookings mart reports them.
with
    booked as (
        select deposit_id, sum(booking_intermediary_amount) as amount
        from {{ ref("mrt_global__booking") }}
        where not booking_is_cancelled
        group by deposit_id
    )

select d.deposit_id, d.deposit_spent_amount, b.amount
from {{ ref("mrt_global__deposit") }} as d
left join booked as b on d.deposit_id = b.deposit_id
where abs(d.deposit_spent_amount - coalesce(b.amount, 0)) > 0.005
