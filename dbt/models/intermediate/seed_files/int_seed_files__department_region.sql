{{ config(schema='int_seed_files') }}
-- Department -> region, from the hand-maintained reference file (seed.region_department).
{%- set cols = [('department_code', 'string'), ('department_name', 'string'), ('region_code', 'string'),
    ('region_name', 'string')] %}
select
    cast(department_code as {{ dbt.type_string() }}) as department_code,
    cast(department_name as {{ dbt.type_string() }}) as department_name,
    cast(region_code as {{ dbt.type_string() }}) as region_code,
    cast(region_name as {{ dbt.type_string() }}) as region_name
from {{ source_or_empty('seed_files', 'region_department', cols) }}
