-- Cultural partners as the ministry counts them (a permanent venue, else its offerer), with their
-- offers and bookings (individual and collective).
with
    venue as (
        select p.partner_id, p.partner_type, p.offerer_id, v.*
        from {{ ref("int_applicative__venue_partner") }} as p
        inner join
            (
                select
                    venue_id as v_venue_id,
                    venue_name,
                    venue_type_code,
                    venue_department_code,
                    offer_count,
                    bookable_offer_count,
                    booking_count,
                    booking_amount,
                    first_offer_creation_date
                from {{ ref("mrt_global__venue") }}
            ) as v
            on p.venue_id = v.v_venue_id
    ),

    collective as (
        select p.partner_id, count(*) as collective_booking_count
        from {{ ref("int_applicative__collective_booking") }} as c
        inner join {{ ref("int_applicative__venue_partner") }} as p on c.venue_id = p.venue_id
        where not c.collective_booking_is_cancelled
        group by p.partner_id
    ),

    partners as (
        select
            partner_id,
            min(partner_type) as partner_type,
            min(offerer_id) as offerer_id,
            case when min(partner_type) = 'PERMANENT_VENUE' then min(v_venue_id) end as venue_id,
            count(*) as venue_count,
            min(venue_department_code) as partner_department_code,
            {{ as_int("sum(offer_count)") }} as offer_count,
            {{ as_int("sum(bookable_offer_count)") }} as bookable_offer_count,
            {{ as_int("sum(booking_count)") }} as booking_count,
            sum(booking_amount) as booking_amount,
            min(first_offer_creation_date) as first_offer_creation_date,
            max(venue_type_code) as partner_venue_type_code,
            max(venue_name) as max_venue_name
        from venue
        group by partner_id
    )

select
    p.partner_id,
    p.partner_type,
    p.offerer_id,
    p.venue_id,
    case
        when p.partner_type = 'PERMANENT_VENUE' then p.max_venue_name else o.offerer_name
    end as partner_name,
    p.partner_venue_type_code,
    p.partner_department_code,
    p.venue_count,
    p.offer_count,
    p.bookable_offer_count,
    p.booking_count,
    p.booking_amount,
    coalesce(c.collective_booking_count, 0) as collective_booking_count,
    p.first_offer_creation_date,
    p.bookable_offer_count > 0 as partner_is_active
from partners as p
left join {{ ref("int_applicative__offerer") }} as o on p.offerer_id = o.offerer_id
left join collective as c on p.partner_id = c.partner_id
