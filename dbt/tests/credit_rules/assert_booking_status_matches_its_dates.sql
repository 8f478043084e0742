-- The status says which dates a booking has: a cancelled booking has a cancellation date and
-- reason and no reimbursement; a used or reimbursed one has a used date and no cancellation; a
-- reimbursed one a reimbursement date; a confirmed one none of them.
select
    booking_id,
    booking_status,
    booking_used_date,
    booking_cancellation_date,
    booking_cancellation_reason,
    booking_reimbursement_date
from {{ ref("int_applicative__booking_base") }}
where
    (
        booking_status = 'CANCELLED'
        and (
            booking_cancellation_date is null
            or booking_cancellation_reason is null
            or booking_reimbursement_date is not null
        )
    )
    or (
        booking_status in ('USED', 'REIMBURSED')
        and (booking_used_date is null or booking_cancellation_date is not null)
    )
    or (booking_status = 'REIMBURSED' and booking_reimbursement_date is null)
    or (booking_status = 'USED' and booking_reimbursement_date is not null)
    or (
        booking_status = 'CONFIRMED'
        and (
            booking_used_date is not null
            or booking_cancellation_date is not null
            or booking_reimbursement_date is not null
        )
    )
