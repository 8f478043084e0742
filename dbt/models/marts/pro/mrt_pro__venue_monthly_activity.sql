-- Venue activity per month: offers created, offers bookable, bookings and revenue (the credit
-- spent on non-cancelled bookings made that month), individual and collective.
{{ config(cluster_by=bq_cluster(["venue_id"])) }}

with
    bookings as (
        select
            venue_id,
            {{ month_start("booking_creation_date") }} as activity_month,
            count(case when not booking_is_cancelled then 1 end) as booking_count,
            count(case when booking_is_cancelled then 1 end) as cancelled_booking_count,
            coalesce(
                sum(case when not booking_is_cancelled then booking_intermediary_amount end), 0
            ) as revenue_amount,
            count(
                distinct case when not booking_is_cancelled then user_id end
            ) as booking_user_count
        from {{ ref("int_applicative__booking") }}
        group by 1, 2
    ),

    collective as (
        select
            venue_id,
            {{ month_start("collective_booking_creation_date") }} as activity_month,
            count(*) as collective_booking_count,
            sum(collective_booking_amount) as collective_revenue_amount
        from {{ ref("int_applicative__collective_booking") }}
        where not collective_booking_is_cancelled
        group by 1, 2
    ),

    keys as (
        select venue_id, activity_month
        from {{ ref("int_pro__venue_monthly_offer") }}
        union distinct
        select venue_id, activity_month
        from bookings
        union distinct
        select venue_id, activity_month
        from collective
    )

select
    {{ composite_key(["k.venue_id", "k.activity_month"]) }} as venue_month_id,
    k.venue_id,
    v.offerer_id,
    k.activity_month,
    v.venue_type_code,
    v.venue_department_code,
    coalesce(o.offer_created_count, 0) as offer_created_count,
    coalesce(o.bookable_offer_count, 0) as bookable_offer_count,
    coalesce(b.booking_count, 0) as booking_count,
    coalesce(b.cancelled_booking_count, 0) as cancelled_booking_count,
    coalesce(b.booking_user_count, 0) as booking_user_count,
    coalesce(b.revenue_amount, 0) as revenue_amount,
    coalesce(c.collective_booking_count, 0) as collective_booking_count,
    coalesce(c.collective_revenue_amount, 0) as collective_revenue_amount
from keys as k
left join {{ ref("int_applicative__venue") }} as v on k.venue_id = v.venue_id
left join
    {{ ref("int_pro__venue_monthly_offer") }} as o
    on k.venue_id = o.venue_id
    and k.activity_month = o.activity_month
left join bookings as b on k.venue_id = b.venue_id and k.activity_month = b.activity_month
left join collective as c on k.venue_id = c.venue_id and k.activity_month = c.activity_month
