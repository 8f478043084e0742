{{ config(schema='int_siren') }}
-- Sirene status of every offerer: active, closed, unknown to Sirene, not fetched yet (or no SIREN),
-- with its Sirene legal data (name, legal category, NAF code, dates, employee band).
{%- set cols = [('siren', 'string'), ('found_in_sirene', dbt.type_boolean()), ('legal_name', 'string'),
    ('legal_category_code', 'string'), ('naf_code', 'string'), ('naf_nomenclature', 'string'),
    ('administrative_status', 'string'), ('creation_date', 'date'), ('closing_date', 'date'),
    ('employee_band', 'string'), ('company_category', 'string'), ('refreshed_at', 'timestamp')] %}

with
    sirene as (select * from {{ source_or_empty('raw_siren', 'siren_data', cols) }}),

    offerers as (
        select
            offerer_id,
            offerer_name,
            offerer_siren,
            -- the connector asks Sirene for 9-digit SIRENs: an integer copy may have lost leading
            -- zeros
            lpad(offerer_siren, 9, '0') as siren
        from {{ ref('int_applicative__offerer') }}
    )

select
    o.offerer_id,
    o.offerer_name,
    o.offerer_siren,
    case
        when o.offerer_siren is null
        then 'no_siren'
        when s.siren is null
        then 'not_fetched'
        when not s.found_in_sirene
        then 'unknown_to_sirene'
        when s.administrative_status = 'C'
        then 'closed'
        else 'active'
    end as sirene_status,
    s.legal_name as sirene_legal_name,
    s.legal_category_code,
    s.naf_code,
    s.creation_date as company_creation_date,
    s.closing_date as company_closing_date,
    s.employee_band,
    s.company_category,
    s.refreshed_at as sirene_refreshed_at
from offerers as o
left join sirene as s on s.siren = o.siren
