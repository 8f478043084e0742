-- Special events (an offerer's call for young participants through a form) and each answer: one
-- row per answer, events without answers kept with empty answer columns.
select
    {{ composite_key(['e.special_event_id', 'r.special_event_response_id']) }}
    as special_event_response_key,
    {{ as_id('e.special_event_id') }} as special_event_id,
    cast(e.special_event_title as {{ dbt.type_string() }}) as special_event_title,
    {{ as_id('e.offerer_id') }} as offerer_id,
    {{ as_id('e.venue_id') }} as venue_id,
    cast(e.typeform_id as {{ dbt.type_string() }}) as typeform_id,
    {{ as_ts('e.special_event_creation_date') }} as special_event_creation_date,
    {{ as_date('e.special_event_date') }} as special_event_date,
    {{ as_date('e.special_event_end_date') }} as special_event_end_date,
    {{ as_id('r.special_event_response_id') }} as special_event_response_id,
    {{ as_id('r.user_id') }} as user_id,
    cast(
        r.special_event_response_status as {{ dbt.type_string() }}
    ) as special_event_response_status,
    {{ as_ts('r.special_event_response_submitted_date') }} as special_event_response_submitted_date
from {{ source('raw', 'applicative_database_special_event') }} as e
left join
    {{ source('raw', 'applicative_database_special_event_response') }} as r
    on e.special_event_id = r.special_event_id
