-- Pro portal page views per day and page: views, visits, pro users and structures that saw it.
{{ config(partition_by=bq_partition("event_date")) }}

select
    {{ composite_key(["event_date", "page_name"]) }} as page_view_day_id,
    event_date,
    page_name,
    count(*) as total_page_views,
    count(distinct unique_session_id) as total_visits,
    count(distinct user_id) as total_users,
    count(distinct offerer_id) as total_offerers
from {{ ref("int_firebase__pro_event") }}
where event_name = 'page_view'
group by event_date, page_name
