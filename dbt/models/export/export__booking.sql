-- The ministry's booking export (user_id pseudonymised when written).
select
    booking_id,
    user_id,
    deposit_id,
    stock_id,
    offer_id,
    venue_id,
    offerer_id,
    offer_category_id,
    offer_subcategory_id,
    booking_status,
    booking_quantity,
    booking_intermediary_amount,
    booking_creation_date,
    {{ as_date("booking_used_date") }} as booking_used_date,
    {{ as_date("booking_cancellation_date") }} as booking_cancellation_date,
    booking_cancellation_reason,
    user_age_at_booking,
    user_department_code
from {{ ref("mrt_global__booking") }}
