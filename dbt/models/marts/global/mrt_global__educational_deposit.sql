-- An institution's collective credit per school year and how its bookings consumed it.
select
    d.educational_deposit_id,
    d.educational_institution_id,
    d.educational_year_id,
    i.institution_type,
    i.institution_department_code,
    d.collective_booking_count,
    d.confirmed_collective_booking_count,
    d.cancelled_collective_booking_count,
    d.educational_deposit_spent_amount,
    d.educational_deposit_used_amount,
    d.educational_deposit_reimbursed_amount,
    d.first_collective_booking_at,
    d.last_collective_booking_at
from {{ ref("int_applicative__educational_deposit") }} as d
left join
    {{ ref("int_applicative__educational_institution") }} as i
    on d.educational_institution_id = i.educational_institution_id
