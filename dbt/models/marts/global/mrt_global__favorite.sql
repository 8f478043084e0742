-- Favourites: which user saved which offer, when, and whether they booked it afterwards.
with
    booked as (
        select user_id, offer_id, min(booking_created_at) as first_booking_at
        from {{ ref("int_applicative__booking") }}
        where not booking_is_cancelled
        group by user_id, offer_id
    )

select
    f.favorite_id,
    f.user_id,
    f.offer_id,
    o.item_id,
    o.offer_category_id,
    o.offer_subcategory_id,
    f.favorite_creation_date,
    coalesce(b.first_booking_at >= f.favorite_creation_date, false) as favorite_is_booked_after
from {{ ref("int_applicative__favorite") }} as f
left join {{ ref("int_applicative__offer") }} as o on f.offer_id = o.offer_id
left join booked as b on f.user_id = b.user_id and f.offer_id = b.offer_id
