-- Attributed installs by install day, app and media source, joined to the installers' first
-- bookings:
-- how many installs led to an account, then to a first booking, and how fast.
with
    installs as (
        select i.install_date, i.app, i.media_source, i.install_time, i.user_id, u.first_booking_at
        from {{ ref('int_appsflyer__install') }} as i
        left join {{ ref('int_applicative__user_deposit_booking') }} as u on u.user_id = i.user_id
    )

select
    {{ composite_key(["install_date", "app", "media_source"]) }} as install_day_source_id,
    install_date,
    app,
    media_source,
    count(*) as install_count,
    count(user_id) as install_with_account_count,
    count(first_booking_at) as first_booking_count,
    {{ safe_divide('count(first_booking_at)', 'count(*)') }} as install_to_first_booking_rate,
    avg(
        case
            when first_booking_at is not null
            then {{ dbt.datediff('install_time', 'first_booking_at', 'hour') }} / 24.0
        end
    ) as avg_days_to_first_booking
from installs
group by install_date, app, media_source
