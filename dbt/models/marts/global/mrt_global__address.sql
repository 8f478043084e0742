-- Addresses where offers take place (the app's geocoded BAN addresses), with their region and how
-- many offerer addresses point to each.
with
    uses as (
        select address_id, count(*) as offerer_address_count
        from {{ source('raw', 'applicative_database_offerer_address') }}
        group by address_id
    )

select
    {{ as_id('a.address_id') }} as address_id,
    cast(a.address_ban_id as {{ dbt.type_string() }}) as address_ban_id,
    cast(a.address_insee_code as {{ dbt.type_string() }}) as address_insee_code,
    cast(a.address_street as {{ dbt.type_string() }}) as address_street,
    cast(a.address_postal_code as {{ dbt.type_string() }}) as address_postal_code,
    cast(a.address_city as {{ dbt.type_string() }}) as address_city,
    {{ as_float('a.address_latitude') }} as address_latitude,
    {{ as_float('a.address_longitude') }} as address_longitude,
    cast(a.address_department_code as {{ dbt.type_string() }}) as address_department_code,
    geo.region_name as address_region_name,
    coalesce(u.offerer_address_count, 0) as offerer_address_count
from {{ source('raw', 'applicative_database_address') }} as a
left join uses as u on a.address_id = u.address_id
left join
    {{ ref('int_seed_files__department_region') }} as geo
    on cast(a.address_department_code as {{ dbt.type_string() }}) = geo.department_code
