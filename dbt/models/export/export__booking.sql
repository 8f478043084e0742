-- The ministry's booking export: booking_id, user_id and deposit_id are replaced by keyed
-- pseudonyms when the file is written (data_gcp.exports). The booker's age and department are not
-- repeated on each booking (the user and deposit exports give them, generalised, by pseudonym).
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
    booking_cancellation_reason
from {{ ref("mrt_global__booking") }}
