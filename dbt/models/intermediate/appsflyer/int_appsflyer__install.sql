{{ config(schema='int_appsflyer') }}
-- Attributed installs, one row per install, with the app's user id when the installer created an
-- account (AppsFlyer's customer user id).
{%- set cols = [('app', 'string'), ('install_date', 'date'), ('install_time', 'timestamp'),
    ('media_source', 'string'), ('campaign', 'string'), ('country_code', 'string'),
    ('appsflyer_id', 'string'), ('customer_user_id', 'string')] %}

select
    app,
    install_date,
    install_time,
    coalesce(media_source, 'unknown') as media_source,
    campaign,
    country_code,
    appsflyer_id,
    {{ as_id(dbt.safe_cast('customer_user_id', dbt.type_bigint())) }} as user_id
from {{ source_or_empty('raw_appsflyer', 'appsflyer_installs', cols) }}
