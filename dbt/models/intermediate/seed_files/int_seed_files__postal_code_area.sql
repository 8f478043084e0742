{{ config(schema='int_seed_files') }}
-- One row per postal code that holds a priority district (QPV) or a rural revitalisation commune
-- (ZRR).
-- Users and venues carry a postal code, not a geocoded address: the flags say "in a postal code
-- with a
-- QPV" / "in a ZRR commune's postal code" (an approximation until addresses are geocoded).
{%- set qpv_cols = [('qpv_code', 'string'), ('postal_code', 'string')] %}
{%- set zrr_cols = [('commune_code', 'string'), ('postal_code', 'string'), ('zrr_status', 'string')] %}
with
    qpv as (
        select cast(postal_code as {{ dbt.type_string() }}) as postal_code, count(*) as qpv_count
        from {{ source_or_empty('seed_files', 'qpv', qpv_cols) }}
        group by 1
    ),

    zrr as (
        select
            cast(postal_code as {{ dbt.type_string() }}) as postal_code,
            count(*) as zrr_commune_count
        from {{ source_or_empty('seed_files', 'zrr', zrr_cols) }}
        where zrr_status in ('C', 'P')
        group by 1
    )

select
    coalesce(q.postal_code, z.postal_code) as postal_code,
    coalesce(q.qpv_count, 0) > 0 as is_in_qpv_postal_code,
    coalesce(z.zrr_commune_count, 0) > 0 as is_in_zrr
from qpv as q
full outer join zrr as z on q.postal_code = z.postal_code
