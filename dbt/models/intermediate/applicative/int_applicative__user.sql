select
    {{ as_id('user_id') }} as user_id,
    {{ as_ts('user_creation_date') }} as user_creation_date,
    cast(user_role as {{ dbt.type_string() }}) as user_role,
    {{ as_date('user_birth_date') }} as user_birth_date,
    cast(user_department_code as {{ dbt.type_string() }}) as user_department_code,
    cast(user_postal_code as {{ dbt.type_string() }}) as user_postal_code,
    cast(user_city as {{ dbt.type_string() }}) as user_city,
    {{ as_bool('user_is_active') }} as user_is_active,
    {{ as_ts('user_last_connection_date') }} as user_last_connection_date,
    {{ as_bool('user_has_enabled_marketing_email') }} as user_has_enabled_marketing_email,
    {{ as_bool('user_has_enabled_marketing_push') }} as user_has_enabled_marketing_push,
    {{ age_at(as_date('user_birth_date'), as_of_date()) }} as user_age
from {{ source('raw', 'applicative_database_user') }}
