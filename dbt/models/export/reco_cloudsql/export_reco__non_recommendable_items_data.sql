-- The app's `non_recommendable_items_data` table: the items each user booked (not cancelled),
-- never recommended to them again.
select distinct user_id, item_id
from {{ ref("mrt_global__booking") }}
where not booking_is_cancelled and item_id is not null
