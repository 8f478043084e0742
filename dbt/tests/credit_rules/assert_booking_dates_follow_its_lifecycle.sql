-- A booking is created, then used (then reimbursed) or cancelled: each date comes after the one
-- before it, and none is after the day the data describes.
select
    booking_id,
    booking_status,
    booking_created_at,
    booking_used_date,
    booking_cancellation_date,
    booking_reimbursement_date
from {{ ref("int_applicative__booking_base") }}
where
    booking_used_date < booking_created_at
    or booking_cancellation_date < booking_created_at
    or booking_reimbursement_date < booking_used_date
    or booking_reimbursement_date < booking_created_at
    or booking_creation_date > {{ add_days(as_of_date(), 1) }}
