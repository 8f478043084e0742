-- User diversification over time: per user and month with bookings, the bookings and new
-- attributes of the month and the user's score at the month's end.
{{ config(cluster_by=bq_cluster(["user_id"])) }}

with
    monthly as (
        select
            user_id,
            {{ month_start("booking_creation_date") }} as booking_month,
            count(*) as booking_count,
            {{ as_int("sum(diversification_delta)") }} as diversification_delta,
            {{ as_int("sum(is_new_offer_category_id)") }} as new_category_count,
            {{ as_int("max(user_diversification_score)") }} as user_diversification_score,
            {{ as_int("max(user_booking_rank)") }} as user_booking_count_to_date
        from {{ ref("int_diversification__booking") }}
        group by 1, 2
    )

select
    {{ composite_key(["user_id", "booking_month"]) }} as user_month_id,
    user_id,
    booking_month,
    booking_count,
    diversification_delta,
    new_category_count,
    user_diversification_score,
    user_booking_count_to_date,
    row_number() over (partition by user_id order by booking_month) as user_active_month_rank
from monthly
