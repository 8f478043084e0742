-- What teachers do on Adage (the national education's platform where they find and book pass
-- Culture's school offers): one row per logged action, with the school, the offer, its venue and
-- offerer.
with
    logs as (
        select
            {{ as_date('event_date') }} as event_date,
            {{ as_ts('event_timestamp') }} as event_timestamp,
            cast(event_name as {{ dbt.type_string() }}) as event_name,
            cast(user_id as {{ dbt.type_string() }}) as user_id,
            cast(uai as {{ dbt.type_string() }}) as uai,
            cast(user_role as {{ dbt.type_string() }}) as user_role,
            cast(session_id as {{ dbt.type_string() }}) as session_id,
            cast(source as {{ dbt.type_string() }}) as source,
            cast(origin as {{ dbt.type_string() }}) as origin,
            {{ as_id('collective_offer_id') }} as collective_offer_id,
            {{ as_id('collective_stock_id') }} as collective_stock_id,
            {{ as_id('collective_booking_id') }} as collective_booking_id,
            cast(query_id as {{ dbt.type_string() }}) as query_id,
            {{ as_int('total_results') }} as total_results,
            cast(text_filter as {{ dbt.type_string() }}) as text_filter,
            cast(department_filter as {{ dbt.type_string() }}) as department_filter,
            {{ as_int('rank_clicked') }} as rank_clicked,
            {{ as_bool('is_favorite') }} as is_favorite
        from {{ source('raw', 'adage_logs') }}
    )

select
    {{ composite_key(['l.session_id', 'l.event_timestamp', 'l.event_name', 'l.collective_offer_id']) }}
    as adage_log_id,
    l.*,
    i.educational_institution_id,
    i.institution_department_code,
    o.venue_id,
    o.offerer_id,
    o.collective_offer_students as offer_students,
    o.collective_offer_format as offer_format
from logs as l
left join {{ ref('mrt_global__educational_institution') }} as i on l.uai = i.institution_uai
left join
    {{ ref('mrt_global__collective_offer') }} as o on l.collective_offer_id = o.collective_offer_id
