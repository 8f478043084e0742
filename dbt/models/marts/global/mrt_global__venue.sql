with
    offers as (
        select
            venue_id,
            count(*) as offer_count,
            count(case when offer_is_bookable then 1 end) as bookable_offer_count,
            {{ as_int('sum(booking_count)') }} as booking_count,
            sum(booking_amount) as booking_amount,
            min(offer_creation_date) as first_offer_creation_date
        from {{ ref('mrt_global__offer') }}
        group by venue_id
    )

select
    v.venue_id,
    v.venue_humanized_id,
    v.offerer_id,
    v.offerer_name,
    v.venue_name,
    v.venue_public_name,
    v.venue_siret,
    v.venue_type_code,
    v.venue_is_permanent,
    v.venue_is_open_to_public,
    v.venue_is_virtual,
    v.venue_latitude,
    v.venue_longitude,
    v.venue_postal_code,
    v.venue_department_code,
    v.venue_city,
    coalesce(o.offer_count, 0) as offer_count,
    coalesce(o.bookable_offer_count, 0) as bookable_offer_count,
    coalesce(o.booking_count, 0) as booking_count,
    coalesce(o.booking_amount, 0) as booking_amount,
    o.first_offer_creation_date,
    geo.region_name as venue_region_name,
    coalesce(area.is_in_qpv_postal_code, false) as venue_in_qpv_postal_code,
    coalesce(area.is_in_zrr, false) as venue_in_zrr
from {{ ref('int_applicative__venue') }} as v
left join offers as o on v.venue_id = o.venue_id
left join
    {{ ref('int_seed_files__department_region') }} as geo
    on v.venue_department_code = geo.department_code
left join
    {{ ref('int_seed_files__postal_code_area') }} as area on v.venue_postal_code = area.postal_code
