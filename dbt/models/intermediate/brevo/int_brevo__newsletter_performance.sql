{{ config(schema='int_brevo') }}
-- Newsletter performance per campaign and audience, from each campaign's latest daily snapshot.
{%- set cols = [('snapshot_date', 'date'), ('audience', 'string'), ('campaign_id', 'bigint'),
    ('campaign_name', 'string'), ('campaign_utm', 'string'), ('campaign_sent_date', 'timestamp'),
    ('share_link', 'string'), ('audience_size', 'bigint'), ('open_number', 'bigint'),
    ('unsubscriptions', 'bigint')] %}

with
    snapshots as (
        select
            *,
            row_number() over (
                partition by audience, campaign_id order by snapshot_date desc
            ) as snapshot_rank
        from {{ source_or_empty('raw_brevo', 'brevo_newsletters', cols) }}
    )

select
    audience,
    campaign_id,
    campaign_name,
    campaign_utm,
    campaign_sent_date,
    share_link,
    audience_size,
    open_number,
    unsubscriptions,
    case
        when audience_size > 0 then cast(open_number as {{ dbt.type_float() }}) / audience_size
    end as open_rate,
    case
        when audience_size > 0 then cast(unsubscriptions as {{ dbt.type_float() }}) / audience_size
    end as unsubscription_rate,
    snapshot_date as stats_as_of
from snapshots
where snapshot_rank = 1
