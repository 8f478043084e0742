{{ config(schema='int_addresses') }}
-- Each geocoded user's location from the BAN. A low-score answer (or none) is kept for audit but is
-- never a location: its coordinates, department and region are null here.
{%- set cols = [('user_id', 'bigint'), ('label', 'string'), ('score', 'float'), ('result_type', 'string'),
    ('latitude', 'float'), ('longitude', 'float'), ('city_code', 'string'), ('postcode', 'string'),
    ('department_code', 'string'), ('region_name', 'string'), ('is_low_score', dbt.type_boolean()),
    ('geocoded_at', 'timestamp')] %}

select
    {{ as_id('user_id') }} as user_id,
    label as address_label,
    score as address_score,
    result_type as address_result_type,
    is_low_score as address_is_low_score,
    case when not is_low_score then latitude end as latitude,
    case when not is_low_score then longitude end as longitude,
    case when not is_low_score then city_code end as city_code,
    case when not is_low_score then postcode end as postcode,
    case when not is_low_score then department_code end as department_code,
    case when not is_low_score then region_name end as region_name,
    geocoded_at
from {{ source_or_empty('raw_addresses', 'addresses_user_address', cols) }}
