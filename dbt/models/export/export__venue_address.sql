-- The ministry's venue-location export: where each physical venue is (coordinates, commune,
-- department, region, IRIS, priority-district postal code). Digital venues have no location.
select
    venue_id,
    venue_latitude,
    venue_longitude,
    venue_postal_code,
    venue_city,
    venue_department_code,
    venue_region_name,
    venue_in_qpv_postal_code,
    {{ iris_of("venue_latitude", "venue_longitude") }} as venue_iris_code
from {{ ref("mrt_global__venue") }}
where not venue_is_virtual and venue_latitude is not null
