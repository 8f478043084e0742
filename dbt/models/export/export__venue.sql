-- The ministry's venue export.
select
    venue_id,
    venue_humanized_id,
    offerer_id,
    venue_name,
    venue_public_name,
    venue_siret,
    venue_type_code,
    venue_is_permanent,
    venue_is_virtual,
    venue_postal_code,
    venue_department_code,
    venue_city,
    offer_count,
    bookable_offer_count,
    booking_count,
    booking_amount
from {{ ref("mrt_global__venue") }}
