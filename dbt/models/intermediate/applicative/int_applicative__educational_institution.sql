-- Schools (collèges, lycées) that book collective offers for their classes, with clean types.
select
    {{ as_id("educational_institution_id") }} as educational_institution_id,
    cast(institution_uai as {{ dbt.type_string() }}) as institution_uai,
    cast(institution_name as {{ dbt.type_string() }}) as institution_name,
    cast(institution_type as {{ dbt.type_string() }}) as institution_type,
    cast(institution_city as {{ dbt.type_string() }}) as institution_city,
    cast(institution_department_code as {{ dbt.type_string() }}) as institution_department_code
from {{ source("raw", "applicative_database_educational_institution") }}
