-- An offerer's addresses: the label it gives each and where it is.
select
    {{ as_id('oa.offerer_address_id') }} as offerer_address_id,
    cast(oa.offerer_address_label as {{ dbt.type_string() }}) as offerer_address_label,
    {{ as_id('oa.address_id') }} as address_id,
    {{ as_id('oa.offerer_id') }} as offerer_id,
    {{ as_ts('oa.offerer_address_creation_date') }} as offerer_address_creation_date,
    a.address_street,
    a.address_postal_code,
    a.address_city,
    a.address_department_code
from {{ source('raw', 'applicative_database_offerer_address') }} as oa
left join {{ ref('mrt_global__address') }} as a on {{ as_id('oa.address_id') }} = a.address_id
