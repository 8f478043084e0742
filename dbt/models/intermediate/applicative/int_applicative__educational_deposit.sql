-- An institution's collective credit per school year, as its collective bookings consume it.
-- The raw layer has no educational_deposit table yet (the import copies the tables listed in
-- data_gcp.applicative_schema), so the deposit is the (institution, school year) pair the bookings
-- are paid from, with what was committed, used and reimbursed on it.
select
    {{
        dbt.concat(
            ["educational_institution_id", "'|'", "educational_year_id"]
        )
    }} as educational_deposit_id,
    educational_institution_id,
    educational_year_id,
    count(*) as collective_booking_count,
    count(
        case when not collective_booking_is_cancelled then 1 end
    ) as confirmed_collective_booking_count,
    count(
        case when collective_booking_is_cancelled then 1 end
    ) as cancelled_collective_booking_count,
    coalesce(
        sum(case when not collective_booking_is_cancelled then collective_booking_amount end), 0
    ) as educational_deposit_spent_amount,
    coalesce(
        sum(
            case
                when collective_booking_status in ('USED', 'REIMBURSED')
                then collective_booking_amount
            end
        ),
        0
    ) as educational_deposit_used_amount,
    coalesce(
        sum(case when collective_booking_status = 'REIMBURSED' then collective_booking_amount end),
        0
    ) as educational_deposit_reimbursed_amount,
    min(collective_booking_created_at) as first_collective_booking_at,
    max(collective_booking_created_at) as last_collective_booking_at
from {{ ref("int_applicative__collective_booking") }}
group by educational_institution_id, educational_year_id
