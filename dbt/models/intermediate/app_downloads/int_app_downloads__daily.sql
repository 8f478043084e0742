{{ config(schema='int_app_downloads') }}
-- Daily first downloads per store, country and device: App Store first downloads (product types 1,
-- 1F, 1T, F1; re-downloads and updates left out) and Google Play daily user installs (per country;
-- the Play export gives devices separately, so its device is `all`).
{%- set apple_cols = [('report_date', 'date'), ('country', 'string'), ('device', 'string'),
    ('product_type', 'string'), ('units', 'bigint')] %}
{%- set google_cols = [('report_date', 'date'), ('dimension', 'string'), ('country', 'string'),
    ('daily_user_installs', 'bigint')] %}

select
    report_date as download_date,
    'app_store' as store,
    coalesce(country, 'unknown') as country,
    coalesce(device, 'unknown') as device,
    sum(units) as downloads
from {{ source_or_empty('raw_app_downloads', 'app_downloads_apple_download_stats', apple_cols) }}
where product_type in ('1', '1F', '1T', 'F1')
group by 1, 2, 3, 4

union all

select
    report_date as download_date,
    'google_play' as store,
    coalesce(country, 'unknown') as country,
    'all' as device,
    sum(daily_user_installs) as downloads
from {{ source_or_empty('raw_app_downloads', 'app_downloads_google_download_stats', google_cols) }}
where dimension = 'country'
group by 1, 2, 3, 4
