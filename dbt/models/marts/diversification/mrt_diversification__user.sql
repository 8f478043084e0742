-- Per user who booked: how diverse their cultural practice is (distinct categories, subcategories,
-- formats, venue types, venues, genres) and their diversification score.
with
    per_user as (
        select
            user_id,
            count(*) as booking_count,
            count(distinct offer_category_id) as category_count,
            count(distinct offer_subcategory_id) as subcategory_count,
            count(distinct offer_format) as format_count,
            count(distinct venue_type_code) as venue_type_count,
            count(distinct venue_id) as venue_count,
            count(distinct offer_genre) as genre_count,
            {{ as_int("sum(diversification_delta)") }} as diversification_score,
            min(booking_created_at) as first_booking_at,
            max(booking_created_at) as last_booking_at
        from {{ ref("int_diversification__booking") }}
        group by user_id
    )

select
    p.user_id,
    u.user_department_code,
    p.booking_count,
    p.category_count,
    p.subcategory_count,
    p.format_count,
    p.venue_type_count,
    p.venue_count,
    p.genre_count,
    p.diversification_score,
    {{ safe_divide("p.diversification_score", "p.booking_count") }} as diversification_per_booking,
    p.first_booking_at,
    p.last_booking_at
from per_user as p
left join {{ ref("int_applicative__user") }} as u on p.user_id = u.user_id
