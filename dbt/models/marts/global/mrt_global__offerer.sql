with
    venues as (
        select
            offerer_id,
            count(*) as venue_count,
            count(case when not venue_is_virtual then 1 end) as physical_venue_count,
            {{ as_int('sum(offer_count)') }} as offer_count,
            {{ as_int('sum(bookable_offer_count)') }} as bookable_offer_count,
            {{ as_int('sum(booking_count)') }} as booking_count,
            sum(booking_amount) as booking_amount,
            min(first_offer_creation_date) as first_offer_creation_date
        from {{ ref('mrt_global__venue') }}
        group by offerer_id
    )

select
    o.offerer_id,
    o.offerer_name,
    o.offerer_siren,
    o.offerer_is_active,
    o.offerer_validation_status,
    o.offerer_creation_date,
    o.offerer_validation_date,
    coalesce(v.venue_count, 0) as venue_count,
    coalesce(v.physical_venue_count, 0) as physical_venue_count,
    coalesce(v.offer_count, 0) as offer_count,
    coalesce(v.bookable_offer_count, 0) as bookable_offer_count,
    coalesce(v.booking_count, 0) as booking_count,
    coalesce(v.booking_amount, 0) as booking_amount,
    v.first_offer_creation_date
from {{ ref('int_applicative__offerer') }} as o
left join venues as v on o.offerer_id = v.offerer_id
