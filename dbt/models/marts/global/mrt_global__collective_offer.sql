-- Collective offers with their venue, offerer, the school they target (when one) and their
-- bookings.
with
    bookings as (
        select
            collective_offer_id,
            count(*) as collective_booking_count,
            count(
                case when not collective_booking_is_cancelled then 1 end
            ) as confirmed_collective_booking_count,
            coalesce(
                sum(
                    case when not collective_booking_is_cancelled then collective_booking_amount end
                ),
                0
            ) as collective_booking_amount
        from {{ ref("int_applicative__collective_booking") }}
        group by collective_offer_id
    )

select
    o.collective_offer_id,
    o.venue_id,
    o.offerer_id,
    o.educational_institution_id,
    o.collective_offer_name,
    o.collective_offer_students,
    o.collective_offer_format,
    o.collective_offer_is_active,
    o.collective_offer_validation,
    o.collective_offer_created_at,
    o.collective_offer_creation_date,
    o.collective_offer_updated_date,
    o.venue_department_code,
    o.collective_stock_count,
    o.collective_offer_min_price,
    o.collective_offer_max_price,
    o.collective_offer_first_beginning_date,
    o.collective_offer_last_booking_limit_date,
    coalesce(b.collective_booking_count, 0) as collective_booking_count,
    coalesce(b.confirmed_collective_booking_count, 0) as confirmed_collective_booking_count,
    coalesce(b.collective_booking_amount, 0) as collective_booking_amount
from {{ ref("int_applicative__collective_offer") }} as o
left join bookings as b on o.collective_offer_id = b.collective_offer_id
