-- Diversification across all users per month: how much the month's bookings broadened practices.
select
    {{ month_start("booking_creation_date") }} as booking_month,
    count(*) as booking_count,
    count(distinct user_id) as booking_user_count,
    avg({{ as_float("diversification_delta") }}) as avg_diversification_delta,
    count(case when is_new_offer_category_id = 1 then 1 end) as new_category_booking_count,
    count(case when user_booking_rank = 1 then 1 end) as first_booking_count
from {{ ref("int_diversification__booking") }}
group by 1
