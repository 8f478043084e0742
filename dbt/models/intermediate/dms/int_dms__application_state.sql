{{ config(schema='int_dms') }}
-- DMS applications per audience, procedure and state, with the median time to a decision.
{%- set cols = [('dossier_id', 'string'), ('dossier_number', 'bigint'), ('procedure_id', 'bigint'),
    ('state', 'string'), ('deposit_at', 'timestamp'), ('instruction_at', 'timestamp'),
    ('processing_at', 'timestamp'), ('last_modified_at', 'timestamp'), ('instructor_emails', 'string'),
    ('applicant_email_hash', 'string'), ('applicant_siret', 'string'), ('fields', 'string'),
    ('loaded_date', 'date')] %}

with
    dossiers as (
        select 'young' as audience, *
        from {{ source_or_empty('raw_dms', 'dms_young', cols) }}
        union all
        select 'pro' as audience, *
        from {{ source_or_empty('raw_dms', 'dms_pro', cols) }}
    )

select
    audience,
    procedure_id,
    state,
    count(*) as application_count,
    min(deposit_at) as first_deposit_at,
    max(last_modified_at) as last_modified_at,
    avg(
        case
            when processing_at is not null
            then {{ dbt.datediff('deposit_at', 'processing_at', 'hour') }} / 24.0
        end
    ) as avg_days_to_decision
from dossiers
group by audience, procedure_id, state
