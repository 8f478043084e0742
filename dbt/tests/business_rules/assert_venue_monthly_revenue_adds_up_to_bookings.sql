-- Pro side: the venues' monthly revenue adds up, month by month, to the non-cancelled bookings'
-- amounts of the bookings mart, and the offerers' to the venues'.
with
    bookings as (
        select
            {{ month_start("booking_creation_date") }} as activity_month,
            sum(booking_intermediary_amount) as amount
        from {{ ref("mrt_global__booking") }}
        where not booking_is_cancelled
        group by 1
    ),

    venues as (
        select activity_month, sum(revenue_amount) as amount
        from {{ ref("mrt_pro__venue_monthly_activity") }}
        group by 1
    ),

    offerers as (
        select activity_month, sum(revenue_amount) as amount
        from {{ ref("mrt_pro__offerer_monthly_activity") }}
        group by 1
    )

select
    coalesce(b.activity_month, v.activity_month) as activity_month,
    b.amount as bookings,
    v.amount as venues,
    o.amount as offerers
from bookings as b
full outer join venues as v on b.activity_month = v.activity_month
left join offerers as o on v.activity_month = o.activity_month
where
    abs(coalesce(b.amount, 0) - coalesce(v.amount, 0)) > 0.01
    or abs(coalesce(v.amount, 0) - coalesce(o.amount, 0)) > 0.01
