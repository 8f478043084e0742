{{ config(schema='int_batch') }}
-- Push campaign stats per app and campaign: totals over the campaign's days (A/B versions summed),
-- open rates, with the campaign's name and push time from its latest daily snapshot.
{%- set campaign_cols = [('snapshot_date', 'date'), ('app', 'string'), ('campaign_token', 'string'),
    ('campaign_name', 'string'), ('created_at', 'timestamp'), ('push_time', 'timestamp'),
    ('is_live', dbt.type_boolean()), ('is_dev_only', dbt.type_boolean()), ('is_from_api', dbt.type_boolean())] %}
{%- set stats_cols = [('app', 'string'), ('campaign_token', 'string'), ('stat_date', 'date'),
    ('version', 'string'), ('sent', 'bigint'), ('direct_open', 'bigint'), ('influenced_open', 'bigint'),
    ('reengaged', 'bigint'), ('errors', 'bigint'), ('loaded_at', 'timestamp')] %}

with
    campaigns as (
        select
            app,
            campaign_token,
            campaign_name,
            push_time,
            is_live,
            is_dev_only,
            row_number() over (
                partition by app, campaign_token order by snapshot_date desc
            ) as snapshot_rank
        from {{ source_or_empty('raw_batch', 'batch_campaigns', campaign_cols) }}
    ),

    stats as (
        select
            app,
            campaign_token,
            min(stat_date) as first_stat_date,
            max(stat_date) as last_stat_date,
            max(case when version in ('a', 'b') then 1 else 0 end) = 1 as is_ab_test,
            sum(sent) as sent,
            sum(direct_open) as direct_open,
            sum(influenced_open) as influenced_open,
            sum(reengaged) as reengaged,
            sum(errors) as errors
        from {{ source_or_empty('raw_batch', 'batch_campaign_stats', stats_cols) }}
        group by app, campaign_token
    )

select
    s.app,
    s.campaign_token,
    c.campaign_name,
    c.push_time,
    c.is_live,
    c.is_dev_only,
    s.is_ab_test,
    s.first_stat_date,
    s.last_stat_date,
    s.sent,
    s.direct_open,
    s.influenced_open,
    s.reengaged,
    s.errors,
    case
        when s.sent > 0 then cast(s.direct_open as {{ dbt.type_float() }}) / s.sent
    end as direct_open_rate,
    case
        when s.sent > 0
        then cast(s.direct_open + s.influenced_open as {{ dbt.type_float() }}) / s.sent
    end as total_open_rate
from stats as s
left join
    campaigns as c on c.app = s.app and c.campaign_token = s.campaign_token and c.snapshot_rank = 1
