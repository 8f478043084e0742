-- Individual side: whoever booked was a beneficiary when they booked: a beneficiary period of the
-- booking's user covers the booking (from a grant to the next grant or the expiry).
select b.booking_id, b.user_id, b.booking_created_at
from {{ ref("mrt_global__booking") }} as b
where
    not exists (
        select 1
        from {{ ref("mrt_global__user_beneficiary_history") }} as h
        where
            h.user_id = b.user_id
            and h.beneficiary_from <= b.booking_created_at
            and (h.beneficiary_to is null or b.booking_created_at <= h.beneficiary_to)
    )
