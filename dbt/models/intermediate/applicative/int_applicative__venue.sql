-- Current state of venues: clean types, plus the offerer's name and whether the venue can be
-- located.
select
    {{ as_id('v.venue_id') }} as venue_id,
    {{ humanize_id('v.venue_id') }} as venue_humanized_id,
    {{ as_id('v.venue_managing_offerer_id') }} as offerer_id,
    cast(v.venue_name as {{ dbt.type_string() }}) as venue_name,
    cast(v.venue_public_name as {{ dbt.type_string() }}) as venue_public_name,
    cast(v.venue_siret as {{ dbt.type_string() }}) as venue_siret,
    cast(v.venue_type_code as {{ dbt.type_string() }}) as venue_type_code,
    {{ as_bool('v.venue_is_permanent') }} as venue_is_permanent,
    {{ as_bool('v.venue_is_open_to_public') }} as venue_is_open_to_public,
    {{ as_bool('v.venue_is_virtual') }} as venue_is_virtual,
    {{ as_float('v.venue_latitude') }} as venue_latitude,
    {{ as_float('v.venue_longitude') }} as venue_longitude,
    cast(v.venue_postal_code as {{ dbt.type_string() }}) as venue_postal_code,
    cast(v.venue_department_code as {{ dbt.type_string() }}) as venue_department_code,
    cast(v.venue_city as {{ dbt.type_string() }}) as venue_city,
    o.offerer_name
from {{ source('raw', 'applicative_database_venue') }} as v
left join
    {{ ref('int_applicative__offerer') }} as o
    on {{ as_id('v.venue_managing_offerer_id') }} = o.offerer_id
