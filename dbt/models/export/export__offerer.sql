-- The ministry's offerer export.
select
    offerer_id,
    offerer_name,
    offerer_siren,
    offerer_is_active,
    offerer_validation_status,
    {{ as_date("offerer_creation_date") }} as offerer_creation_date,
    venue_count,
    offer_count,
    bookable_offer_count,
    booking_count,
    booking_amount
from {{ ref("mrt_global__offerer") }}
