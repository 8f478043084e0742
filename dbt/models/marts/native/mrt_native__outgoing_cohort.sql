-- Credits that have expired, by month of expiry, credit type and department: how many young people
-- left the scheme, what they had been granted, what they spent, how many bookings and how many
-- explored at least three categories. Compares the use of the pass by cohort of leavers.
with
    expired as (
        select
            d.deposit_id,
            d.user_id,
            d.deposit_type,
            d.deposit_amount as granted_amount,
            d.deposit_spent_amount,
            {{ month_start("d.deposit_expiration_date") }} as user_expiration_month,
            coalesce(u.user_department_code, 'unknown') as user_department_code
        from {{ ref("int_applicative__deposit") }} as d
        left join {{ ref("int_applicative__user") }} as u on d.user_id = u.user_id
        where d.deposit_is_expired
    ),

    bookings as (
        select
            deposit_id,
            count(*) as booking_count,
            count(case when booking_quantity = 2 then 1 end) as duo_booking_count,
            count(case when booking_amount = 0 then 1 end) as free_booking_count,
            count(distinct offer_category_id) as category_count
        from {{ ref("mrt_global__booking") }}
        where not booking_is_cancelled
        group by deposit_id
    )

select
    {{ composite_key(["e.user_expiration_month", "e.deposit_type", "e.user_department_code"]) }}
    as outgoing_cohort_id,
    e.user_expiration_month,
    e.deposit_type,
    e.user_department_code,
    count(distinct e.user_id) as total_users,
    sum(e.granted_amount) as total_deposit_amount,
    sum(e.deposit_spent_amount) as total_amount_spent,
    {{ as_int("coalesce(sum(b.booking_count), 0)") }} as total_non_cancelled_bookings,
    {{ as_int("coalesce(sum(b.duo_booking_count), 0)") }} as total_non_cancelled_duo_bookings,
    {{ as_int("coalesce(sum(b.free_booking_count), 0)") }} as total_free_bookings,
    count(
        distinct case when b.category_count >= 3 then e.user_id end
    ) as total_3_category_booked_users,
    count(distinct case when b.booking_count > 0 then e.user_id end) as total_booking_users
from expired as e
left join bookings as b on e.deposit_id = b.deposit_id
group by e.user_expiration_month, e.deposit_type, e.user_department_code
