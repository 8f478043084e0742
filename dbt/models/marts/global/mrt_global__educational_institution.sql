-- Schools and what they booked: collective bookings, amounts and the school years they booked in.
with
    bookings as (
        select
            educational_institution_id,
            count(*) as collective_booking_count,
            count(
                case when not collective_booking_is_cancelled then 1 end
            ) as confirmed_collective_booking_count,
            coalesce(
                sum(
                    case when not collective_booking_is_cancelled then collective_booking_amount end
                ),
                0
            ) as collective_booking_amount,
            count(distinct educational_year_id) as educational_year_count,
            count(distinct venue_id) as venue_count,
            min(collective_booking_created_at) as first_collective_booking_at,
            max(collective_booking_created_at) as last_collective_booking_at
        from {{ ref("int_applicative__collective_booking") }}
        group by educational_institution_id
    )

select
    i.educational_institution_id,
    i.institution_uai,
    i.institution_name,
    i.institution_type,
    i.institution_city,
    i.institution_department_code,
    coalesce(b.collective_booking_count, 0) as collective_booking_count,
    coalesce(b.confirmed_collective_booking_count, 0) as confirmed_collective_booking_count,
    coalesce(b.collective_booking_amount, 0) as collective_booking_amount,
    coalesce(b.educational_year_count, 0) as educational_year_count,
    coalesce(b.venue_count, 0) as venue_count,
    b.first_collective_booking_at,
    b.last_collective_booking_at
from {{ ref("int_applicative__educational_institution") }} as i
left join bookings as b on i.educational_institution_id = b.educational_institution_id
