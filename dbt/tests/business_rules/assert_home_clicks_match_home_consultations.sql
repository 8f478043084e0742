-- App usage: the home module clicks of a day are exactly that day's offer consultations from the
-- home page in the app events (no click lost or double counted by the module split).
with
    events as (
        select event_date, count(*) as n
        from {{ ref("int_firebase__event") }}
        where event_name = 'ConsultOffer' and origin = 'home' and {{ in_run_days("event_date") }}
        group by event_date
    ),

    mart as (
        select event_date, sum(click_count) as n
        from {{ ref("mrt_native__daily_home_module_performance") }}
        where {{ in_run_days("event_date") }}
        group by event_date
    )

select coalesce(e.event_date, m.event_date) as event_date, e.n as events, m.n as clicks
from events as e
full outer join mart as m on e.event_date = m.event_date
where coalesce(e.n, 0) <> coalesce(m.n, 0)
