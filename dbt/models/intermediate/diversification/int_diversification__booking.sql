-- Each non-cancelled booking of a user, in booking order, with what it adds to the user's cultural
-- practice: a new category, subcategory, format (event, digital, physical good), venue type, venue
-- or genre. As the original platform's diversification score: the booking's delta is the number of
-- new attributes (the first booking is new on every attribute it has), and the user's score after a
-- booking is the running sum of the deltas.
with
    bookings as (
        select
            b.booking_id,
            b.user_id,
            b.booking_created_at,
            b.booking_creation_date,
            b.venue_id,
            b.booking_intermediary_amount,
            m.offer_category_id,
            m.offer_subcategory_id,
            m.offer_format,
            m.venue_type_code,
            m.offer_genre
        from {{ ref("int_applicative__booking") }} as b
        inner join {{ ref("int_applicative__offer_metadata") }} as m on b.offer_id = m.offer_id
        where not b.booking_is_cancelled
    ),

    ranked as (
        select
            bookings.*,
            row_number() over (
                partition by user_id order by booking_created_at, booking_id
            ) as user_booking_rank,
            {% for f in [
                "offer_category_id",
                "offer_subcategory_id",
                "offer_format",
                "venue_type_code",
                "venue_id",
                "offer_genre",
            ] %}
                case
                    when {{ f }} is null
                    then 0
                    when
                        row_number() over (
                            partition by user_id, {{ f }} order by booking_created_at, booking_id
                        )
                        = 1
                    then 1
                    else 0
                end as is_new_{{ f }}{{ "," if not loop.last }}
            {% endfor %}
        from bookings
    )

select
    ranked.*,
    is_new_offer_category_id
    + is_new_offer_subcategory_id
    + is_new_offer_format
    + is_new_venue_type_code
    + is_new_venue_id
    + is_new_offer_genre as diversification_delta,
    sum(
        is_new_offer_category_id
        + is_new_offer_subcategory_id
        + is_new_offer_format
        + is_new_venue_type_code
        + is_new_venue_id
        + is_new_offer_genre
    ) over (
        partition by user_id
        order by booking_created_at, booking_id
        rows between unbounded preceding and current row
    ) as user_diversification_score
from ranked
