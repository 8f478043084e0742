select
    {{ as_id('offerer_id') }} as offerer_id,
    cast(offerer_name as {{ dbt.type_string() }}) as offerer_name,
    cast(offerer_siren as {{ dbt.type_string() }}) as offerer_siren,
    {{ as_bool('offerer_is_active') }} as offerer_is_active,
    cast(offerer_validation_status as {{ dbt.type_string() }}) as offerer_validation_status,
    {{ as_ts('offerer_creation_date') }} as offerer_creation_date,
    {{ as_ts('offerer_validation_date') }} as offerer_validation_date
from {{ source('raw', 'applicative_database_offerer') }}
