-- Attributed installs per install day, app, media source and campaign: the accounts the installers
-- created, how many became beneficiaries (a deposit), by age at registration, and booked.
with
    installs as (
        select
            i.install_date,
            i.app,
            i.media_source,
            coalesce(i.campaign, 'unknown') as campaign,
            i.user_id,
            u.user_id as registered_user_id,
            u.user_age,
            d.first_booking_at,
            d.user_id as beneficiary_user_id
        from {{ ref('int_appsflyer__install') }} as i
        left join {{ ref('int_applicative__user') }} as u on i.user_id = u.user_id
        left join
            {{ ref('int_applicative__user_deposit_booking') }} as d
            on i.user_id = d.user_id
            and d.total_deposit_amount > 0
    )

select
    {{ composite_key(['install_date', 'app', 'media_source', 'campaign']) }}
    as install_campaign_day_id,
    install_date,
    app,
    media_source,
    campaign,
    count(*) as install_count,
    count(registered_user_id) as registration_count,
    count(case when user_age < 18 then registered_user_id end) as registration_underage_count,
    count(case when user_age >= 18 then registered_user_id end) as registration_18_plus_count,
    count(beneficiary_user_id) as beneficiary_count,
    count(first_booking_at) as first_booking_count,
    {{ safe_divide('count(beneficiary_user_id)', 'count(*)') }} as install_to_beneficiary_rate
from installs
group by install_date, app, media_source, campaign
