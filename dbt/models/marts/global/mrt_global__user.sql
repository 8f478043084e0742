{{ config(cluster_by=bq_cluster(['user_department_code'])) }}

with
    activity as (
        select
            user_id,
            min(event_date) as first_event_date,
            max(event_date) as last_event_date,
            count(*) as active_day_count,
            {{ as_int('sum(consult_offer_count)') }} as consult_offer_count,
            {{ as_int('sum(search_count)') }} as search_count
        from {{ ref('int_firebase__user_daily_activity') }}
        group by user_id
    ),

    last_event_day as (
        select max(event_date) as max_event_date from {{ ref('int_firebase__user_daily_activity') }}
    )

select
    u.user_id,
    u.user_creation_date,
    u.user_role,
    u.user_birth_date,
    u.user_age,
    u.user_department_code,
    u.user_postal_code,
    u.user_city,
    -- from the geocoded postal address (BAN) when its score is good enough, else null
    addr.department_code as user_address_department_code,
    addr.region_name as user_address_region_name,
    u.user_is_active,
    u.user_last_connection_date,
    u.user_has_enabled_marketing_email,
    u.user_has_enabled_marketing_push,
    u.user_role in ('BENEFICIARY', 'UNDERAGE_BENEFICIARY') as user_is_beneficiary,
    coalesce(d.deposit_count, 0) as deposit_count,
    d.first_deposit_creation_date,
    d.current_deposit_id,
    d.current_deposit_type,
    d.current_deposit_amount,
    d.current_deposit_expiration_date,
    coalesce(d.total_deposit_amount, 0) as total_deposit_amount,
    coalesce(d.total_credit_spent, 0) as total_credit_spent,
    coalesce(d.remaining_credit, 0) as remaining_credit,
    coalesce(d.total_booking_count, 0) as total_booking_count,
    coalesce(d.booking_count, 0) as booking_count,
    coalesce(d.cancelled_booking_count, 0) as cancelled_booking_count,
    coalesce(d.booked_category_count, 0) as booked_category_count,
    d.first_booking_at,
    d.last_booking_at,
    d.days_to_first_booking,
    a.first_event_date,
    a.last_event_date,
    coalesce(a.active_day_count, 0) as active_day_count,
    coalesce(a.consult_offer_count, 0) as consult_offer_count,
    coalesce(a.search_count, 0) as search_count,
    coalesce(
        a.last_event_date >= {{ add_days('l.max_event_date', -var('active_user_window_days')) }},
        false
    ) as user_is_recently_active,
    geo.region_name as user_region_name,
    coalesce(area.is_in_qpv_postal_code, false) as user_in_qpv_postal_code,
    coalesce(area.is_in_zrr, false) as user_in_zrr
from {{ ref('int_applicative__user') }} as u
left join {{ ref('int_applicative__user_deposit_booking') }} as d on u.user_id = d.user_id
left join activity as a on u.user_id = a.user_id
left join {{ ref('int_addresses__user_location') }} as addr on u.user_id = addr.user_id
cross join last_event_day as l
left join
    {{ ref('int_seed_files__department_region') }} as geo
    on u.user_department_code = geo.department_code
left join
    {{ ref('int_seed_files__postal_code_area') }} as area on u.user_postal_code = area.postal_code
