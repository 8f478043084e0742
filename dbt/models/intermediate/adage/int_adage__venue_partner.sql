{{ config(schema='int_adage') }}
-- Venues linked to their Adage cultural partner: by the partner's pass Culture venue id, else by
-- SIRET
-- (a partner not synchronised with pass Culture yet). Partners matching no venue are kept (venue
-- null).
{%- set cols = [('partner_id', 'bigint'), ('venue_id', 'bigint'), ('siret', 'string'),
    ('partner_name', 'string'), ('partner_type', 'string'), ('partner_label', 'string'),
    ('department_code', 'string'), ('is_active', dbt.type_boolean()), ('modified_at', 'timestamp')] %}

with
    -- ids as every id in the project: strings
    partners as (
        select
            {{ as_id('partner_id') }} as partner_id,
            {{ as_id('venue_id') }} as venue_id,
            siret,
            partner_name,
            partner_type,
            partner_label,
            department_code,
            is_active,
            modified_at
        from {{ source_or_empty('raw_adage', 'adage_partner', cols) }}
    ),

    venues as (
        select venue_id, venue_name, venue_siret, venue_department_code, offerer_id
        from {{ ref('int_applicative__venue') }}
    ),

    by_id as (
        select p.partner_id, v.venue_id, 'venue_id' as link
        from partners as p
        inner join venues as v on v.venue_id = p.venue_id
    ),

    by_siret as (
        select p.partner_id, min(v.venue_id) as venue_id, 'siret' as link
        from partners as p
        inner join venues as v on v.venue_siret = p.siret
        where p.partner_id not in (select partner_id from by_id)
        group by p.partner_id
    ),

    links as (
        select *
        from by_id
        union all
        select *
        from by_siret
    )

select
    p.partner_id,
    p.partner_name,
    p.partner_type,
    p.partner_label,
    p.is_active as partner_is_active,
    p.modified_at as partner_modified_at,
    l.venue_id,
    l.link as venue_link,
    v.venue_name,
    v.offerer_id,
    coalesce(v.venue_department_code, p.department_code) as department_code
from partners as p
left join links as l on l.partner_id = p.partner_id
left join venues as v on v.venue_id = l.venue_id
