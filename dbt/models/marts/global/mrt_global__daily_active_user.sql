-- Daily active users: users with at least one app event that day, and what they did.
-- Incremental by day: a run rebuilds the days it touches and those whose bookings changed.
{{ config(**incremental_by_day('activity_date')) }}

with
    booking_days as ({{ booking_days_to_rebuild(ref('int_applicative__booking')) }}),

    events as (
        select
            event_date as activity_date,
            count(*) as active_user_count,
            count(case when consult_offer_count > 0 then 1 end) as consulting_user_count,
            count(case when search_count > 0 then 1 end) as searching_user_count,
            {{ as_int('sum(event_count)') }} as event_count
        from {{ ref('int_firebase__user_daily_activity') }}
        where {{ in_run_days('event_date') }} or event_date in (select day from booking_days)
        group by event_date
    ),

    bookings as (
        select booking_creation_date as activity_date, count(distinct user_id) as booking_user_count
        from {{ ref('int_applicative__booking') }}
        where
            not booking_is_cancelled
            and (
                {{ in_run_days('booking_creation_date') }}
                or booking_creation_date in (select day from booking_days)
            )
        group by booking_creation_date
    )

select
    coalesce(events.activity_date, bookings.activity_date) as activity_date,
    coalesce(events.active_user_count, 0) as active_user_count,
    coalesce(events.consulting_user_count, 0) as consulting_user_count,
    coalesce(events.searching_user_count, 0) as searching_user_count,
    coalesce(bookings.booking_user_count, 0) as booking_user_count,
    coalesce(events.event_count, 0) as event_count
from events
full outer join bookings on events.activity_date = bookings.activity_date
