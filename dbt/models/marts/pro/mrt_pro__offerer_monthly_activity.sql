-- Offerer activity per month: its venues' offers created, bookable, bookings and revenue.
{{ config(cluster_by=bq_cluster(["offerer_id"])) }}

select
    {{ composite_key(["offerer_id", "activity_month"]) }} as offerer_month_id,
    offerer_id,
    activity_month,
    count(distinct venue_id) as active_venue_count,
    {{ as_int("sum(offer_created_count)") }} as offer_created_count,
    {{ as_int("sum(bookable_offer_count)") }} as bookable_offer_count,
    {{ as_int("sum(booking_count)") }} as booking_count,
    {{ as_int("sum(cancelled_booking_count)") }} as cancelled_booking_count,
    sum(revenue_amount) as revenue_amount,
    {{ as_int("sum(collective_booking_count)") }} as collective_booking_count,
    sum(collective_revenue_amount) as collective_revenue_amount
from {{ ref("mrt_pro__venue_monthly_activity") }}
group by offerer_id, activity_month
