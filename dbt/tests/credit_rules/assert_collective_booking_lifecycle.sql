-- School side, same lifecycle as an individual booking: created, confirmed, used, reimbursed (each
-- after the one before) or cancelled (with a date and a reason); booked before the outing starts;
-- the status agrees with the dates.
select
    collective_booking_id,
    collective_booking_status,
    collective_booking_created_at,
    collective_booking_confirmation_date,
    collective_booking_used_date,
    collective_booking_cancellation_date,
    collective_booking_cancellation_reason,
    collective_booking_reimbursement_date,
    collective_stock_beginning_date
from {{ ref("int_applicative__collective_booking") }}
where
    collective_booking_confirmation_date < collective_booking_created_at
    or collective_booking_used_date < collective_booking_created_at
    or collective_booking_used_date < collective_booking_confirmation_date
    or collective_booking_cancellation_date < collective_booking_created_at
    or collective_booking_reimbursement_date < collective_booking_used_date
    or collective_booking_created_at > collective_stock_beginning_date
    or (
        collective_booking_status = 'CANCELLED'
        and (
            collective_booking_cancellation_date is null
            or collective_booking_cancellation_reason is null
        )
    )
    or (
        collective_booking_status <> 'CANCELLED'
        and collective_booking_cancellation_date is not null
    )
    or (
        collective_booking_status in ('USED', 'REIMBURSED') and collective_booking_used_date is null
    )
    or (collective_booking_status = 'REIMBURSED' and collective_booking_reimbursement_date is null)
