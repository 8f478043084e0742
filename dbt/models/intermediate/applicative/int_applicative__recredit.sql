-- Top-ups of an underage deposit (at 16 and 17), with clean types.
select
    {{ as_id("recredit_id") }} as recredit_id,
    {{ as_id("deposit_id") }} as deposit_id,
    {{ as_float("recredit_amount") }} as recredit_amount,
    cast(recredit_type as {{ dbt.type_string() }}) as recredit_type,
    {{ as_ts("recredit_creation_date") }} as recredit_creation_date
from {{ source("raw", "applicative_database_recredit") }}
