-- Pro portal page views per day and page: views, visits, pro users and structures that saw it.
{{ config(**incremental_by_day("event_date")) }}

select
    {{ composite_key(["event_date", "page_name"]) }} as page_view_day_id,
    event_date,
    page_name,
    count(*) as total_page_views,
    count(distinct unique_session_id) as total_visits,
    count(distinct user_id) as total_users,
    count(distinct offerer_id) as total_offerers
from {{ ref("int_firebase__pro_event") }}
where event_name = 'page_view' and {{ in_run_days("event_date") }}
group by event_date, page_name
