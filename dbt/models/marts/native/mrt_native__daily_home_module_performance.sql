-- Home page performance per day and module kind: displays, clicks (consultations from the home),
-- favourites and bookings after a click (clicked offers booked from the home later in the same
-- session, one per session and offer), with the Contentful modules of that kind on the home pages.
{{ config(**incremental_by_day("event_date")) }}

with
    interactions as (
        select
            event_date,
            home_module_type,
            count(case when interaction_type = 'display' then 1 end) as display_count,
            count(
                distinct case when interaction_type = 'display' then user_pseudo_id end
            ) as displayed_device_count,
            count(case when interaction_type = 'click' then 1 end) as click_count,
            count(
                distinct case when interaction_type = 'click' then user_pseudo_id end
            ) as clicking_device_count,
            count(case when interaction_type = 'favorite' then 1 end) as favorite_count
        from {{ ref("int_firebase__home_interaction") }}
        where {{ in_run_days("event_date") }}
        group by event_date, home_module_type
    ),

    clicks as (
        select distinct event_date, session_id, offer_id, home_module_type, event_timestamp
        from {{ ref("int_firebase__home_interaction") }}
        where interaction_type = 'click' and {{ in_run_days("event_date") }}
    ),

    bookings_after_click as (
        select
            c.event_date,
            c.home_module_type,
            count(distinct {{ composite_key(["c.session_id", "c.offer_id"]) }}) as n
        from clicks as c
        inner join
            {{ ref("int_firebase__home_interaction") }} as b
            on b.interaction_type = 'booking'
            and b.session_id = c.session_id
            and b.offer_id = c.offer_id
            and b.event_timestamp >= c.event_timestamp
            and {{ in_run_days("b.event_date") }}
        group by c.event_date, c.home_module_type
    ),

    modules as (
        select
            case
                when module_type = 'recommendation' then 'recommendation' else 'other'
            end as home_module_type,
            count(distinct module_entry_id) as contentful_module_count,
            count(distinct home_entry_id) as contentful_home_count
        from {{ ref("int_contentful__home_module") }}
        group by 1
    )

select
    {{ composite_key(["i.event_date", "i.home_module_type"]) }} as home_module_day_id,
    i.event_date,
    i.home_module_type,
    i.display_count,
    i.displayed_device_count,
    i.click_count,
    i.clicking_device_count,
    i.favorite_count,
    coalesce(b.n, 0) as booking_after_click_count,
    {{ safe_divide("i.click_count", "i.display_count") }} as click_through_rate,
    {{ safe_divide("coalesce(b.n, 0)", "i.click_count") }} as booking_per_click_rate,
    coalesce(m.contentful_module_count, 0) as contentful_module_count,
    coalesce(m.contentful_home_count, 0) as contentful_home_count
from interactions as i
left join
    bookings_after_click as b
    on i.event_date = b.event_date
    and i.home_module_type = b.home_module_type
left join modules as m on i.home_module_type = m.home_module_type
