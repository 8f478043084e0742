-- Collective bookings: a school books a collective stock for a class, paid from its deposit of
-- the school year. The amount is the stock's price (the whole class, not per pupil).
select
    {{ as_id("b.collective_booking_id") }} as collective_booking_id,
    {{ as_id("b.collective_stock_id") }} as collective_stock_id,
    s.collective_offer_id,
    {{ as_id("b.venue_id") }} as venue_id,
    {{ as_id("b.offerer_id") }} as offerer_id,
    {{ as_id("b.educational_institution_id") }} as educational_institution_id,
    cast(b.educational_year_id as {{ dbt.type_string() }}) as educational_year_id,
    cast(b.collective_booking_status as {{ dbt.type_string() }}) as collective_booking_status,
    cast(b.collective_booking_status as {{ dbt.type_string() }})
    = 'CANCELLED' as collective_booking_is_cancelled,
    s.collective_stock_price as collective_booking_amount,
    s.collective_stock_number_of_tickets as collective_booking_number_of_tickets,
    s.collective_stock_beginning_date,
    {{ as_ts("b.collective_booking_creation_date") }} as collective_booking_created_at,
    {{ as_date("b.collective_booking_creation_date") }} as collective_booking_creation_date,
    {{ as_ts("b.collective_booking_confirmation_date") }} as collective_booking_confirmation_date,
    {{ as_ts("b.collective_booking_used_date") }} as collective_booking_used_date,
    {{ as_ts("b.collective_booking_cancellation_date") }} as collective_booking_cancellation_date,
    cast(
        b.collective_booking_cancellation_reason as {{ dbt.type_string() }}
    ) as collective_booking_cancellation_reason,
    {{ as_ts("b.collective_booking_reimbursement_date") }} as collective_booking_reimbursement_date
from {{ source("raw", "applicative_database_collective_booking") }} as b
left join
    {{ ref("int_applicative__collective_stock") }} as s
    on {{ as_id("b.collective_stock_id") }} = s.collective_stock_id
