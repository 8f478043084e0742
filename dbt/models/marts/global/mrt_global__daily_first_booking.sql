-- Time to first booking: users who made their first (non-cancelled) booking that day, by
-- department,
-- and how many days after their first deposit.
{{ config(partition_by=bq_partition('first_booking_date')) }}

select
    {{ dbt.concat([
        "cast(" ~ as_date('d.first_booking_at') ~ " as " ~ dbt.type_string() ~ ")", "'|'",
        "coalesce(u.user_department_code, 'UNKNOWN')"]) }} as kpi_id,
    {{ as_date('d.first_booking_at') }} as first_booking_date,
    coalesce(u.user_department_code, 'UNKNOWN') as user_department_code,
    count(*) as first_booking_user_count,
    avg({{ as_float('d.days_to_first_booking') }}) as avg_days_to_first_booking,
    count(case when d.days_to_first_booking <= 7 then 1 end) as booked_within_7_days_count,
    count(case when d.days_to_first_booking <= 30 then 1 end) as booked_within_30_days_count,
    max(d.days_to_first_booking) as max_days_to_first_booking
from {{ ref('int_applicative__user_deposit_booking') }} as d
inner join {{ ref('int_applicative__user') }} as u on d.user_id = u.user_id
where d.first_booking_at is not null and d.days_to_first_booking is not null
group by 1, 2, 3
