-- The pro portal's school bookings (ClickHouse `intermediate.collective_booking`, one partition per
-- export day). Cancelled bookings are left out.
select
    venue_id,
    offerer_id,
    collective_offer_id,
    {{ as_date("collective_booking_creation_date") }} as creation_date,
    {{ as_date("collective_booking_used_date") }} as used_date,
    {{ as_date("collective_booking_reimbursement_date") }} as reimbursement_date,
    collective_booking_status,
    educational_institution_id,
    {{ as_int("collective_booking_number_of_tickets") }} as number_of_tickets,
    {{ as_float("collective_booking_amount") }} as booking_amount
from {{ ref("mrt_global__collective_booking") }}
where offerer_id is not null and collective_booking_status != 'CANCELLED'
