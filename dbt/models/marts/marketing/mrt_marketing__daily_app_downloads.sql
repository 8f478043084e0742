{{ config(cluster_by=bq_cluster(['store'])) }}
-- Daily store downloads by store (app_store, google_play), country and device.
select
    {{ composite_key(["download_date", "store", "country", "device"]) }} as download_day_id,
    download_date,
    store,
    country,
    device,
    downloads
from {{ ref('int_app_downloads__daily') }}
