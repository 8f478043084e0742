-- First-booking conversion by cohort: users by the month of their first deposit, and how many made
-- a first (non-cancelled) booking within 7, 30 and 90 days of it, or at all.
with
    users as (
        select
            d.user_id,
            {{ month_start("d.first_deposit_creation_date") }} as cohort_month,
            d.days_to_first_booking,
            u.user_department_code
        from {{ ref("int_applicative__user_deposit_booking") }} as d
        inner join {{ ref("int_applicative__user") }} as u on d.user_id = u.user_id
        where d.first_deposit_creation_date is not null
    )

select
    cohort_month,
    count(*) as cohort_user_count,
    count(case when days_to_first_booking <= 7 then 1 end) as first_booking_within_7_days_count,
    count(case when days_to_first_booking <= 30 then 1 end) as first_booking_within_30_days_count,
    count(case when days_to_first_booking <= 90 then 1 end) as first_booking_within_90_days_count,
    count(days_to_first_booking) as first_booking_count,
    {{ safe_divide("count(case when days_to_first_booking <= 30 then 1 end)", "count(*)") }}
    as conversion_30_days_rate,
    {{ safe_divide("count(days_to_first_booking)", "count(*)") }} as conversion_rate,
    avg({{ as_float("days_to_first_booking") }}) as avg_days_to_first_booking
from users
group by cohort_month
