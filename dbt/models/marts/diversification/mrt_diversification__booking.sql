-- Per non-cancelled booking: which attributes were new to the user (category, subcategory,
-- format, venue type, venue, genre), the booking's diversification delta and the user's score
-- after it.
{{ config(partition_by=bq_partition("booking_creation_date")) }}

select
    booking_id,
    user_id,
    booking_created_at,
    booking_creation_date,
    user_booking_rank,
    offer_category_id,
    offer_subcategory_id,
    offer_format,
    venue_type_code,
    venue_id,
    offer_genre,
    is_new_offer_category_id = 1 as is_new_category,
    is_new_offer_subcategory_id = 1 as is_new_subcategory,
    is_new_offer_format = 1 as is_new_format,
    is_new_venue_type_code = 1 as is_new_venue_type,
    is_new_venue_id = 1 as is_new_venue,
    is_new_offer_genre = 1 as is_new_genre,
    {{ as_int("diversification_delta") }} as diversification_delta,
    {{ as_int("user_diversification_score") }} as user_diversification_score
from {{ ref("int_diversification__booking") }}
